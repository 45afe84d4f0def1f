import Foundation
import TestSupport
import Testing

@testable import AlphaFit

@Suite struct ReportTests {
    func fitted() throws -> (FitDataset, FitReport) {
        let data = try FitDataset.load(
            paths: [originalDataPath], excluding: [RowFilter(column: "plot", value: "increasing_batch")])
        return (data, try AlphaFitter(options: FitOptions(flopsConvention: .asperti, starts: 4)).fit(data))
    }

    @Test func fitJSONRoundTrips() throws {
        let (_, report) = try fitted()
        let path = temporaryDirectoryURL().appendingPathComponent("fit.json").path
        try report.jsonData().write(to: URL(fileURLWithPath: path))
        #expect(try FitReport.load(path: path) == report)
    }

    @Test func handWrittenFitMissingAParameterIsRejected() throws {
        let path = try writeTemporary(
            """
            {"model": "alpha", "grouping": "k1-rest", "flopsConvention": "asperti",
             "fits": [{"group": "K=1", "parameters": {"beta": 0.02, "final": 0.0375}}]}
            """, name: "fit.json")
        let error = try #require(throws: FitInputError.self) { try FitReport.load(path: path) }
        #expect(error.column == "fits[K=1].parameters.gamma")
    }

    @Test func predictionsAndSeriesErrors() throws {
        let (data, report) = try fitted()
        let predictions = try report.predictions(for: data)
        #expect(predictions.count == 590)
        let columns = PredictionTable.defaultSeriesColumns(data)
        #expect(columns == ["plot", "line"])
        let errors = PredictionTable.seriesErrors(predictions, seriesColumns: columns)
        // Recompute one series by hand.
        let first = errors[0]
        let members = predictions.filter { [$0.row.carried["plot"]!, $0.row.carried["line"]!] == first.key }
        let rmse = (members.map { pow($0.predictedMs - $0.row.timeMs, 2) }.reduce(0, +) / Double(members.count))
            .squareRoot()
        let range = members.map(\.row.timeMs).max()! - members.map(\.row.timeMs).min()!
        #expect(first.n == members.count)
        #expect(abs(first.rmseMs - rmse) <= 1e-12 * rmse)
        #expect(abs(first.nrmse! - rmse / range) <= 1e-12 * rmse / range)
        #expect(errors.map(\.n).reduce(0, +) == 590)

        let csv = String(decoding: try PredictionTable.predictionsCSV(predictions, dataset: data), as: UTF8.self)
        let lines = csv.split(whereSeparator: \.isNewline)
        #expect(lines.count == 591)
        #expect(lines[0] == "input,row,plot,line,H,W,Cin,Cout,K1,K2,batch,measured_ms,predicted_ms,residual_ms")
        let errorsCSV = String(decoding: try PredictionTable.errorsCSV(errors, seriesColumns: columns), as: UTF8.self)
        #expect(errorsCSV.hasPrefix("plot,line,n,rmse_ms,range_ms,nrmse\n"))
    }

    @Test func unknownGroupCannotBePredicted() throws {
        let report = FitReport(
            model: .alpha, grouping: .perK, flopsConvention: .standard,
            fits: [GroupFit(group: "taps=9", parameters: ["beta": 0.01, "gamma": 0.8, "final": 1e-8])])
        #expect(throws: FitInputError.self) { try report.predict(h: 8, w: 8, cin: 8, cout: 8, k1: 1, k2: 1) }
        #expect(try report.predict(h: 8, w: 8, cin: 8, cout: 8, k1: 3, k2: 3) > 0)
    }

    @Test func crossValidationComparesModelsOnTheSameFolds() throws {
        // Data with a real channel overhead: alpha-channels must generalise better than alpha.
        let shapes = gridShapes(count: 300, seed: 4, kernels: [1]) + gridShapes(count: 300, seed: 5, kernels: [3, 5])
        let rows = syntheticRows(
            shapes, model: .alphaChannels, parameters: [0.01, 0.9, 0.05, 40, 60],
            convention: .asperti, noise: 0.01, seed: 6)
        let cv = try AlphaFitter(options: FitOptions(loss: .relative, flopsConvention: .asperti, starts: 2))
            .crossValidate(dataset(rows), folds: 5).report
        #expect(cv.results.map(\.model) == [.alpha, .alphaChannels, .dataMovement, .tensorBytes, .flops])
        #expect(cv.results.allSatisfy { $0.foldRmseMs.count == 5 && $0.rmseMs.isFinite })
        #expect(cv.results[1].rmseMs < cv.results[0].rmseMs)
        #expect(cv.results[1].mapePercent < 2)
        #expect(cv.loss == .relative && cv.noiseFloor == nil, "synthetic rows carry no rounds")
        let metrics = try #require(cv.results[1].metrics)
        #expect(metrics.within10Percent > 99 && metrics.n == 600)
        #expect(cv.results[1].groups?.map(\.group) == ["K=1", "K>1"])
    }
}
