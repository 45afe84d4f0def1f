import AlphaFit
import Foundation

/// `fit/cv-predictions.csv` as values: every row of the model table's sample, its fold and each
/// model's held-out prediction of it. ``ModelTable/build(dataset:options:folds:shippedFiles:)``
/// computes it, ``table`` is its one writer's text, ``read(from:)`` its one reader; the verifier
/// compares what a package states with a new cross-validation as values.
///
/// Columns: config_id, experiment, series, group, K1, K2, flops, fold, measured_ms, then one
/// `<model>_ms` column per model of the table.
public struct HeldOutPredictions: Equatable, Sendable {
    /// One row of the sample.
    public struct Row: Equatable, Sendable {
        /// The configuration, its experiment, series and fit group.
        public var configID, experiment, series, group: String
        /// The kernel's sides.
        public var k1, k2: Int
        /// The layer's FLOPs.
        public var flops: Double
        /// The fold the row was held out in.
        public var fold: Int
        /// The measured time, ms.
        public var measuredMs: Double
        /// Each model's held-out prediction, ms, in the order of ``HeldOutPredictions/models``.
        public var predictedMs: [Double]
    }

    /// The models, in column order.
    public var models: [String]
    /// The rows, in sample order.
    public var rows: [Row]

    static let leadingColumns = [
        "config_id", "experiment", "series", "group", "K1", "K2", "flops", "fold", "measured_ms",
    ]

    /// The measured times, in row order.
    public var measuredMs: [Double] { rows.map(\.measuredMs) }

    /// The held-out predictions of `model`, in row order; nil for a model the file lacks.
    public func predictedMs(by model: String) -> [Double]? {
        models.firstIndex(of: model).map { m in rows.map { $0.predictedMs[m] } }
    }

    /// The CSV table, every number with the digits it needs to read back equal.
    public var table: Table {
        Table(
            header: Self.leadingColumns + models.map { "\($0)_ms" },
            rows: rows.map { r in
                [
                    r.configID, r.experiment, r.series, r.group, "\(r.k1)", "\(r.k2)", "\(r.flops)", "\(r.fold)",
                    "\(r.measuredMs)",
                ] + r.predictedMs.map { "\($0)" }
            })
    }

    /// Reads a `cv-predictions.csv`; `name` is how errors name the file.
    ///
    /// - Throws: ``PackageError`` naming the file, and the line and column of a field that does not read.
    public static func read(from url: URL, name: String) throws -> HeldOutPredictions {
        let table: Table
        do { table = try Table(contentsOf: url) } catch { throw PackageError("\(error)") }
        if let missing = leadingColumns.first(where: { table.column($0) == nil }) {
            throw PackageError("\(name): no column '\(missing)'")
        }
        let modelColumns = table.header.filter { $0.hasSuffix("_ms") && $0 != "measured_ms" }
        var rows: [Row] = []
        for (index, record) in table.records.enumerated() {
            func fail(_ column: String, _ expected: String) -> PackageError {
                PackageError("\(name):\(index + 2): \(column): expected \(expected), got '\(record[column] ?? "")'")
            }
            func integer(_ column: String) throws -> Int {
                guard let value = Int(record[column]!) else { throw fail(column, "an integer") }
                return value
            }
            func number(_ column: String) throws -> Double {
                guard let value = Double(record[column]!), value.isFinite else { throw fail(column, "a number") }
                return value
            }
            rows.append(
                Row(
                    configID: record["config_id"]!, experiment: record["experiment"]!, series: record["series"]!,
                    group: record["group"]!, k1: try integer("K1"), k2: try integer("K2"), flops: try number("flops"),
                    fold: try integer("fold"), measuredMs: try number("measured_ms"),
                    predictedMs: try modelColumns.map(number)))
        }
        return HeldOutPredictions(models: modelColumns.map { String($0.dropLast(3)) }, rows: rows)
    }
}
