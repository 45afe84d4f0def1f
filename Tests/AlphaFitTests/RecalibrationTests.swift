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
