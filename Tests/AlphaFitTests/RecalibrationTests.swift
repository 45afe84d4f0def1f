import ConvKernels
import Foundation
import Testing

@testable import AlphaFit

@Suite struct RecalibrationTests {
    private let truthA: [String: [Double]] = ["K=1": [0.02, 1.1, 3e-8], "K>1": [0.005, 0.9, 5e-8]]

    private func rows(_ shapes: [ConvShape], scale: Double, noise: Double, seed: UInt64) -> [FitRow] {
        let k1 = shapes.filter { $0.kernelSize == 1 }
        let rest = shapes.filter { $0.kernelSize > 1 }
        func scaled(_ p: [Double]) -> [Double] { [p[0], p[1], p[2] * scale] }
        return syntheticRows(
            k1, model: .alpha, parameters: scaled(truthA["K=1"]!), convention: .standard, noise: noise, seed: seed)
            + syntheticRows(
                rest, model: .alpha, parameters: scaled(truthA["K>1"]!), convention: .standard, noise: noise,
                seed: seed + 1)
    }

    private func baseFit() -> FitReport {
        FitReport(
            model: .alpha, grouping: .k1Rest, flopsConvention: .standard,
            fits: truthA.sorted { $0.key < $1.key }.map { name, p in
                GroupFit(group: name, parameters: ["beta": p[0], "gamma": p[1], "final": p[2]])
            })
    }

    @Test func aMachineThreeTimesSlowerIsRecoveredFromAFewRows() throws {
        let shapes = gridShapes(count: 20, seed: 3, kernels: [1, 3, 5, 7])
        let recalibrated = try Recalibration.refitFinal(baseFit(), to: rows(shapes, scale: 3, noise: 0, seed: 4))
        for group in recalibrated.fits {
            let expected = 3 * truthA[group.group]![2]
            #expect(abs(group.parameters["final"]! / expected - 1) < 1e-12, "\(group.group)")
            #expect(group.parameters["beta"] == truthA[group.group]![0])
        }
    }

    @Test func theDesignSpreadsOverFlopsAndKernelsInEveryGroup() {
        let shapes = gridShapes(count: 2000, seed: 7, kernels: Array(1...14))
        let chosen = Recalibration.Design.choose(30, from: shapes, grouping: .k1Rest)
        #expect(chosen.count == 30 && Set(chosen).count == 30)
        let picked = chosen.map { shapes[$0] }
        #expect(picked.filter { $0.kernelSize == 1 }.count >= 2)
        #expect(Set(picked.map(\.kernelHeight)).count >= 10)
        let flops = picked.map { log10(Accounting(shape: $0).flops) }.sorted()
        let all = shapes.map { log10(Accounting(shape: $0).flops) }.sorted()
        // The picks span most of the candidates' range of FLOPs.
        #expect(flops.first! - all.first! < 0.25 * (all.last! - all.first!))
        #expect(all.last! - flops.last! < 0.25 * (all.last! - all.first!))
        #expect(Recalibration.Design.choose(30, from: shapes, grouping: .k1Rest) == chosen)
    }

    @Test func evaluationComparesWithAFullRefitOnHeldOutRows() throws {
        let shapes = gridShapes(count: 400, seed: 9, kernels: [1, 3, 5])
        let data = dataset(rows(shapes, scale: 2, noise: 0.02, seed: 10))
        var base = baseFit()
        base.options = FitOptions(starts: 2)
        let evaluations = try Recalibration.evaluate(base: base, data: data, counts: [10, 30])
        #expect(evaluations.map(\.count) == [10, 30])
        for e in evaluations {
            #expect(e.recalibrated.n == 400 - e.count)
            // The truth differs only in scale: recalibration nearly matches a full refit, and is
            // far better than the base fit unchanged.
            #expect(e.rmseRatio < (e.count == 10 ? 1.3 : 1.1) && e.base.rmseMs > 10 * e.recalibrated.rmseMs)
            // The full refit judged held out predicts the same rows, none it was fitted on: worse
            // than in sample, by little (the 2% noise, an alpha model of three parameters).
            let heldOut = try #require(e.fullRefitHeldOut)
            #expect(heldOut.n == e.fullRefit.n)
            #expect(heldOut.rmseMs > e.fullRefit.rmseMs && heldOut.rmseMs < 1.5 * e.fullRefit.rmseMs)
        }
        #expect(throws: FitInputError.self) { try Recalibration.evaluate(base: base, data: data, counts: [400]) }
    }
}

@Test func anotherKernelSetMovesGammaAndRefittingItRecoversTheTruth() throws {
    // Machine B: a different gamma and final. Refitting final alone cannot follow; gamma and
    // final together recover B's parameters from 60 rows.
    let shapes = gridShapes(count: 60, seed: 21, kernels: [3, 5, 7])
    let truthB = [0.005, 1.3, 9e-8]
    let rows = syntheticRows(shapes, model: .alpha, parameters: truthB, convention: .standard, noise: 0, seed: 22)
    let base = FitReport(
        model: .alpha, grouping: .k1Rest, flopsConvention: .standard,
        fits: [
            GroupFit(group: "K=1", parameters: ["beta": 0.02, "gamma": 1.1, "final": 3e-8]),
            GroupFit(group: "K>1", parameters: ["beta": 0.005, "gamma": 0.9, "final": 5e-8]),
        ])
    let k1 = syntheticRows(
        gridShapes(count: 10, seed: 23, kernels: [1]), model: .alpha, parameters: [0.02, 1.1, 6e-8],
        convention: .standard, noise: 0, seed: 24)
    let finalOnly = try Recalibration.refit(base, parameters: ["final"], to: rows + k1)
    let both = try Recalibration.refit(base, parameters: ["gamma", "final"], to: rows + k1)
    let group = try #require(both.fits.first { $0.group == "K>1" })
    #expect(abs(group.parameters["gamma"]! - 1.3) < 1e-6 && abs(group.parameters["final"]! / 9e-8 - 1) < 1e-6)
    #expect(group.parameters["beta"] == 0.005)
    #expect(
        try Recalibration.errors(both, on: rows).rmseMs < 1e-6 * (try Recalibration.errors(finalOnly, on: rows).rmseMs))
    #expect(throws: FitInputError.self) { try Recalibration.refit(base, parameters: ["zeta"], to: rows) }
}

/// Recalibrating a gemm-work fit: only its rates move, and an anchored refit of every rate from
/// a few rows follows a machine whose rates moved unevenly.
@Suite struct GemmWorkRecalibrationTests {
    let setting = WorkSetting(level2Bytes: 512 << 10, lastLevelBytes: 32 << 20)
    /// Machine A's rates (as `GemmWorkTests.truth`): tiles 8 × 4, three cache levels.
    let truthA: [Double] = [
        11, 6, 8, 20, 25, 40, 22, 30, 45, 25, 35, 50, 10, 4, 5, 0.4, 30, 60, 70, 0.002, 8, 4, 3, 1e6, 16, 128, 1, 256,
    ]

    /// Machine B: 1.3 times slower all over, its arithmetic 1.6 times (other kernels move the
    /// rates unevenly).
    var truthB: [Double] {
        var p = truthA
        for k in 0..<GemmWorkModel.positionsTile { p[k] *= 1.3 }
        p[0] *= 1.6 / 1.3
        return p
    }

    func rows(_ shapes: [ConvShape], _ p: [Double], noise: Double = 0, seed: UInt64 = 1) -> [FitRow] {
        var generator = SeededGenerator(seed: seed)
        return shapes.enumerated().map { i, shape in
            let point = ModelPoint(shape: shape, convention: .standard, bytes: .algorithm, setting: setting)
            let time = FitModel.gemmWork.predict(point, p) * (1 + noise * Double.random(in: -1...1, using: &generator))
            return FitRow(shape: shape, timeMs: time, input: 0, row: i + 2)
        }
    }

    var base: FitReport {
        let names = FitModel.gemmWork.parameterNames
        return FitReport(
            model: .gemmWork, grouping: .k1Rest, flopsConvention: .standard,
            fits: ["K=1", "K>1"].map {
                GroupFit(group: $0, parameters: Dictionary(uniqueKeysWithValues: zip(names, truthA)))
            },
            options: FitOptions(model: .gemmWork, loss: .relative, workSetting: setting))
    }

    @Test func theScaleMovesTheRatesAndKeepsTilesAndLevels() throws {
        let shapes = gridShapes(count: 40, seed: 31, kernels: [1, 3, 5])
        var slower = truthA
        for k in 0..<GemmWorkModel.positionsTile { slower[k] *= 2 }
        let recalibrated = try Recalibration.refitFinal(base, to: rows(shapes, slower))
        for group in recalibrated.fits {
            #expect(abs(group.parameters["msPerGflop"]! / 22 - 1) < 1e-9, "\(group.group)")
            #expect(group.parameters["positionsTile"] == 8 && group.parameters["channelsTile"] == 4)
            #expect(group.parameters["cacheLevels"] == 3, "a scale is not a number of cache levels")
        }
        #expect(
            Recalibration.refittable(.gemmWork).count == GemmWorkModel.positionsTile
                && Recalibration.refittable(.alpha).count == 3)
    }

    @Test func aRefitFromAFewRowsKeepsTheBaseFitsLevelsAndTiles() throws {
        // 30 rows are fewer than the 60 distinct layers a fit of its own needs for three levels:
        // the refit keeps A's three levels (and tiles) instead of holding one level.
        let shapes = gridShapes(count: 30, seed: 32, kernels: [1, 3, 5])
        let recalibrated = try Recalibration.refit(
            base, parameters: ["msPerGflop", "final"], to: rows(shapes, truthB), anchoring: .free)
        let group = try #require(recalibrated.fits.first { $0.group == "K>1" })
        #expect(group.parameters["cacheLevels"] == 3 && group.parameters["positionsTile"] == 8)
        #expect(group.anchorStrength == nil)
    }

    @Test func anAnchoredRefitOfEveryRateFollowsAnUnevenMove() throws {
        let calibration = rows(gridShapes(count: 30, seed: 33, kernels: [1, 3, 5, 7]), truthB, noise: 0.02, seed: 2)
        let heldOut = rows(gridShapes(count: 300, seed: 34, kernels: [1, 3, 5, 7]), truthB)
        let scaled = try Recalibration.refit(base, parameters: ["final"], to: calibration)
        let anchored = try Recalibration.refit(
            base, parameters: Set(Recalibration.refittable(.gemmWork)), to: calibration, anchoring: .chosen)
        let scaledError = try Recalibration.errors(scaled, on: heldOut).mapePercent
        let anchoredError = try Recalibration.errors(anchored, on: heldOut).mapePercent
        #expect(anchoredError < 0.7 * scaledError, "anchored \(anchoredError)% against the scale's \(scaledError)%")
        for group in anchored.fits {
            let strength = try #require(group.anchorStrength)
            #expect(Recalibration.candidateStrengths.contains(strength))
            // A rate no calibration row exercises keeps A's value, scaled: never 0.
            #expect(
                FitModel.gemmWork.parameterNames.prefix(GemmWorkModel.positionsTile).allSatisfy {
                    (group.parameters[$0] ?? 0) > 0
                })
            #expect(group.parameters["cacheLevels"] == 3)
        }
        // The strongest anchor is the scale alone; none at all, with rows enough, the free refit.
        let strong = try Recalibration.refit(
            base, parameters: Set(Recalibration.refittable(.gemmWork)), to: calibration, anchoring: .strength(1e9))
        for (a, b) in zip(strong.fits, scaled.fits) {
            for (name, value) in b.parameters { #expect(abs(a.parameters[name]! / value - 1) < 1e-4, "\(name)") }
        }
        #expect(throws: FitInputError.self) {
            try Recalibration.refit(base, parameters: ["msPerGflop"], to: calibration, anchoring: .strength(-1))
        }
    }
}

extension GemmWorkRecalibrationTests {
    @Test func anAnchoredRefitThatFreesTheTilesKeepsTheTilesItsRowsChoose() throws {
        // Machine B's kernels have a register tile of 16 positions, A's of 8.
        var tiled = truthB
        tiled[GemmWorkModel.positionsTile] = 16
        let calibration = rows(gridShapes(count: 200, seed: 35, kernels: [1, 3, 5]), tiled)
        let free = Set(Recalibration.refittable(.gemmWork) + ["positionsTile"])
        for anchoring in [Recalibration.Anchoring.strength(0), .strength(1e-4), .chosen] {
            let refit = try Recalibration.refit(base, parameters: free, to: calibration, anchoring: anchoring)
            for group in refit.fits {
                #expect(group.parameters["positionsTile"] == 16, "\(group.group), \(anchoring), n \(group.n ?? 0)")
                #expect(group.parameters["channelsTile"] == 4 && group.parameters["cacheLevels"] == 3)
            }
        }
    }
}
