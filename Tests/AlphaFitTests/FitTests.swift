import ConvKernels
import Foundation
import TestSupport
import Testing

@testable import AlphaFit

@Suite struct SyntheticFitTests {
    /// Known parameters inside [0, 2]³, different for K = 1 and K > 1, in the asperti convention
    /// (final of the order of the published 0.0375) and the standard one.
    static let truths: [String: [Double]] = ["K=1": [0.02, 0.99, 0.0375], "K>1": [0.004, 0.56, 0.05]]

    func rows(noise: Double, convention: FlopsConvention, seed: UInt64) -> [FitRow] {
        let k1 = gridShapes(count: 300, seed: seed, kernels: [1])
        let rest = gridShapes(count: 400, seed: seed + 1, kernels: [2, 3, 5, 7])
        return syntheticRows(
            k1, model: .alpha, parameters: Self.truths["K=1"]!, convention: convention, noise: noise, seed: seed + 2)
            + syntheticRows(
                rest, model: .alpha, parameters: Self.truths["K>1"]!, convention: convention, noise: noise,
                seed: seed + 3)
    }

    @Test(arguments: [FitLoss.absolute, .relative])
    func noiseFreeParametersComeBackWithinOnePercent(loss: FitLoss) throws {
        let report = try AlphaFitter(options: FitOptions(loss: loss, flopsConvention: .asperti))
            .fit(dataset(rows(noise: 0, convention: .asperti, seed: 11)))
        #expect(report.fits.map(\.group) == ["K=1", "K>1"])
        for fit in report.fits {
            let truth = Self.truths[fit.group]!
            for (j, name) in FitModel.alpha.parameterNames.enumerated() {
                let value = fit.parameters[name]!
                #expect(abs(value - truth[j]) <= 0.01 * truth[j], "\(fit.group) \(name) = \(value), truth \(truth[j])")
            }
            #expect(fit.diagnostics!.startsReachingBest >= 1)
            #expect(fit.diagnostics!.rSquared > 0.999999)
        }
    }

    @Test func noisyParametersLieInsideTheirIntervals() throws {
        for seed: UInt64 in [21, 22, 23] {
            let report = try AlphaFitter(options: FitOptions(loss: .relative, flopsConvention: .asperti, seed: seed))
                .fit(dataset(rows(noise: 0.01, convention: .asperti, seed: seed)))
            for fit in report.fits {
                let truth = Self.truths[fit.group]!
                let intervals = try #require(fit.diagnostics?.confidence95)
                for (j, name) in FitModel.alpha.parameterNames.enumerated() {
                    let ci = intervals[name]!
                    #expect(
                        ci[0] <= truth[j] && truth[j] <= ci[1],
                        "seed \(seed) \(fit.group) \(name): \(truth[j]) outside \(ci)")
                    #expect(ci[1] - ci[0] < 0.5 * truth[j], "interval too wide to mean anything: \(ci)")
                }
                #expect(fit.diagnostics!.warnings.isEmpty, "\(fit.diagnostics!.warnings)")
            }
        }
    }

    @Test func standardConventionRecoversTheScaledFinal() throws {
        // Under the standard convention final is 10⁻⁶/2 of its asperti value; the fitter must
        // still find it from the paper's start (final 0.3), far above.
        let report = try AlphaFitter(options: FitOptions(flopsConvention: .standard))
            .fit(dataset(rows(noise: 0, convention: .asperti, seed: 5)))
        for fit in report.fits {
            let truth = Self.truths[fit.group]!
            #expect(abs(fit.parameters["final"]! - truth[2] / 2e6) <= 0.01 * truth[2] / 2e6)
            #expect(abs(fit.parameters["gamma"]! - truth[1]) <= 0.01 * truth[1])
        }
    }

    @Test func alphaChannelsRecoversItsParameters() throws {
        let truth = [0.01, 0.8, 0.05, 12, 30]
        let shapes = gridShapes(count: 600, seed: 9, kernels: [3])
        let rows = syntheticRows(
            shapes, model: .alphaChannels, parameters: truth, convention: .asperti, noise: 0, seed: 10)
        let report = try AlphaFitter(
            options: FitOptions(model: .alphaChannels, grouping: .perK, flopsConvention: .asperti)
        )
        .fit(dataset(rows))
        let fit = try #require(report.fits.first)
        for (j, name) in FitModel.alphaChannels.parameterNames.enumerated() {
            #expect(
                abs(fit.parameters[name]! - truth[j]) <= 0.01 * truth[j],
                "\(name) = \(fit.parameters[name]!), truth \(truth[j])")
        }
        #expect(!fit.diagnostics!.warnings.contains { $0.contains("identif") }, "\(fit.diagnostics!.warnings)")
    }

    @Test func parameterOnABoundIsReported() throws {
        // Data from gamma = 1.5 fitted with gamma ≤ 1: the optimum sits on the bound.
        let shapes = gridShapes(count: 200, seed: 3, kernels: [1])
        let rows = syntheticRows(
            shapes, model: .alpha, parameters: [0.02, 1.5, 0.04], convention: .asperti, noise: 0, seed: 4)
        let report = try AlphaFitter(
            options: FitOptions(
                grouping: .perK, flopsConvention: .asperti,
                bounds: [[0, 2], [0, 1], [0, 2]])
        )
        .fit(dataset(rows))
        let fit = report.fits[0]
        #expect(fit.parameters["gamma"] == 1)
        #expect(fit.diagnostics!.warnings.contains { $0.hasPrefix("gamma = 1.0 is on a bound") })
    }

    @Test func unidentifiableDataIsSaidSo() throws {
        // Every row has the same S: beta, gamma and final cannot be told apart.
        let shapes = (1...20).map {
            ConvShape(height: 8, width: 8, inputChannels: 10 * $0, outputChannels: 30, kernelHeight: 1, kernelWidth: 1)
        }
        let rows = syntheticRows(
            shapes, model: .alpha, parameters: [0.1, 0.9, 0.03], convention: .asperti, noise: 0.01, seed: 2)
        // One (S, K) class for three parameters: refused with the reason, not fitted into a flat valley.
        let error = #expect(throws: FitInputError.self) {
            try AlphaFitter(options: FitOptions(grouping: .perK, flopsConvention: .asperti)).fit(dataset(rows))
        }
        #expect(error?.message.contains("a feature is constant over the group") == true)
        // Two spatial sizes and a third at a kernel of its own: fitted, and the weak group said so.
        let spread = shapes.enumerated().map { i, s in
            ConvShape(
                height: [8, 16, 4][i % 3], width: 8, inputChannels: s.inputChannels, outputChannels: 30,
                kernelHeight: 1,
                kernelWidth: 1)
        }
        let noisy = syntheticRows(
            spread, model: .alpha, parameters: [0.1, 0.9, 0.03], convention: .asperti, noise: 0.01, seed: 2)
        let report = try AlphaFitter(options: FitOptions(grouping: .perK, flopsConvention: .asperti)).fit(
            dataset(noisy))
        #expect(report.fits[0].n == 20)
    }

    @Test func seededStartsAreReproducible() throws {
        let data = dataset(rows(noise: 0.01, convention: .asperti, seed: 31))
        let options = FitOptions(flopsConvention: .asperti, starts: 4, seed: 99)
        let a = try AlphaFitter(options: options).fit(data)
        let b = try AlphaFitter(options: options).fit(data)
        #expect(a == b)
        #expect(a.fits[0].diagnostics!.startsTried == 5)
    }
}

@Suite struct OriginalDataTests {
    /// SciPy 1.17.1 curve_fit (method 'trf', p0 = (0.01, 0.8, 0.3), bounds [0, 2]) on the same
    /// rows, measured with benchmarks/compare-scipy (asperti convention; docs/fit-format.md).
    static let scipySSE = ["K=1": 6.393129619196287, "K>1": 148.42123784492043]

    @Test func noWorseThanCurveFit() throws {
        let data = try FitDataset.load(
            paths: [originalDataPath], excluding: [RowFilter(column: "plot", value: "increasing_batch")])
        #expect(data.rows.count == 590)
        let report = try AlphaFitter(options: FitOptions(flopsConvention: .asperti)).fit(data)
        for fit in report.fits {
            let sse = fit.diagnostics!.sse
            let reference = Self.scipySSE[fit.group]!
            #expect(sse <= reference * (1 + 1e-6), "\(fit.group): SSE \(sse), SciPy \(reference)")
        }
        #expect(report.fits.map(\.n) == [172, 418])
        #expect(report.inputs?.first?.sha256.count == 64)
    }

    /// The original authors' predictor, from the README beside their data, computed here with no
    /// AlphaFit code: FLOPs_M = C·K·S/1e6, S_K = ln K + 1, alpha = final·((S_K + beta(S − S_K))/S)^gamma.
    @Test func predictReproducesThePublishedPredictorExactly() throws {
        let json = """
            {"model": "alpha", "grouping": "k1-rest", "flopsConvention": "asperti",
             "fits": [{"group": "K=1", "parameters": {"beta": 0.02, "gamma": 0.99, "final": 0.0375}},
                      {"group": "K>1", "parameters": {"beta": 0.001, "gamma": 0.56, "final": 0.0375}}]}
            """
        let report = try FitReport.load(path: try writeTemporary(json, name: "fit.json"))
        let text = try String(contentsOfFile: originalDataPath, encoding: .utf8)
        var checked = 0
        for line in text.split(whereSeparator: \.isNewline).dropFirst() {
            let f = line.split(separator: ",").map(String.init)
            if f[0] == "increasing_batch" { continue }
            let (h, w, cin, cout, k1, k2) = (Int(f[2])!, Int(f[3])!, Int(f[4])!, Int(f[5])!, Int(f[6])!, Int(f[7])!)
            let k = k1 * k2
            let s = h * w
            let c = cin * cout
            let flopsM = Double(c * k * s) / 1e6
            let sk = log(Double(k)) + 1
            let (beta, gamma, final) = k == 1 ? (0.02, 0.99, 0.0375) : (0.001, 0.56, 0.0375)
            let alpha = final * pow((sk + beta * (Double(s) - sk)) / Double(s), gamma)
            let expected = alpha * flopsM
            #expect(try report.predict(h: h, w: w, cin: cin, cout: cout, k1: k1, k2: k2) == expected, "\(line)")
            checked += 1
        }
        #expect(checked == 590)
    }
}

@Suite struct SufficientStatisticsTests {
    /// The class-reduced problem the solver minimises equals the per-row sum of squares.
    @Test(arguments: FitModel.allCases, FitLoss.allCases)
    func reducedObjectiveEqualsPerRowSum(model: FitModel, loss: FitLoss) throws {
        let data = try FitDataset.load(
            paths: [originalDataPath], excluding: [RowFilter(column: "plot", value: "increasing_batch")])
        let rows = data.rows.filter { $0.shape.kernelSize > 1 }
        let setting = WorkSetting(level2Bytes: 512 << 10, lastLevelBytes: 32 << 20)
        let fitter = AlphaFitter(
            options: FitOptions(model: model, loss: loss, flopsConvention: .asperti, workSetting: setting))
        let classes = fitter.classes(rows)
        #expect(classes.points.count < rows.count)
        let problem = fitter.problem(classes)
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<20 {
            let x = fitter.options.effectiveBounds.enumerated().map { j, range in
                j < 3 ? Double.random(in: 0.001...1, using: &generator) : Double.random(in: 0...50, using: &generator)
            }
            var r = [Double](repeating: 0, count: problem.residualCount)
            let reduced = problem.residuals(x, &r) + problem.offset
            let direct = rows.map { row -> Double in
                let e =
                    model.predict(fitter.options.point(row.shape), x) - row.timeMs
                let weighted = loss == .relative ? e / row.timeMs : e
                return weighted * weighted
            }.reduce(0, +)
            #expect(abs(reduced - direct) <= 1e-9 * direct, "x = \(x): reduced \(reduced), direct \(direct)")
        }
    }

    /// SciPy curve_fit with sigma = measured (the relative loss), measured with SciPy 1.17.1.
    @Test func relativeLossNoWorseThanCurveFit() throws {
        let data = try FitDataset.load(
            paths: [originalDataPath], excluding: [RowFilter(column: "plot", value: "increasing_batch")])
        let report = try AlphaFitter(options: FitOptions(loss: .relative, flopsConvention: .asperti)).fit(data)
        let scipy = ["K=1": 71.07573484211875, "K>1": 16.072991044405840]
        for fit in report.fits {
            #expect(fit.diagnostics!.sse <= scipy[fit.group]! * (1 + 1e-6), "\(fit.group): \(fit.diagnostics!.sse)")
        }
    }
}
