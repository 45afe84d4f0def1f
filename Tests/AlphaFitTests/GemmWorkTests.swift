import ConvKernels
import Foundation
import TestSupport
import Testing

@testable import AlphaFit

/// The gemm-work model: its rates and tiles come back from times it made, what the data cannot
/// tell is held and said, and it refuses to fit without the caches.
struct GemmWorkTests {
    let setting = WorkSetting(level2Bytes: 512 << 10, lastLevelBytes: 32 << 20)

    /// Rates a performance engineer would believe: 90 GFLOP/s (an edge pass's column at 6 ms per
    /// GFLOP-equivalent), operands at 25–100 GB/s by level,
    /// 4 ns a wrapped row, 5 ns a block, 0.4 µs a call, 2 µs a layer; tiles 8 × 4; three levels;
    /// a small-matrix kernel (OpenBLAS's limit, m·n·k ≤ 10⁶) whose FLOPs cost 8 ms per GFLOP.
    var truth: [Double] {
        [11, 6, 8, 20, 25, 40, 22, 30, 45, 25, 35, 50, 10, 4, 5, 0.4, 30, 60, 70, 0.002, 8, 4, 3, 1e6, 16, 128, 1, 256]
    }

    func rows(_ shapes: [ConvShape], _ p: [Double]) -> [FitRow] {
        shapes.enumerated().map { i, shape in
            let point = ModelPoint(shape: shape, convention: .standard, bytes: .algorithm, setting: setting)
            return FitRow(shape: shape, timeMs: FitModel.gemmWork.predict(point, p), input: 0, row: i + 2)
        }
    }

    /// What an earlier convsweep wrote of a fit's options: all of them, all but the gemm-work
    /// form (before 0.16.0), none (a fit written by hand).
    enum WrittenOptions { case all, withoutForm, none }

    /// `report` as an earlier convsweep wrote it: every group's fit without the parameters
    /// `removed`, with `options`; the file's path.
    func fileWrittenBefore(
        _ report: FitReport, removing removed: [String], options: WrittenOptions = .all, file: String = "fit",
        test: String = #function
    ) throws -> String {
        var json = try JSONSerialization.jsonObject(with: try report.jsonData()) as! [String: Any]
        switch options {
        case .all: break
        case .withoutForm:
            var written = json["options"] as! [String: Any]
            written["gemmWorkForm"] = nil
            json["options"] = written
        case .none: json["options"] = nil
        }
        json["fits"] = (json["fits"] as! [[String: Any]]).map { fit in
            var fit = fit
            var parameters = fit["parameters"] as! [String: Any]
            for key in removed { parameters[key] = nil }
            fit["parameters"] = parameters
            return fit
        }
        let path = temporaryDirectoryURL(test).appendingPathComponent("\(file)-\(options).json").path
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func theRatesAndTilesComeBackFromTimesTheModelMade() throws {
        let shapes =
            gridShapes(count: 300, seed: 21, kernels: [1]) + gridShapes(count: 500, seed: 22, kernels: [3, 5, 7])
        let report = try AlphaFitter(options: FitOptions(model: .gemmWork, loss: .relative, workSetting: setting)).fit(
            dataset(rows(shapes, truth)))
        #expect(report.fits.map(\.group) == ["K=1", "K>1"])
        for fit in report.fits {
            #expect(fit.parameters["positionsTile"] == 8 && fit.parameters["channelsTile"] == 4, "\(fit.group)")
            #expect(fit.parameters["smallCallLimit"] == 1e6 && fit.parameters["msPerGflopSmall"]! > 7.99)
            #expect((fit.diagnostics?.sse ?? 1) < 1e-12, "\(fit.group)")
        }
        // Every layer predicted as the model made it.
        for row in rows(shapes, truth).prefix(50) {
            #expect(abs(try report.predict(row.shape) / row.timeMs - 1) < 1e-6)
        }
        // The fit records its setting, and predicts the same once read back.
        let again = try JSONDecoder().decode(FitReport.self, from: try report.jsonData())
        #expect(again.options?.workSetting == setting)
        #expect(try again.predict(shapes[7]) == report.predict(shapes[7]))
    }

    /// The tile search solves each candidate's problem linearised (its features computed once):
    /// with the discrete parameters held it is the same problem, residuals and Jacobian alike,
    /// wherever the rates are.
    @Test func aCandidatesLinearisedProblemIsTheProblem() throws {
        let shapes = gridShapes(count: 120, seed: 31, kernels: [1, 3, 5])
        let fitter = AlphaFitter(options: FitOptions(model: .gemmWork, loss: .relative, workSetting: setting))
        let classes = fitter.classes(rows(shapes, truth))
        let discrete = [GemmWorkModel.positionsTile, GemmWorkModel.channelsTile, GemmWorkModel.cacheLevels]
        let held = Dictionary(
            uniqueKeysWithValues: (discrete + [GemmWorkModel.smallCallLimit] + GemmWorkModel.formConstants).map {
                ($0, truth[$0])
            })
        let problem = fitter.problem(classes).holding(held)
        let p = problem.parameterCount
        let linear = try #require(problem.linearised(at: [Double](repeating: 0, count: p)))
        var generator = SeededGenerator(seed: 5)
        for _ in 0..<5 {
            let x = (0..<p).map { _ in Double.random(in: 0...60, using: &generator) }
            var (r, rl) = (
                [Double](repeating: 0, count: problem.residualCount),
                [Double](repeating: 0, count: problem.residualCount)
            )
            var (j, jl) = ([Double](repeating: 0, count: r.count * p), [Double](repeating: 0, count: r.count * p))
            let sse = problem.jacobian(x, &r, &j)
            #expect(abs(linear.jacobian(x, &rl, &jl) / sse - 1) < 1e-9)
            #expect(zip(r, rl).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($0)) })
            #expect(j == jl)
            #expect(abs(linear.residuals(x, &rl) / sse - 1) < 1e-9)
        }
    }

    /// A machine whose kernels have no small-matrix path (OpenBLAS's Haswell and Zen kernels):
    /// the fit does not invent one, and a machine whose kernels have one is told from it by the
    /// calls around the limit alone.
    @Test func theSmallMatrixKernelIsFoundWhereItIsAndNotWhereItIsNot() throws {
        let shapes =
            gridShapes(count: 150, seed: 41, kernels: [1]) + gridShapes(count: 250, seed: 42, kernels: [3, 5])
        var without = truth
        without[GemmWorkModel.small] = 0
        without[GemmWorkModel.smallCallLimit] = 0
        let options = FitOptions(model: .gemmWork, loss: .relative, workSetting: setting)
        for (machine, limit) in [(without, 0.0), (truth, 1e6)] {
            let report = try AlphaFitter(options: options).fit(dataset(rows(shapes, machine)))
            for fit in report.fits {
                #expect(fit.parameters["smallCallLimit"] == limit, "\(fit.group), limit \(limit)")
                #expect((fit.diagnostics?.sse ?? 1) < 1e-12, "\(fit.group), limit \(limit)")
                if limit == 0 { #expect(fit.parameters["msPerGflopSmall"] == 0) }
            }
        }
        // The shapes do have small calls, so the choice was the data's.
        let setting = setting
        #expect(shapes.contains { KernelWork(shape: $0, setting: setting).smallCallFlops(limit: 1_000_000) > 0 })
    }

    /// A group none of whose calls is small enough for the small-matrix kernel cannot tell its
    /// limit: the limit and its rate are held at 0, listed as held and said, never chosen.
    @Test func aLimitNoCallTellsIsHeldAtZeroAndSaid() throws {
        var shapes: [ConvShape] = []
        for (h, w) in [(32, 32), (64, 32), (40, 48), (56, 56), (28, 36)] {
            for (cin, cout) in [(64, 64), (96, 72), (128, 100), (80, 200)] {
                for k in [1, 3] {
                    shapes.append(ConvShape(height: h, width: w, inputChannels: cin, outputChannels: cout, kernel: k))
                }
            }
        }
        let setting = setting
        // The last piece of a tiled layer may be small: those layers are left out.
        shapes.removeAll { KernelWork(shape: $0, setting: setting).smallCallFlops(limit: 1_000_000) > 0 }
        #expect(shapes.filter { $0.kernelSize == 1 }.count >= 15 && shapes.filter { $0.kernelSize > 1 }.count >= 10)
        let report = try AlphaFitter(options: FitOptions(model: .gemmWork, loss: .relative, workSetting: setting)).fit(
            dataset(rows(shapes, truth)))
        for fit in report.fits {
            #expect(fit.parameters["smallCallLimit"] == 0 && fit.parameters["msPerGflopSmall"] == 0, "\(fit.group)")
            #expect(Set(fit.fixed ?? []).isSuperset(of: ["smallCallLimit", "msPerGflopSmall"]), "\(fit.group)")
            let warnings = fit.diagnostics?.warnings ?? []
            #expect(warnings.contains { $0.hasPrefix("msPerGflopSmall held at 0: no call is small enough") })
            #expect(warnings.contains { $0.hasPrefix("smallCallLimit could not be determined and is held at 0") })
        }
    }

    /// A gemm-work fit written before 0.14.0 (no small-matrix kernel's parameters) reads as the
    /// model it was: limit 0, rate 0, the same predictions; one naming only one of them is refused.
    @Test func aFitWrittenBeforeTheSmallMatrixKernelReadsAsItWas() throws {
        var old = truth
        old[GemmWorkModel.small] = 0
        old[GemmWorkModel.smallCallLimit] = 0
        let shapes = gridShapes(count: 60, seed: 7, kernels: [1]) + gridShapes(count: 60, seed: 8, kernels: [3])
        let report = try AlphaFitter(options: FitOptions(model: .gemmWork, loss: .relative, workSetting: setting)).fit(
            dataset(rows(shapes, old)))
        let directory = temporaryDirectoryURL()
        for (name, removed) in [("old", ["msPerGflopSmall", "smallCallLimit"]), ("half", ["smallCallLimit"])] {
            var file = report
            for i in file.fits.indices { for key in removed { file.fits[i].parameters[key] = nil } }
            let path = directory.appendingPathComponent("\(name).json").path
            try file.jsonData().write(to: URL(fileURLWithPath: path))
            if name == "old" {
                let read = try FitReport.load(path: path)
                #expect(
                    read.fits.allSatisfy {
                        $0.parameters["smallCallLimit"] == 0 && $0.parameters["msPerGflopSmall"] == 0
                    })
                for shape in shapes.prefix(20) { #expect(try read.predict(shape) == report.predict(shape)) }
            } else {
                let error = #expect(throws: FitInputError.self) { try FitReport.load(path: path) }
                #expect(error?.description.contains("smallCallLimit") == true, "\(String(describing: error))")
            }
        }
    }

    /// Options and fits written before 0.16.0 are of the form of 0.14–0.15
    /// (``GemmWorkForm/smallFlops``): options without a form read as it and refit it (the small
    /// kernel's FLOPs as they are, no dot path, no exposed output: those rates held, silently, and
    /// the table's count of parameters that form's 21); a fit lacking the four parameters of
    /// 0.16.0 reads as it and predicts as it did; one lacking some of them is refused.
    @Test func aFitOfTheFormBeforeVectorsReadsAndRefitsAsItWas() throws {
        let shapes = gridShapes(count: 80, seed: 9, kernels: [1]) + gridShapes(count: 80, seed: 10, kernels: [3])
        let options = FitOptions(model: .gemmWork, loss: .relative, workSetting: setting, gemmWorkForm: .smallFlops)
        var encoded = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(options)) as! [String: Any]
        #expect(encoded["gemmWorkForm"] as? Int == 1)
        encoded["gemmWorkForm"] = nil
        let read = try JSONDecoder().decode(FitOptions.self, from: try JSONSerialization.data(withJSONObject: encoded))
        #expect(read.gemmWorkForm == .smallFlops && FitOptions().gemmWorkForm == .current)
        #expect(FitModel.gemmWork.parameterCount(form: .smallFlops) == 21)
        #expect(FitModel.gemmWork.parameterCount(form: .vectors) == 25)
        #expect(FitModel.gemmWork.parameterCount(form: .packedWeights) == 27)
        #expect(FitModel.gemmWork.parameterCount(form: .current) == 28)
        var old = truth
        old[GemmWorkModel.packedWeightsMemory] = 0
        old[GemmWorkModel.outputExposureLevel] = 0
        old[GemmWorkModel.activationExposureWidth] = 0
        old[GemmWorkModel.smallDot] = 0
        old[GemmWorkModel.outputExposed] = 0
        old[GemmWorkModel.smallKernelLanes] = 1
        old[GemmWorkModel.outputExposureDepth] = 0
        let report = try AlphaFitter(options: read).fit(dataset(rows(shapes, old)))
        for fit in report.fits {
            #expect(fit.parameters["smallKernelLanes"] == 1 && fit.parameters["outputExposureDepth"] == 0)
            #expect(fit.parameters["msPerGBSmallDot"] == 0 && fit.parameters["msPerGBOutputExposed"] == 0)
            #expect((fit.diagnostics?.sse ?? 1) < 1e-12, "\(fit.group)")
            #expect(!(fit.diagnostics?.warnings ?? []).contains { $0.contains("SmallDot") || $0.contains("Exposed") })
        }
        // The same times are not the current form's: its vectors and exposure change them.
        let current = try AlphaFitter(options: FitOptions(model: .gemmWork, loss: .relative, workSetting: setting))
            .fit(dataset(rows(shapes, old)))
        #expect(current.fits.contains { ($0.diagnostics?.sse ?? 0) > 1e-9 })
        let added = [
            "msPerGBSmallDot", "msPerGBOutputExposed", "smallKernelLanes", "outputExposureDepth",
            "msPerGBPackedWeightsMemory", "outputExposureLevel", "activationExposureWidth",
        ]
        for (name, removed) in [("old", added), ("half", ["smallKernelLanes"])] {
            // The file as 0.15 wrote it: options without a form, groups without the parameters.
            let path = try fileWrittenBefore(report, removing: removed, options: .withoutForm, file: name)
            if name == "old" {
                let again = try FitReport.load(path: path)
                #expect(again.gemmWorkForm == .smallFlops)
                for shape in shapes.prefix(30) { #expect(try again.predict(shape) == report.predict(shape)) }
            } else {
                let error = #expect(throws: FitInputError.self) { try FitReport.load(path: path) }
                #expect(error?.description.contains("smallKernelLanes") == true, "\(String(describing: error))")
            }
        }
    }

    /// The weights the packed path copies from memory (0.17.0, ``GemmWorkForm/packedWeights``):
    /// their rate comes back from times made with it, among layers whose weights lie beyond the
    /// cache through both paths; a fit of 0.16's form (``GemmWorkForm/vectors``: that rate 0, the
    /// output exposed from every level) holds them, silently, and refits such times exactly when
    /// they were made so; a fit file of 0.16 (neither parameter, options of form 2) reads as that
    /// form and predicts as it did, and so does one without options.
    @Test func thePackedWeightsRateComesBackAndTheFormBeforeReadsAsItWas() throws {
        // Few output positions, weights of 10–250 MB: m = 1 through the small-matrix kernel,
        // m ≥ 2 through the packed path (chunks of depth 540 or so).
        var heavy: [ConvShape] = []
        for (h, w) in [(1, 1), (2, 1), (1, 2), (2, 2), (4, 2), (4, 4), (8, 2)] {
            for (cin, cout) in [(1600, 950), (300, 3200), (750, 550), (1000, 300), (600, 1100)] {
                for k in [3, 6] {
                    heavy.append(ConvShape(height: h, width: w, inputChannels: cin, outputChannels: cout, kernel: k))
                }
            }
        }
        let shapes =
            gridShapes(count: 120, seed: 41, kernels: [1]) + gridShapes(count: 200, seed: 42, kernels: [3, 5])
            + heavy
        let current = try AlphaFitter(options: FitOptions(model: .gemmWork, loss: .relative, workSetting: setting))
            .fit(dataset(rows(shapes, truth)))
        let dense = try #require(current.fits.first { $0.group == "K>1" })
        #expect(abs(dense.parameters["msPerGBPackedWeightsMemory"]! / 70 - 1) < 1e-6)
        #expect((dense.diagnostics?.sse ?? 1) < 1e-12)
        // 0.16's form holds it: the same times are not its model's, times made without it are.
        let vectors = FitOptions(model: .gemmWork, loss: .relative, workSetting: setting, gemmWorkForm: .vectors)
        let held = try AlphaFitter(options: vectors).fit(dataset(rows(shapes, truth)))
        let heldDense = try #require(held.fits.first { $0.group == "K>1" })
        #expect(heldDense.parameters["msPerGBPackedWeightsMemory"] == 0 && (heldDense.diagnostics?.sse ?? 0) > 1e-6)
        var without = truth
        without[GemmWorkModel.packedWeightsMemory] = 0
        without[GemmWorkModel.outputExposureLevel] = 0
        without[GemmWorkModel.activationExposureWidth] = 0
        let old = try AlphaFitter(options: vectors).fit(dataset(rows(shapes, without)))
        for fit in old.fits {
            #expect(fit.parameters["msPerGBPackedWeightsMemory"] == 0 && (fit.diagnostics?.sse ?? 1) < 1e-12)
            #expect(!(fit.diagnostics?.warnings ?? []).contains { $0.contains("PackedWeights") }, "\(fit.group)")
        }
        // The file as 0.16 wrote it: form 2, groups without the parameters added since.
        #expect(old.options?.gemmWorkForm == .vectors)
        let added = ["msPerGBPackedWeightsMemory", "outputExposureLevel", "activationExposureWidth"]
        let again = try FitReport.load(path: try fileWrittenBefore(old, removing: added))
        #expect(again.gemmWorkForm == .vectors)
        for shape in (heavy + shapes.prefix(20)) { #expect(try again.predict(shape) == old.predict(shape)) }
        let byHand = try fileWrittenBefore(old, removing: added, options: .none)
        #expect(try FitReport.load(path: byHand).gemmWorkForm == .vectors)
        #expect(current.gemmWorkForm == .current)
    }

    /// The exposed activations (0.18.0, ``GemmWorkForm/exposedActivations``): times made with them
    /// are not 0.17's model, which holds the width at 0 and refits times made without them
    /// exactly; a fit file of 0.17 (no width, options of form 3) reads as that form and predicts
    /// as it did, and so does one without options.
    @Test func aFitOfTheFormBeforeExposedActivationsReadsAndRefitsAsItWas() throws {
        let shapes = gridShapes(count: 100, seed: 51, kernels: [1]) + gridShapes(count: 120, seed: 52, kernels: [3])
        let form3 = FitOptions(model: .gemmWork, loss: .relative, workSetting: setting, gemmWorkForm: .packedWeights)
        #expect(
            try AlphaFitter(options: form3).fit(dataset(rows(shapes, truth))).fits.contains {
                ($0.diagnostics?.sse ?? 0) > 1e-9
            })
        var without = truth
        without[GemmWorkModel.activationExposureWidth] = 0
        let old = try AlphaFitter(options: form3).fit(dataset(rows(shapes, without)))
        for fit in old.fits {
            #expect(fit.parameters["activationExposureWidth"] == 0 && (fit.diagnostics?.sse ?? 1) < 1e-12)
        }
        #expect(old.options?.gemmWorkForm == .packedWeights)
        let again = try FitReport.load(path: try fileWrittenBefore(old, removing: ["activationExposureWidth"]))
        #expect(again.gemmWorkForm == .packedWeights)
        for shape in shapes.prefix(40) { #expect(try again.predict(shape) == old.predict(shape)) }
        let byHand = try fileWrittenBefore(old, removing: ["activationExposureWidth"], options: .none)
        #expect(try FitReport.load(path: byHand).gemmWorkForm == .packedWeights)
    }

    @Test func whatTheDataCannotTellIsHeldAndSaid() throws {
        // Positions all multiples of 32 and output channels of 48: no candidate tile pads differently.
        // Weights within the last level and the output within L2: the memory rates have no work.
        var shapes: [ConvShape] = []
        for (h, w) in [(32, 32), (64, 32), (16, 64), (32, 96), (8, 128), (64, 64), (1, 256), (4, 96)] {
            for (cin, cout) in [(16, 48), (64, 96), (32, 48), (96, 144), (8, 96), (128, 48), (48, 192), (24, 240)] {
                for k in [1, 3] {
                    shapes.append(
                        ConvShape(height: h, width: w, inputChannels: cin, outputChannels: cout, kernel: k))
                }
            }
        }
        let report = try AlphaFitter(options: FitOptions(model: .gemmWork, loss: .relative, workSetting: setting)).fit(
            dataset(rows(shapes, truth)))
        for fit in report.fits {
            let held = Set(fit.fixed ?? [])
            #expect(
                held.isSuperset(of: ["positionsTile", "channelsTile", "msPerGflopEdge", "msPerGBWeightsMemory"]),
                "\(fit.group)")
            // The 1×1 layers of equal positions do the same work: too few distinct ones for levels.
            guard fit.group == "K>1" else {
                #expect(fit.diagnostics?.warnings.contains { $0.hasPrefix("cacheLevels held at 1") } == true)
                continue
            }
            #expect(fit.parameters["positionsTile"] == 1 && fit.parameters["channelsTile"] == 1)
            let warnings = fit.diagnostics?.warnings ?? []
            #expect(warnings.contains { $0.hasPrefix("positionsTile could not be determined and is held at 1") })
            #expect(
                warnings.contains { $0.hasPrefix("msPerGBWeightsMemory held at 0: no layer's weights fit beyond") },
                "\(fit.group): \(warnings)")
        }
        // A small group charges each operand at one rate, and says why.
        let small = try AlphaFitter(options: FitOptions(model: .gemmWork, loss: .relative, workSetting: setting)).fit(
            dataset(rows(Array(shapes.prefix(40)), truth)))
        #expect(small.fits[0].parameters["cacheLevels"] == 1)
        #expect(small.fits[0].diagnostics?.warnings.contains { $0.hasPrefix("cacheLevels held at 1") } == true)
        // Pointwise layers are not lowered: their group says so.
        let pointwise = report.fits.first { $0.group == "K=1" }!
        #expect(pointwise.fixed?.contains("nsPerLoweringRow") == true)
    }

    @Test func aFitFileWhoseSettingIsMissingOrImpossibleIsRefusedByName() throws {
        let shapes = gridShapes(count: 80, seed: 5, kernels: [1]) + gridShapes(count: 80, seed: 6, kernels: [3])
        let report = try AlphaFitter(options: FitOptions(model: .gemmWork, loss: .relative, workSetting: setting)).fit(
            dataset(rows(shapes, truth)))
        let directory = temporaryDirectoryURL()
        for (name, edit) in [
            ("missing", { (o: inout FitOptions) in o.workSetting = nil }),
            ("impossible", { (o: inout FitOptions) in o.workSetting?.lastLevelBytes = 1024 }),
        ] {
            var hostile = report
            edit(&hostile.options!)
            let path = directory.appendingPathComponent("\(name).json").path
            try hostile.jsonData().write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: FitInputError.self) { try FitReport.load(path: path) }
            #expect(error?.description.contains("options.caches") == true, "\(name): \(String(describing: error))")
        }
    }

    @Test func aFitFileWhoseParameterTheModelCannotTakeIsRefusedByName() throws {
        let shapes = gridShapes(count: 80, seed: 5, kernels: [1]) + gridShapes(count: 80, seed: 6, kernels: [3])
        let report = try AlphaFitter(options: FitOptions(model: .gemmWork, loss: .relative, workSetting: setting)).fit(
            dataset(rows(shapes, truth)))
        let directory = temporaryDirectoryURL()
        // Each would otherwise predict silently: levels 5 and 2 as three, a tile of 2.5 as 2, a
        // negative rate as a time the model cannot make, a level beyond the form's as 1.
        for (name, value, says) in [
            ("cacheLevels", 5.0, "from 1 to 3, got 5"), ("cacheLevels", 2, "1 or 3, got 2"),
            ("positionsTile", 2.5, "whole number"), ("msPerGBWeightsLLC", -3, "cannot be negative, got -3"),
            ("outputExposureLevel", 4, "from 0 to 1, got 4"),
        ] {
            var hostile = report
            hostile.fits[1].parameters[name] = value
            let path = directory.appendingPathComponent("\(name)-\(value).json").path
            try hostile.jsonData().write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: FitInputError.self) { try FitReport.load(path: path) }
            let text = error?.description ?? ""
            #expect(
                text.contains("fits[\(hostile.fits[1].group)].parameters.\(name)") && text.contains(says), "\(text)")
        }
        // The fit as written reads back.
        let path = directory.appendingPathComponent("written.json").path
        try report.jsonData().write(to: URL(fileURLWithPath: path))
        #expect(try FitReport.load(path: path).fits == report.fits)
    }

    @Test func withoutTheCachesItRefusesAndTheTableLeavesItOut() throws {
        let rows = rows(gridShapes(count: 120, seed: 3, kernels: [1, 3]), truth)
        #expect(throws: FitInputError.self) {
            try AlphaFitter(options: FitOptions(model: .gemmWork)).fit(dataset(rows))
        }
        do {
            _ = try AlphaFitter(options: FitOptions(model: .gemmWork)).fit(dataset(rows))
        } catch let error as FitInputError {
            #expect("\(error)".contains("--caches"))
        }
        let without = try AlphaFitter(options: FitOptions(loss: .relative, starts: 0)).crossValidate(
            dataset(rows), folds: 2)
        #expect(!without.report.results.map(\.model).contains(.gemmWork))
        let with = try AlphaFitter(options: FitOptions(loss: .relative, starts: 0, workSetting: setting)).crossValidate(
            dataset(rows), folds: 2)
        #expect(with.report.results.map(\.model).contains(.gemmWork))
    }
}
