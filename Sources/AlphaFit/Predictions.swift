import Basics
import ConvKernels
import Foundation

/// One row's prediction.
public struct Prediction: Codable, Hashable, Sendable {
    /// The row predicted.
    public var row: FitRow
    /// The prediction, milliseconds.
    public var predictedMs: Double
    /// predicted − measured, in ms.
    public var residualMs: Double { predictedMs - row.timeMs }
}

/// The errors of one series (a line of a figure).
public struct SeriesError: Codable, Hashable, Sendable {
    /// The values of the series columns that identify the series.
    public var key: [String]
    /// Rows of the series.
    public var n: Int
    /// The root mean square error, milliseconds.
    public var rmseMs: Double
    /// max − min of the measured times of the series.
    public var rangeMs: Double
    /// RMSE / range (nil when the range is 0), as the replication reports.
    public var nrmse: Double?
}

extension FitReport {
    /// Predicts every row of `dataset`.
    public func predictions(for dataset: FitDataset) throws -> [Prediction] {
        try dataset.rows.map { row in
            do { return Prediction(row: row, predictedMs: try predict(row.shape)) } catch let error as FitInputError {
                throw FitInputError(
                    input: dataset.inputs[row.input].file, row: row.row, column: error.column, error.message)
            }
        }
    }
}

/// Writing predictions and per-series errors as CSV (see docs/fit-format.md).
public enum PredictionTable {
    /// The columns identifying a series: `experiment,series` when the data has them, else
    /// `plot,line` (the original study's data), else none (one series of everything).
    public static func defaultSeriesColumns(_ dataset: FitDataset) -> [String] {
        for pair in [["experiment", "series"], ["plot", "line"]] where pair.allSatisfy(dataset.carriedColumns.contains)
        {
            return pair
        }
        return dataset.carriedColumns.filter { $0 == "experiment" || $0 == "series" || $0 == "plot" }
    }

    /// Per-series RMSE and nRMSE, series in first-seen order.
    public static func seriesErrors(_ predictions: [Prediction], seriesColumns: [String]) -> [SeriesError] {
        var order: [[String]] = []
        var members: [[String]: [Prediction]] = [:]
        for p in predictions {
            let key = seriesColumns.map { p.row.carried[$0] ?? "" }
            if members[key] == nil { order.append(key) }
            members[key, default: []].append(p)
        }
        return order.map { key in
            let rows = members[key]!
            let rmse = (rows.map { $0.residualMs * $0.residualMs }.reduce(0, +) / Double(rows.count)).squareRoot()
            let measured = rows.map(\.row.timeMs)
            let range = measured.max()! - measured.min()!
            return SeriesError(
                key: key, n: rows.count, rmseMs: rmse, rangeMs: range, nrmse: range > 0 ? rmse / range : nil)
        }
    }

    /// predictions.csv: input,row, the carried columns, H,W,Cin,Cout,K1,K2,batch,
    /// measured_ms,predicted_ms,residual_ms, and the layer columns when a layer is not the grid's.
    public static func predictionsCSV(_ predictions: [Prediction], dataset: FitDataset) throws -> Data {
        let layer = ConvShape.needGeometryColumns(predictions.map(\.row.shape))
        let header =
            ["input", "row"] + dataset.carriedColumns
            + ["H", "W", "Cin", "Cout", "K1", "K2", "batch", "measured_ms", "predicted_ms", "residual_ms"]
            + (layer ? ConvShape.geometryColumns : [])
        let rows = predictions.map { p -> [String] in
            let s = p.row.shape
            return [dataset.inputs[p.row.input].path, String(p.row.row)]
                + dataset.carriedColumns.map { p.row.carried[$0] ?? "" }
                + [s.height, s.width, s.inputChannels, s.outputChannels, s.kernelHeight, s.kernelWidth, s.batch]
                .map(String.init)
                + [p.row.timeMs, p.predictedMs, p.residualMs].map { "\($0)" } + (layer ? s.geometryFields : [])
        }
        return Data(CSVText.text(header: header, rows: rows).utf8)
    }

    /// errors.csv: the series columns, n, rmse_ms, range_ms, nrmse.
    public static func errorsCSV(_ errors: [SeriesError], seriesColumns: [String]) throws -> Data {
        let rows = errors.map { e in
            e.key + [String(e.n), "\(e.rmseMs)", "\(e.rangeMs)", e.nrmse.map { "\($0)" } ?? ""]
        }
        return Data(CSVText.text(header: seriesColumns + ["n", "rmse_ms", "range_ms", "nrmse"], rows: rows).utf8)
    }

}
