import AlphaFit
import ConvKernels
import Foundation
import Rows

/// What a package's fit predicts of the measured rows of its data files, and its error per
/// series: `fit/predictions.csv` and `fit/errors.csv` as values. The builder computes them
/// (``init(fit:package:dataFiles:)``) and writes them (``write(package:)``, their one writer);
/// the verifier computes them again from the package's data, reads the stated ones back
/// (``read(package:)``, their one reader) and compares the two as values.
///
/// predictions.csv: config_id, experiment, series, H, W, Cin, Cout, K1, K2, batch, flops,
/// measured_ms, predicted_ms, residual_ms (measured rows only), then the layer columns of
/// measurements.csv when a layer is not the grid's. errors.csv: experiment, series, n, rmse_ms,
/// range_ms, nrmse.
public struct PackagePredictions: Equatable, Sendable {
    /// One measured row of a data file and the fit's prediction of it.
    public struct Row: Equatable, Sendable {
        /// The configuration, its experiment and its series.
        public var configID, experiment, series: String
        /// The layer.
        public var shape: ConvShape
        /// The row's FLOPs, as its data file states them.
        public var flops: String
        /// The measured time (the row's median), the prediction and their difference, ms.
        public var measuredMs, predictedMs, residualMs: Double
    }

    /// The fit's error over one series.
    public struct SeriesError: Equatable, Sendable {
        /// The series.
        public var experiment, series: String
        /// Its measured rows.
        public var n: Int
        /// The root mean squared error and the range of the measured times, ms.
        public var rmseMs, rangeMs: Double
        /// RMSE over the range (nil when every time is the same).
        public var nrmse: Double?
    }

    /// Every measured row the fit has a group for, in data-file order.
    public var rows: [Row]
    /// Every series, in data-file order.
    public var errors: [SeriesError]

    static let predictionColumns = [
        "config_id", "experiment", "series", "H", "W", "Cin", "Cout", "K1", "K2", "batch", "flops", "measured_ms",
        "predicted_ms", "residual_ms",
    ]
    static let errorColumns = ["experiment", "series", "n", "rmse_ms", "range_ms", "nrmse"]

    /// The predictions of `fit` on the data files `dataFiles` of the package at `root`. Layers of
    /// a kind the fit has no group for (grouped, fully connected) are not predicted.
    public init(fit: FitReport, package root: URL, dataFiles: [String]) throws {
        rows = []
        errors = []
        let fitted = Set(fit.fits.map(\.group))
        for relative in dataFiles {
            var dataset = try FitDataset.load(paths: [root.appendingPathComponent(relative).path])
            dataset.rows.removeAll { !fitted.contains(fit.grouping.groupName(for: $0.shape)) }
            let predictions = try fit.predictions(for: dataset)
            rows += predictions.map { p in
                Row(
                    configID: p.row.carried["config_id"] ?? "", experiment: p.row.carried["experiment"] ?? "",
                    series: p.row.carried["series"] ?? "", shape: p.row.shape, flops: p.row.carried["flops"] ?? "",
                    measuredMs: p.row.timeMs, predictedMs: p.predictedMs, residualMs: p.residualMs)
            }
            errors += PredictionTable.seriesErrors(predictions, seriesColumns: ["experiment", "series"]).map { e in
                SeriesError(
                    experiment: e.key[0], series: e.key[1], n: e.n, rmseMs: e.rmseMs, rangeMs: e.rangeMs, nrmse: e.nrmse
                )
            }
        }
    }

    init(rows: [Row], errors: [SeriesError]) {
        self.rows = rows
        self.errors = errors
    }

    /// What package.json states of the errors.
    public var errorStatements: [PackageStatement.SeriesErrorStatement] {
        errors.map { .init(experiment: $0.experiment, series: $0.series, n: $0.n, rmseMs: $0.rmseMs, nrmse: $0.nrmse) }
    }

    /// fit/predictions.csv and fit/errors.csv as tables, every number with the digits it needs to
    /// read back equal.
    var tables: (predictions: Table, errors: Table) {
        let layer = MeasurementRow.needsLayerColumns(rows.map(\.shape))
        let predictions = Table(
            header: Self.predictionColumns + (layer ? MeasurementRow.layerColumns : []),
            rows: rows.map { r in
                let s = r.shape
                return [r.configID, r.experiment, r.series]
                    + [s.height, s.width, s.inputChannels, s.outputChannels, s.kernelHeight, s.kernelWidth, s.batch]
                    .map(String.init)
                    + [r.flops, "\(r.measuredMs)", "\(r.predictedMs)", "\(r.residualMs)"]
                    + (layer ? s.geometryFields : [])
            })
        let errors = Table(
            header: Self.errorColumns,
            rows: errors.map { e in
                [e.experiment, e.series, "\(e.n)", "\(e.rmseMs)", "\(e.rangeMs)", e.nrmse.map { "\($0)" } ?? ""]
            })
        return (predictions, errors)
    }

    /// Writes fit/predictions.csv and fit/errors.csv into the package at `root`.
    public func write(package root: URL) throws {
        let (predictions, errors) = tables
        try predictions.write(to: root.appendingPathComponent(PackageLayout.predictions))
        try errors.write(to: root.appendingPathComponent(PackageLayout.errors))
    }

    /// Reads fit/predictions.csv and fit/errors.csv of the package at `root`.
    ///
    /// - Throws: ``PackageError`` naming the file, line and column of a field that does not read.
    public static func read(package root: URL) throws -> PackagePredictions {
        func table(_ path: String, columns: [String]) throws -> (Table, (Int, String) throws -> Never) {
            let table: Table
            do { table = try Table(contentsOf: root.appendingPathComponent(path)) } catch {
                throw PackageError("\(error)")
            }
            if let missing = columns.first(where: { table.column($0) == nil }) {
                throw PackageError("\(path): no column '\(missing)'")
            }
            return (table, { line, problem in throw PackageError("\(path):\(line): \(problem)") })
        }
        let (predictions, predictionsFail) = try table(PackageLayout.predictions, columns: predictionColumns)
        var rows: [Row] = []
        for (index, record) in predictions.records.enumerated() {
            let line = index + 2
            func integer(_ column: String) throws -> Int {
                guard let value = Int(record[column] ?? "") else {
                    try predictionsFail(line, "\(column): expected an integer, got '\(record[column] ?? "")'")
                }
                return value
            }
            func number(_ column: String) throws -> Double {
                guard let value = Double(record[column] ?? "") else {
                    try predictionsFail(line, "\(column): expected a number, got '\(record[column] ?? "")'")
                }
                return value
            }
            var shape = ConvShape(
                batch: try integer("batch"), height: try integer("H"), width: try integer("W"),
                inputChannels: try integer("Cin"), outputChannels: try integer("Cout"),
                kernelHeight: try integer("K1"), kernelWidth: try integer("K2"))
            do { try shape.readGeometry { record[$0] } } catch {
                try predictionsFail(line, "\(error.column): \(error.problem)")
            }
            // A hostile file's overflowing dimensions stop here, not in the accounting.
            do { try shape.validateReadable() } catch {
                try predictionsFail(line, "\(shape.sizesAsRead): \(error.description)")
            }
            rows.append(
                Row(
                    configID: record["config_id"]!, experiment: record["experiment"]!, series: record["series"]!,
                    shape: shape, flops: record["flops"]!, measuredMs: try number("measured_ms"),
                    predictedMs: try number("predicted_ms"), residualMs: try number("residual_ms")))
        }
        let (errorTable, errorsFail) = try table(PackageLayout.errors, columns: errorColumns)
        var errors: [SeriesError] = []
        for (index, record) in errorTable.records.enumerated() {
            let line = index + 2
            guard let n = Int(record["n"]!), let rmse = Double(record["rmse_ms"]!),
                let range = Double(record["range_ms"]!)
            else { try errorsFail(line, "n, rmse_ms and range_ms must be numbers") }
            let nrmse = record["nrmse"]!
            guard nrmse.isEmpty || Double(nrmse) != nil else {
                try errorsFail(line, "nrmse: expected a number or nothing, got '\(nrmse)'")
            }
            errors.append(
                SeriesError(
                    experiment: record["experiment"]!, series: record["series"]!, n: n, rmseMs: rmse, rangeMs: range,
                    nrmse: Double(nrmse)))
        }
        return PackagePredictions(rows: rows, errors: errors)
    }
}
