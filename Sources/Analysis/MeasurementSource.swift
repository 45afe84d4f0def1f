import Foundation
import Rows

/// The measurement rows of a run directory (its measurements.csv), a replication package (every
/// `data/*.csv`) or a measurements-format CSV file, read by ``MeasurementsFile``.
public enum MeasurementSource {
    /// Every row at `path`.
    ///
    /// - Throws: ``RowFormatError`` naming the path when it is none of the three, or a file does not parse.
    public static func rows(at path: String) throws -> [MeasurementRow] {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw RowFormatError("\(path): no such file or directory")
        }
        guard isDirectory.boolValue else { return try MeasurementsFile.read(path: path) }
        let measurements = (path as NSString).appendingPathComponent("measurements.csv")
        if manager.fileExists(atPath: measurements) { return try MeasurementsFile.read(path: measurements) }
        let data = (path as NSString).appendingPathComponent("data")
        let files = ((try? manager.contentsOfDirectory(atPath: data)) ?? []).filter { $0.hasSuffix(".csv") }.sorted()
        guard !files.isEmpty else {
            throw RowFormatError(
                "\(path): neither a run directory (measurements.csv) nor a replication package (data/*.csv)")
        }
        return try files.flatMap { try MeasurementsFile.read(path: (data as NSString).appendingPathComponent($0)) }
    }

    /// The rounds behind the rows at `path`: a run directory's rounds.csv, or a package's
    /// run/rounds.csv; none for a CSV file or a run measured before rounds.
    public static func rounds(at path: String) throws -> [MeasurementRow] {
        for candidate in ["rounds.csv", "run/rounds.csv"] {
            let file = (path as NSString).appendingPathComponent(candidate)
            if FileManager.default.fileExists(atPath: file) { return try MeasurementsFile.read(path: file) }
        }
        return []
    }

    /// The drift probe's mean rates (GFLOP/s) of every reading behind the rows at `path`: a run
    /// directory's probes.csv, or a package's run/probes.csv; none when there is no such file.
    ///
    /// - Throws: ``RowFormatError`` naming the file and line when a reading does not parse.
    public static func probeRates(at path: String) throws -> [Double] {
        for candidate in ["probes.csv", "run/probes.csv"] {
            let file = (path as NSString).appendingPathComponent(candidate)
            guard FileManager.default.fileExists(atPath: file) else { continue }
            return try ProbesFile.read(path: file).map(\.meanGflops)
        }
        return []
    }
}
