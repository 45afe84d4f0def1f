import AlphaFit
import Foundation
import Rows

/// `fit/model-predictions.csv`: every measured row of the package predicted by each parametric
/// model of the model table, fitted on the table's whole sample with the table's options — what
/// the experiment figures overlay beside alpha-FLOPs' line (issue 40: the bands and steps of
/// experiments E and F drawn by the model that has them).
///
/// Columns `config_id,experiment,series,measured_ms` and `<model>_ms` per model; a cell is empty
/// where the model's fit has no group for the row (a fully-connected layer: the table's sample
/// holds none).
public enum ModelPredictions {
    /// The file, beside the model table.
    public static let fileName = "fit/model-predictions.csv"

    /// The table of the package at `root`: its data rows (without those `excluded` names: other
    /// backends and thread counts than the main fit's), each predicted by each of `fits` (the
    /// model table's fits of its whole sample, ``ModelTable/build(dataset:options:folds:shippedFiles:)``).
    static func table(root: URL, fits: [FitReport], excluded: [RowFilter]) throws -> Table {
        let directory = root.appendingPathComponent(PackageLayout.dataDirectory)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".csv") }.sorted().map { directory.appendingPathComponent($0).path }
        let rows = try FitDataset.load(paths: files, excluding: excluded).rows
        func number(_ value: Double?) -> String { value.map { "\($0)" } ?? "" }
        return Table(
            header: ["config_id", "experiment", "series", "measured_ms"] + fits.map { "\($0.model.rawValue)_ms" },
            rows: rows.map { row in
                [
                    row.carried["config_id"] ?? "", row.carried["experiment"] ?? "", row.carried["series"] ?? "",
                    "\(row.timeMs)",
                ]
                    + fits.map { fit in number(try? fit.predict(row.shape)) }
            })
    }

    /// Writes the table of the package at `root` (see ``table(root:fits:excluded:)``).
    static func write(root: URL, fits: [FitReport], excluded: [RowFilter]) throws {
        try table(root: root, fits: fits, excluded: excluded).write(to: root.appendingPathComponent(fileName))
    }

    /// Whether the package's file is what `refits` (the verifier's refit of the table's models on
    /// its sample) give again: the same rows and columns, every prediction within
    /// ``PackageVerifier/tolerance`` of itself or of that model's held-out RMSE (another machine's
    /// kernels round a refit differently).
    static func verify(root: URL, table: ModelTable, refits: [FitReport], excluded: [RowFilter]) -> [String] {
        do {
            let stated = try Table(contentsOf: root.appendingPathComponent(fileName))
            let models = stated.header.dropFirst(4).map { String($0.dropLast(3)) }
            let fits = try models.map { name -> FitReport in
                guard let fit = refits.first(where: { $0.model.rawValue == name }) else {
                    throw PackageError("\(fileName): \(name)_ms is not a model of the table")
                }
                return fit
            }
            let again = try Self.table(root: root, fits: fits, excluded: excluded)
            guard again.header == stated.header, again.rows.map({ $0.prefix(4) }) == stated.rows.map({ $0.prefix(4) })
            else { return ["\(fileName): its rows or columns differ from the package's data and model table"] }
            for (column, name) in models.enumerated() {
                let rmse = table.entries.first { $0.model == name }?.metrics.rmseMs ?? 0
                for (a, b) in zip(stated.rows, again.rows) {
                    let (x, y) = (Double(a[4 + column]), Double(b[4 + column]))
                    if a[4 + column].isEmpty && b[4 + column].isEmpty { continue }
                    guard let x, let y,
                        PackageVerifier.close(x, y, slack: PackageVerifier.tolerance * rmse)
                    else {
                        return [
                            "\(fileName): \(a[0]) is predicted \(a[4 + column]) ms by \(name), a refit gives \(b[4 + column]) ms"
                        ]
                    }
                }
            }
            return []
        } catch {
            return ["\(fileName): cannot be recomputed (\(error))"]
        }
    }
}
