import Analysis
import Basics
import Foundation
import Rows
import Runner

/// Where each parametric model of a package's model table misses (issue 40): its held-out errors
/// of `fit/cv-predictions.csv` grouped by what a CPU kernel cares about (``ModelMisses``), written
/// as `fit/misses.csv` and summarised in the README. The one place a package's rows, held-out
/// predictions and caches are put together for it: `convsweep misses` reads a package through it
/// too.
public struct PackageMisses: Sendable {
    /// The file, beside the model table.
    public static let fileName = "fit/misses.csv"

    /// One analysis per model, in the model table's order.
    public var models: [ModelMisses]
    /// The data caches the working sets were held against (name and bytes, smallest first).
    public var caches: [(name: String, bytes: Int)]

    /// The analyses of `models` (default: every parametric model of the held-out predictions)
    /// of the package at `root`: its held-out predictions (``heldOutPredictions(of:)``, or
    /// `predictions` as already read), its rows (data/) and its run's caches.
    ///
    /// - Throws: `PackageError` naming the file that does not read, a model the predictions do
    ///   not have, or predictions none of which matches a row.
    public static func of(
        package root: URL, predictions: HeldOutPredictions? = nil, models: [String]? = nil
    ) throws -> PackageMisses {
        let predictions = try predictions ?? heldOutPredictions(of: root)
        let rows: [MeasurementRow]
        do { rows = try MeasurementSource.rows(at: root.path) } catch { throw PackageError("\(error)") }
        let manifest: RunManifest
        do { manifest = try RunManifest.read(path: root.appendingPathComponent(PackageLayout.manifest).path) } catch {
            throw PackageError("\(PackageLayout.manifest): \(error)")
        }
        let caches = manifest.machine.caches.filter { $0.kind != "instruction" }.sorted { $0.level < $1.level }
            .map { (name: "L\($0.level)\($0.kind == "data" ? "d" : "")", bytes: $0.sizeBytes) }
        let byID = Dictionary(rows.map { ($0.configID, $0) }, uniquingKeysWith: { first, _ in first })
        let names = models ?? predictions.models.filter { $0 != TreeCeiling.name }
        let analyses = try names.map { name -> ModelMisses in
            guard let predicted = predictions.predictedMs(by: name) else {
                throw PackageError(
                    "\(ModelTable.predictionsFileName) has no held-out predictions of \(name) (it has: \(predictions.models.joined(separator: ", ")))"
                )
            }
            var analysed: [ModelMisses.Row] = []
            for (row, prediction) in zip(predictions.rows, predicted) where prediction.isFinite && prediction > 0 {
                guard let measured = byID[row.configID] else { continue }
                analysed.append(
                    ModelMisses.Row(
                        shape: measured.shape, algorithm: measured.algorithm.rawValue, group: row.group,
                        measuredMs: row.measuredMs, predictedMs: prediction))
            }
            guard !analysed.isEmpty else {
                throw PackageError("\(ModelTable.predictionsFileName): no held-out prediction of \(name) matches a row")
            }
            return ModelMisses(model: name, rows: analysed, caches: caches, setting: manifest.workSetting)
        }
        return PackageMisses(models: analyses, caches: caches)
    }

    /// The held-out predictions of the package at `root` (`fit/cv-predictions.csv`).
    public static func heldOutPredictions(of root: URL) throws -> HeldOutPredictions {
        try HeldOutPredictions.read(
            from: root.appendingPathComponent(ModelTable.predictionsFileName), name: ModelTable.predictionsFileName)
    }

    /// `fit/misses.csv`: every model's table, one header.
    public var csv: String {
        CSVText.text(header: ModelMisses.csvHeader, rows: models.flatMap(\.csvRows))
    }

    /// Writes ``csv`` into the package at `root`.
    public func write(package root: URL) throws {
        try Data(csv.utf8).write(to: root.appendingPathComponent(Self.fileName), options: .atomic)
    }

    /// Whether the package's `fit/misses.csv` is what its files give again: the problems (none
    /// for a package without the file, written before it existed) and the analyses recomputed
    /// (for the README's check).
    static func verify(package root: URL) -> (problems: [String], misses: PackageMisses?) {
        let url = root.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return ([], nil) }
        do {
            let stated = try String(contentsOf: url, encoding: .utf8)
            let again = try of(package: root)
            return stated == again.csv
                ? ([], again)
                : (["\(fileName): differs from what fit/cv-predictions.csv, data/ and run/manifest.json give"], again)
        } catch {
            return (["\(fileName): cannot be recomputed (\(error))"], nil)
        }
    }
}
