import ConvKernels
import Foundation
import Testing

@testable import AlphaFit

/// The serial-share model: a base model's one-thread time, a share of which stays serial at p
/// threads, the share a logistic function of where the layer's work sits.
@Suite struct SerialShareTests {
    /// alpha-FLOPs' one-thread parameters the synthetic rows are timed with.
    static let alpha = [0.1, 1.0, 0.02]
    /// The share's: log-odds −1.5 at the centre, less serial with more positions, more with more taps.
    static let share = [-1.5, -0.4, 0.3, 0.0]

    /// Rows of `shapes` at each of `counts`, timed by alpha-FLOPs × the share, noise 1% (seeded).
    static func rows(_ shapes: [ConvShape], counts: [Int], centres: [Double]) -> [FitRow] {
        let ones = syntheticRows(
            shapes, model: .alpha, parameters: alpha, convention: .standard, noise: 0.01, seed: 7)
        var rows: [FitRow] = []
        for (i, one) in ones.enumerated() {
            let sigma = SerialShareFit.share(share, logs: SerialShareFit.logs(one.shape), centres: centres)
            for p in counts {
                var row = one
                row.timeMs = one.timeMs * (sigma + (1 - sigma) / Double(p))
                row.carried = ["config_id": "c\(i)@threads=\(p)", "threads": "\(p)"]
                row.row = rows.count + 2
                rows.append(row)
            }
        }
        return rows
    }

    static func centres(_ shapes: [ConvShape]) -> [Double] {
        (0..<3).map { k in shapes.map { SerialShareFit.logs($0)[k] }.reduce(0, +) / Double(shapes.count) }
    }

    @Test func recoversTheShareAndPredictsACountLeftOut() throws {
        let shapes = gridShapes(count: 200, seed: 3, kernels: [1, 3, 5])
        let centres = Self.centres(shapes)
        let rows = Self.rows(shapes, counts: [1, 2, 4], centres: centres)
        let options = FitOptions(model: .alpha, grouping: .k1Rest, loss: .relative, seed: 1)
        let fit = try SerialShareFitter(options: options).fit(rows, inputName: "synthetic")
        #expect(fit.counts == [1, 2, 4])
        let dense = try #require(fit.groups.first { $0.group == "K>1" })
        #expect(dense.nParallel == 2 * dense.n / 3)
        // The slopes' signs and sizes come back, and every layer's share.
        #expect(abs(dense.share["perLnPositions"]! - Self.share[1]) < 0.1)
        #expect(abs(dense.share["perLnTaps"]! - Self.share[2]) < 0.1)
        #expect(abs(dense.share["perLnChannels"]!) < 0.1)
        for shape in shapes {
            let truth = SerialShareFit.share(Self.share, logs: SerialShareFit.logs(shape), centres: centres)
            #expect(abs(try fit.serialShare(shape) - truth) < 0.03)
        }
        // In the K = 1 group every layer has one tap: that slope is held, with its reason.
        let pointwise = try #require(fit.groups.first { $0.group == "K=1" })
        #expect(pointwise.fixed.contains("perLnTaps"))
        // A layer's prediction at 8 threads follows Amdahl's law with its share.
        let shape = shapes[0]
        let sigma = try fit.serialShare(shape)
        let one = try fit.predict(shape, threads: 1)
        #expect(abs(try fit.predict(shape, threads: 8) / one - (sigma + (1 - sigma) / 8)) < 1e-12)

        let judgement = try SerialShareFitter(options: options).judge(dataset(rows), folds: 4, seed: 5)
        #expect(judgement.configurations == 200)
        #expect(judgement.heldOut.map(\.threads) == [1, 2, 4])
        for count in judgement.heldOut {
            #expect(count.perCount.n == 200 && count.acrossCounts.n == 200)
            // The rows are the model's own: held out, almost every row within ±10%.
            #expect(count.acrossCounts.within10Percent > 95)
        }
        // At 4 threads the share moves with the layer, which no per-count alpha fit follows.
        let four = judgement.heldOut[2]
        #expect(four.acrossCounts.mapePercent < four.perCount.mapePercent)
        #expect(four.better != "per count")
        // Left out, 2 and 4 threads are predicted from the other two counts.
        #expect(judgement.countLeftOut.map(\.threads) == [2, 4])
        #expect(judgement.countLeftOut.map(\.fittedOn) == [[1, 4], [1, 2]])
        for left in judgement.countLeftOut { #expect(left.acrossCounts.within10Percent > 95) }
    }

    @Test func twoCountsAreJudgedOnConfigurationsOnly() throws {
        let shapes = gridShapes(count: 60, seed: 4, kernels: [3])
        let rows = Self.rows(shapes, counts: [1, 2], centres: Self.centres(shapes))
        let options = FitOptions(model: .alpha, grouping: .perK, loss: .relative, seed: 1)
        let judgement = try SerialShareFitter(options: options).judge(dataset(rows), folds: 3, seed: 1)
        #expect(judgement.countLeftOut.isEmpty)
        // One kernel size: the taps' slope cannot be told and is held, said with its reason.
        let group = try #require(judgement.fit.groups.first)
        #expect(group.fixed.contains("perLnTaps"))
        #expect(group.share["perLnTaps"] == 0)
        #expect(group.notes.contains { $0.contains("perLnTaps held at 0") && $0.contains("K1·K2") })
    }

    @Test func configurationsStayTogetherInTheFolds() throws {
        // Every count of a configuration is held out together: with a per-configuration factor the
        // rows at 2 threads would betray it. Two folds of 40 configurations: each held out once.
        let shapes = gridShapes(count: 40, seed: 5, kernels: [1, 3])
        let rows = Self.rows(shapes, counts: [1, 2], centres: Self.centres(shapes))
        let options = FitOptions(model: .alpha, grouping: .k1Rest, loss: .relative, seed: 1)
        let judgement = try SerialShareFitter(options: options).judge(dataset(rows), folds: 2, seed: 9)
        #expect(judgement.configurations == 40)
        #expect(judgement.heldOut.allSatisfy { $0.perCount.n == 40 })
        #expect(Set(judgement.fit.groups.map(\.group)) == ["K=1", "K>1"])
    }

    @Test func refusesRowsItCannotFit() throws {
        let shapes = gridShapes(count: 20, seed: 6, kernels: [3])
        let options = FitOptions(model: .alpha, grouping: .perK, loss: .relative)
        // One count: nothing across counts.
        let one = Self.rows(shapes, counts: [1], centres: Self.centres(shapes))
        #expect {
            try SerialShareFitter(options: options).judge(dataset(one), folds: 2, seed: 1)
        } throws: { "\($0)".contains("one thread count") && "\($0)".contains("threads") }
        // No one-thread rows: the base model has nothing to be fitted on.
        let many = Self.rows(shapes, counts: [2, 4], centres: Self.centres(shapes))
        #expect {
            try SerialShareFitter(options: options).fit(many, inputName: "rows.csv")
        } throws: { "\($0)".contains("rows.csv") && "\($0)".contains("no rows at one thread") }
    }

    @Test func aFitWithoutItsShareIsRefusedNamingTheField() throws {
        let shapes = gridShapes(count: 30, seed: 8, kernels: [3])
        let rows = Self.rows(shapes, counts: [1, 2], centres: Self.centres(shapes))
        var fit = try SerialShareFitter(options: FitOptions(model: .alpha, grouping: .perK, loss: .relative))
            .fit(rows, inputName: "x")
        fit.groups[0].share["perLnPositions"] = .nan
        #expect { try fit.validate(source: "across.json") } throws: {
            "\($0)".contains("across.json") && "\($0)".contains("share.perLnPositions")
        }
    }
}

/// The work form: each rate of a rate model with a serial share of its own.
@Suite struct SerialShareWorkTests {
    /// tensor-bytes' rates (msPerGflop, input, weights, output, lowered, fixedMs) and their shares.
    static let rates = [20.0, 40, 60, 30, 50, 0.002]
    static let shares = [0.1, 0.9, 0.3, 0.6, 0.5, 1.0]

    static func rows(counts: [Int]) -> [FitRow] {
        rowsAtCounts(
            gridShapes(count: 150, seed: 11, kernels: [1, 3, 5]), counts: counts, model: .tensorBytes, rates: rates
        ) { work, _, p in
            var t = 0.0
            for k in rates.indices { t += rates[k] * work[k] * (shares[k] + (1 - shares[k]) / Double(p)) }
            return t
        }
    }

    @Test func recoversEachKindOfWorksShare() throws {
        let rows = Self.rows(counts: [1, 2, 4])
        let options = FitOptions(model: .tensorBytes, grouping: .k1Rest, loss: .relative, seed: 1)
        let fitter = SerialShareFitter(options: options)
        #expect(fitter.form == .work)
        let fit = try fitter.fit(rows, inputName: "synthetic")
        let dense = try #require(fit.groups.first { $0.group == "K>1" })
        // The rows are exact: the FLOPs' share and the weights' come back.
        #expect(abs(dense.share["msPerGflop"]! - Self.shares[0]) < 0.02)
        #expect(abs(dense.share["msPerGBWeights"]! - Self.shares[2]) < 0.05)
        // Predictions at a count none was fitted on follow each share.
        for row in rows.prefix(30) where SerialShareFitter.threads(of: row) == 1 {
            let truth = Self.rows(counts: [8]).first { $0.shape == row.shape }!.timeMs
            #expect(abs(try fit.predict(row.shape, threads: 8) / truth - 1) < 0.02)
        }
        let judgement = try fitter.judge(dataset(rows), folds: 3, seed: 2)
        #expect(judgement.fit.form == .work)
        for left in judgement.countLeftOut { #expect(left.acrossCounts.within10Percent > 95) }
    }

    @Test func theWorkFormNeedsARateModel() throws {
        let rows = Self.rows(counts: [1, 2])
        let options = FitOptions(model: .alpha, grouping: .k1Rest, loss: .relative)
        #expect {
            try SerialShareFitter(options: options, form: .work).fit(rows, inputName: "rows.csv")
        } throws: { "\($0)".contains("not a rate model") }
        var fit = try SerialShareFitter(options: FitOptions(model: .tensorBytes, grouping: .k1Rest, loss: .relative))
            .fit(rows, inputName: "rows.csv")
        fit.groups[0].share["msPerGflop"] = 1.5
        #expect { try fit.validate(source: "across.json") } throws: {
            "\($0)".contains("share.msPerGflop") && "\($0)".contains("outside 0 … 1")
        }
    }
}

/// The team form: gemm-work's rates each with a serial share, the rest divided as the kernels
/// share the layer among the threads.
@Suite struct SerialShareTeamTests {
    let setting = WorkSetting(level2Bytes: 512 << 10, lastLevelBytes: 32 << 20)

    /// Rows at `counts` from gemm-work's one-thread `rates` with the FLOPs' share 0.1 and every
    /// other rate's 0.5, the part that divides divided by the layer's busiest share.
    func rows(counts: [Int], rates: [Double]) -> [FitRow] {
        rowsAtCounts(
            gridShapes(count: 200, seed: 41, kernels: [1, 3, 5]), counts: counts, model: .gemmWork, rates: rates,
            setting: setting
        ) { work, point, p in
            let divided = point.work!.busiestShare(threads: p, smallCallLimit: 0)
            // 20 µs a fork and join of the layer's threads.
            var t = 0.02 * point.work!.forkJoins(threads: p, smallCallLimit: 0)
            for k in 0..<GemmWorkModel.positionsTile {
                let share = k == 0 ? 0.1 : 0.5
                t += rates[k] * work[k] * (share + (1 - share) * divided)
            }
            return t
        }
    }

    @Test func gemmWorksSharesComeBackAndAnOldWorkFormFitReadsAsItWas() throws {
        // Tiles 1 × 1, no small-matrix kernel, three levels: the one-thread fit is exact.
        var rates = [Double](repeating: 0, count: GemmWorkModel.parameterNames.count)
        for k in 0..<GemmWorkModel.positionsTile {
            rates[k] = [11, 0, 0, 20, 25, 40, 22, 30, 45, 25, 35, 50, 10, 4, 5, 0.4, 0, 0, 0, 0.002][k]
        }
        rates[GemmWorkModel.positionsTile] = 1
        rates[GemmWorkModel.channelsTile] = 1
        rates[GemmWorkModel.cacheLevels] = 3
        let rows = rows(counts: [1, 2, 3], rates: rates)
        let options = FitOptions(model: .gemmWork, grouping: .k1Rest, loss: .relative, workSetting: setting)
        let fitter = SerialShareFitter(options: options)
        #expect(fitter.form == .team)
        let fit = try fitter.fit(rows, inputName: "synthetic")
        let group = try #require(fit.groups.first { $0.group == "K>1" })
        #expect(abs(group.share["msPerGflop"]! - 0.1) < 0.01)
        #expect(
            abs((group.usPerForkJoin ?? 0) - 20) < 0.5 && group.workShares(of: .gemmWork).hasSuffix("fork-join 20.0 µs")
        )
        // Every row, at every count, as it was made.
        for row in rows.prefix(60) {
            let p = SerialShareFitter.threads(of: row)
            #expect(abs(try fit.predict(row.shape, threads: p) / row.timeMs - 1) < 1e-3)
        }
        // A negative fork-join cost is refused by name.
        var negative = fit
        negative.groups[0].usPerForkJoin = -1
        #expect { try negative.validate(source: "across.json") } throws: { "\($0)".contains("usPerForkJoin") }
        // A fit of the work form (written by 0.14: no fork-join cost) still divides by p.
        var old = fit
        old.form = .work
        old.groups = old.groups.map {
            var group = $0
            group.usPerForkJoin = nil
            return group
        }
        let shape = rows[0].shape
        let one = try old.predict(shape, threads: 1)
        let serial = try old.serialShare(shape) * one
        #expect(abs(try old.predict(shape, threads: 2) - (serial + (one - serial) / 2)) < 1e-6 * one)
        // The team form is gemm-work's alone.
        #expect {
            try SerialShareFitter(options: FitOptions(model: .tensorBytes, grouping: .k1Rest), form: .team)
                .fit(rows, inputName: "rows.csv")
        } throws: { "\($0)".contains("team form") }
    }
}

/// Rows of `shapes` at each of `counts`, timed by `time` from each shape's features under `model`
/// (its gradient at `rates`), its point and the count; ids and counts as a run of several
/// counts writes them.
func rowsAtCounts(
    _ shapes: [ConvShape], counts: [Int], model: FitModel, rates: [Double], setting: WorkSetting? = nil,
    time: (_ work: [Double], _ point: ModelPoint, _ threads: Int) -> Double
) -> [FitRow] {
    var rows: [FitRow] = []
    for (i, shape) in shapes.enumerated() {
        let point = ModelPoint(shape: shape, convention: .standard, bytes: .algorithm, setting: setting)
        var work = [Double](repeating: 0, count: rates.count)
        _ = work.withUnsafeMutableBufferPointer { model.predict(point, rates, gradient: $0.baseAddress!) }
        for p in counts {
            rows.append(
                FitRow(
                    shape: shape, timeMs: time(work, point, p),
                    carried: ["config_id": "c\(i)@threads=\(p)", "threads": "\(p)"], row: rows.count + 2))
        }
    }
    return rows
}
