import Basics
import ConvKernels
import Foundation
import Testing

@testable import AlphaFit

/// The data-movement model, the held-out metrics, the folds and the noise floor.
struct ModelTableTests {
    @Test func dataMovementRecoversItsRatesAndFixedCost() throws {
        // 60 GFLOP/s, 25 GB/s and 20 µs a call, exactly: the linear model comes back to 1e-6.
        let shapes = gridShapes(count: 200, seed: 11, kernels: [1]) + gridShapes(count: 400, seed: 12, kernels: [3, 7])
        let truth = [1000 / 60.0, 1000 / 25.0, 0.02]
        let rows = syntheticRows(
            shapes, model: .dataMovement, parameters: truth, convention: .standard, noise: 0, seed: 1)
        for loss in FitLoss.allCases {
            let report = try AlphaFitter(options: FitOptions(model: .dataMovement, loss: loss, starts: 2)).fit(
                dataset(rows))
            for fit in report.fits {
                for (name, value) in zip(FitModel.dataMovement.parameterNames, truth) {
                    #expect(abs(fit.parameters[name]! / value - 1) < 1e-6, "\(fit.group) \(name) \(loss)")
                }
            }
        }
    }

    @Test func tensorBytesRecoversEachTensorsRateAndHoldsTheLoweredRateWhereNothingIsLowered() throws {
        // 60 GFLOP/s; input at 30 GB/s, weights at 80, output at 20, the lowered matrix at 40; 20 µs a
        // call, exactly. Pointwise layers lower nothing: their group holds the lowered rate at 0 and
        // fits the other five; the K > 1 group fits all six.
        let shapes = gridShapes(count: 200, seed: 11, kernels: [1]) + gridShapes(count: 400, seed: 12, kernels: [3, 7])
        let truth = [1000 / 60.0, 1000 / 30.0, 1000 / 80.0, 1000 / 20.0, 1000 / 40.0, 0.02]
        let rows = syntheticRows(
            shapes, model: .tensorBytes, parameters: truth, convention: .standard, noise: 0, seed: 1)
        for loss in FitLoss.allCases {
            let report = try AlphaFitter(options: FitOptions(model: .tensorBytes, loss: loss, starts: 2)).fit(
                dataset(rows))
            #expect(report.fits.map(\.group) == ["K=1", "K>1"])
            for fit in report.fits {
                let lowered = fit.group == "K=1"
                #expect(fit.fixed == (lowered ? ["msPerGBLowered"] : nil), "\(fit.group)")
                for (name, value) in zip(FitModel.tensorBytes.parameterNames, truth) {
                    let expected = lowered && name == "msPerGBLowered" ? 0 : value
                    #expect(abs(fit.parameters[name]! - expected) <= 1e-6 * value, "\(fit.group) \(name) \(loss)")
                }
            }
        }
    }

    @Test func tensorBytesWithEqualRatesIsTheDataMovementModel() {
        for shape in [
            ConvShape(height: 10, width: 20, inputChannels: 3, outputChannels: 5, kernel: 3),
            ConvShape(height: 56, width: 56, inputChannels: 64, outputChannels: 256, kernel: 1),
            ConvShape(
                height: 56, width: 56, inputChannels: 96, outputChannels: 96, kernel: 3, stride: 2,
                padding: .uniform(1), groups: 96),
            ConvShape.fullyConnected(rows: 1, inputs: 1280, outputs: 1000),
        ] {
            let point = ModelPoint(shape: shape, convention: .standard, bytes: .algorithm)
            let movement = FitModel.dataMovement.predict(point, [7, 30, 0.01])
            #expect(abs(FitModel.tensorBytes.predict(point, [7, 30, 30, 30, 30, 0.01]) / movement - 1) < 1e-12)
            // Each tensor's rate charges that tensor's bytes alone.
            let a = Accounting(shape: shape)
            let weightsOnly = FitModel.tensorBytes.predict(point, [0, 0, 1, 0, 0, 0])
            #expect(abs(weightsOnly - Double(a.weightBytes) / 1e9) <= 1e-12 * max(1, weightsOnly))
        }
    }

    @Test func depthwiseLayersMoveNoLoweredMatrixAndHeldOutPredictionsCountBytesAsTheFit() throws {
        // depthwise-direct reads its input in place: no im2col bytes (before: 2 × FLOPs of them).
        let depthwise = ConvShape(
            height: 56, width: 56, inputChannels: 96, outputChannels: 96, kernel: 3, stride: 2,
            padding: .uniform(1), groups: 96)
        let tensors = { (a: Accounting) in a.inputBytes + a.weightBytes + a.outputBytes }
        #expect(Accounting(shape: depthwise).movedBytes == tensors(Accounting(shape: depthwise)))
        let old = Accounting(shape: depthwise, bytes: .everyKxK)
        #expect(Double(old.movedBytes - tensors(old)) == 2 * old.flops)
        let dense = ConvShape(height: 28, width: 28, inputChannels: 32, outputChannels: 64, kernel: 3)
        #expect(Accounting(shape: dense).movedBytes == Accounting(shape: dense, bytes: .everyKxK).movedBytes)
        // Depthwise layers timed exactly by the data-movement model under the new count: the fit
        // recovers it, and every held-out prediction of the cross-validation lands on the truth.
        let truth = [1000 / 20.0, 1000 / 10.0, 0.005]
        var shapes: [ConvShape] = []
        for size in [14, 28, 56, 112] {
            for channels in [16, 32, 96, 144, 576] {
                for stride in [1, 2] {
                    shapes.append(
                        ConvShape(
                            height: size, width: size, inputChannels: channels, outputChannels: channels, kernel: 3,
                            stride: stride, padding: .uniform(1), groups: channels))
                }
            }
        }
        let rows = syntheticRows(
            shapes, model: .dataMovement, parameters: truth, convention: .standard, noise: 0, seed: 1)
        let options = FitOptions(model: .dataMovement, loss: .relative, starts: 2)
        let report = try AlphaFitter(options: options).fit(dataset(rows))
        #expect(report.fits.map(\.group) == ["grouped"])
        for (name, value) in zip(FitModel.dataMovement.parameterNames, truth) {
            #expect(abs(report.fits[0].parameters[name]! / value - 1) < 1e-6, "\(name)")
        }
        let run = try AlphaFitter(options: options).crossValidate(dataset(rows), folds: 5, models: [.dataMovement])
        for (predicted, row) in zip(run.predictions[0], rows) {
            #expect(abs(predicted / row.timeMs - 1) < 1e-6, "\(row.shape)")
        }
    }

    @Test func optionsWrittenBeforeTheBytesConventionReadAsTheOldCount() throws {
        let written = try JSONEncoder().encode(FitOptions(model: .dataMovement))
        var object = try #require(try JSONSerialization.jsonObject(with: written) as? [String: Any])
        #expect(object["bytesConvention"] as? String == "algorithm")
        object["bytesConvention"] = nil
        let older = try JSONDecoder().decode(
            FitOptions.self, from: try JSONSerialization.data(withJSONObject: object))
        #expect(older.bytesConvention == .everyKxK)
        var same = FitOptions(model: .dataMovement)
        same.bytesConvention = .everyKxK
        #expect(older == same)
    }

    @Test func aGroupWhoseFeaturesAreConstantCannotBeFitted() throws {
        // Ten measurements of one layer: one point of every model's features, fewer than 3 parameters
        // (the FLOPs model has one: a rate, which one layer determines).
        let shape = ConvShape(height: 8, width: 8, inputChannels: 16, outputChannels: 16, kernel: 3)
        let rows = (0..<10).map { FitRow(shape: shape, timeMs: 1 + 0.01 * Double($0), row: $0 + 2) }
        for model in FitModel.allCases where model.parameterCount > 1 {
            let error = #expect(throws: FitInputError.self) {
                try AlphaFitter(
                    options: FitOptions(
                        model: model, grouping: .perK,
                        workSetting: WorkSetting(level2Bytes: 512 << 10, lastLevelBytes: 32 << 20))
                ).fit(dataset(rows))
            }
            #expect(error?.description.contains("a feature is constant over the group") == true, "\(model)")
        }
    }

    @Test func theFlopsModelIsOneRatePerGroup() throws {
        // 40 GFLOP/s exactly: 25 ms per GFLOP in every group, whatever the layers' shapes.
        let shapes = gridShapes(count: 50, seed: 3, kernels: [1]) + gridShapes(count: 50, seed: 4, kernels: [3, 5])
        let rows = syntheticRows(shapes, model: .flops, parameters: [25], convention: .standard, noise: 0, seed: 1)
        let report = try AlphaFitter(options: FitOptions(model: .flops, starts: 2)).fit(dataset(rows))
        #expect(report.fits.map(\.group) == ["K=1", "K>1"])
        for fit in report.fits { #expect(abs(fit.parameters["msPerGflop"]! / 25 - 1) < 1e-9, "\(fit.group)") }
    }

    @Test func alphaOverFullyConnectedLayersHoldsBetaAndGammaAndFitsTheRate() throws {
        // Every fully-connected layer has S = S_K = 1: the spatial term is 1, the data cannot tell
        // beta or gamma, and alpha-FLOPs is final · FLOPs. Times at 0.05 ms per MFLOP ± 3%.
        var generator = SeededGenerator(seed: 5)
        let rows = (0..<12).map { i -> FitRow in
            let shape = ConvShape.fullyConnected(
                rows: [1, 49, 196][i % 3], inputs: 64 * (1 + i), outputs: 1000 - 50 * i)
            let flops = Accounting(shape: shape).flops
            return FitRow(
                shape: shape, timeMs: 5e-8 * flops * Double.random(in: 0.97...1.03, using: &generator), row: i + 2)
        }
        for model in [FitModel.alpha, .alphaChannels] {
            let report = try AlphaFitter(options: FitOptions(model: model, loss: .relative)).fit(dataset(rows))
            let fit = try #require(report.fits.first)
            #expect(report.fits.map(\.group) == ["FC"])
            #expect(fit.fixed == ["beta", "gamma"], "\(model)")
            #expect(fit.parameters["beta"] == 1 && fit.parameters["gamma"] == 1)
            #expect(fit.diagnostics?.standardErrors?["beta"] == nil)
            #expect(fit.diagnostics?.standardErrors?["final"] != nil, "\(model): final is fitted and judged")
            if model == .alpha { #expect(abs(fit.parameters["final"]! / 5e-8 - 1) < 0.02) }
            let predicted = try report.predict(rows[0].shape)
            #expect(abs(predicted / rows[0].timeMs - 1) < 0.1)
        }
    }

    @Test func theDataMovementTermsAreTheBytesAnIm2colConvolutionMoves() {
        let shape = ConvShape(height: 10, width: 20, inputChannels: 3, outputChannels: 5, kernel: 3)
        let a = Accounting(shape: shape)
        #expect(a.loweredBytes == 4 * 9 * 3 * 200)
        #expect(a.movedBytes == 4 * (3 * 200 + 5 * 3 * 9 + 5 * 200) + a.loweredBytes)
        #expect(
            Accounting(shape: ConvShape(height: 10, width: 20, inputChannels: 3, outputChannels: 5, kernel: 1))
                .loweredBytes == 0)
        // 1 ms per GFLOP, 2 ms per GB, 0.5 ms fixed.
        let point = ModelPoint(shape: shape, convention: .standard, bytes: .algorithm)
        let expected = a.flops / 1e9 + 2 * Double(a.movedBytes) / 1e9 + 0.5
        #expect(abs(FitModel.dataMovement.predict(point, [1, 2, 0.5]) / expected - 1) < 1e-12)
    }

    @Test func metricsOfKnownPredictions() throws {
        let measured = [1.0, 2.0, 4.0, 10.0]
        let predicted = [1.04, 2.18, 3.0, 10.0]  // relative errors +4%, +9%, −25%, 0
        let m = PredictionMetrics(measured: measured, predicted: predicted)
        #expect(m.n == 4)
        #expect(abs(m.rmseMs - ((0.04 * 0.04 + 0.18 * 0.18 + 1) / 4).squareRoot()) < 1e-12)
        #expect(abs(m.nrmse! - m.rmseMs / 9) < 1e-12)
        #expect(abs(m.mapePercent - 100 * (0.04 + 0.09 + 0.25) / 4) < 1e-9)
        #expect(abs(m.rmspePercent - 100 * ((0.0016 + 0.0081 + 0.0625) / 4).squareRoot()) < 1e-9)
        #expect(m.within5Percent == 50 && m.within10Percent == 75 && m.within25Percent == 100)
    }

    @Test func everyFoldHoldsEveryKernelAndFoldsAreSeeded() throws {
        let shapes =
            gridShapes(count: 40, seed: 1, kernels: [1]) + gridShapes(count: 200, seed: 2, kernels: [2, 3, 5, 9])
        let rows = syntheticRows(
            shapes, model: .alpha, parameters: [0.1, 1, 1e-8], convention: .standard, noise: 0.01, seed: 3)
        let fitter = AlphaFitter()
        let folds = try fitter.foldAssignment(dataset(rows), folds: 5, seed: 9)
        for k in [1, 2, 3, 5, 9] {
            let kernels = Set(rows.indices.filter { rows[$0].shape.kernelHeight == k }.map { folds[$0] })
            #expect(kernels == Set(0..<5), "K = \(k) is in folds \(kernels.sorted())")
        }
        let sizes = (0..<5).map { f in folds.filter { $0 == f }.count }
        #expect(sizes.max()! - sizes.min()! <= 2)
        #expect(try fitter.foldAssignment(dataset(rows), folds: 5, seed: 9) == folds)
        #expect(try fitter.foldAssignment(dataset(rows), folds: 5, seed: 10) != folds)
        #expect(throws: FitInputError.self) { try fitter.foldAssignment(dataset(rows), folds: 1, seed: 9) }
        #expect(throws: FitInputError.self) {
            try fitter.foldAssignment(dataset(Array(rows.prefix(3))), folds: 5, seed: 9)
        }
    }

    @Test func crossValidationPredictsEveryRowOnceFromFitsThatDidNotSeeIt() throws {
        let shapes = gridShapes(count: 100, seed: 21, kernels: [1]) + gridShapes(count: 300, seed: 22, kernels: [3, 5])
        let rows = syntheticRows(
            shapes, model: .dataMovement, parameters: [15, 40, 0.01], convention: .standard, noise: 0.03, seed: 23)
        let run = try AlphaFitter(options: FitOptions(loss: .relative, starts: 4)).crossValidate(
            dataset(rows), folds: 5)
        #expect(
            run.predictions.count == FitModel.allCases.filter(FitOptions().canFit).count
                && run.predictions.allSatisfy { $0.count == rows.count && $0.allSatisfy(\.isFinite) })
        // The report's metrics are those of the predictions it returns.
        for (result, predicted) in zip(run.report.results, run.predictions) {
            #expect(result.metrics == PredictionMetrics(measured: rows.map(\.timeMs), predicted: predicted))
        }
        // A data-movement world: its model is best held out, near the 3% noise.
        let movement = try #require(run.report.results.first { $0.model == .dataMovement }?.metrics)
        let alpha = try #require(run.report.results.first { $0.model == .alpha }?.metrics)
        #expect(movement.within10Percent > alpha.within10Percent)
        #expect(movement.mapePercent < 3.5)
        // A held-out prediction is not the in-sample one: refitting without row 0's fold moves it.
        let whole = try AlphaFitter(options: FitOptions(model: .dataMovement, loss: .relative)).fit(dataset(rows))
        #expect(try whole.predict(rows[0].shape) != run.predictions[2][0])
    }

    @Test func theNoiseFloorFollowsTheRoundsSpread() throws {
        // Three clean rounds whose range is 1.693 · 5% of the time: σ = 5% for every row.
        let rows = (0..<50).map { i in
            FitRow(
                shape: ConvShape(height: 8, width: 8, inputChannels: 8, outputChannels: 8, kernel: 3), timeMs: 2,
                carried: [
                    "rounds": "3", "clean_rounds": "3", "round_min_ms": "2",
                    "round_max_ms": "\(2 + 2 * 0.05 * 1.693)",
                ], row: i + 2)
        }
        let floor = try #require(NoiseFloor(rows: rows + [FitRow(shape: rows[0].shape, timeMs: 1)]))
        #expect(floor.rowsWithRounds == 50 && floor.rows == 51)
        #expect(abs(floor.medianNoisePercent - 5) < 1e-9)
        #expect(abs(floor.within10Percent - 100 * erf(2 / 2.0.squareRoot())) < 1e-9)  // 95.45%
        #expect(abs(floor.mapePercent - 5 * (2 / Double.pi).squareRoot()) < 1e-9)
        #expect(abs(floor.rmspePercent - 5) < 1e-9)
        #expect(NoiseFloor(rows: [FitRow(shape: rows[0].shape, timeMs: 1)]) == nil)
    }
}
