import Foundation

/// Where the files of a path given as measurements are: a run directory, a replication package or
/// one CSV file in the format of measurements.csv. The one resolver of run and package files: the
/// fit, the analyses, the package builder and `python/convsweep_rows.py` (its Python twin) find
/// a run's rows, rounds, probes and manifest through it.
public enum RowSource: Equatable, Sendable {
    /// A run directory: `measurements.csv`, `rounds.csv`, `probes.csv`, `manifest.json`.
    case run(String)
    /// A replication package: its rows in `data/*.csv`, its run in `run/`.
    case package(String)
    /// One CSV file in the format of measurements.csv.
    case file(String)

    /// The rows of a run directory.
    public static let measurementsFile = "measurements.csv"
    /// The rounds of a run directory.
    public static let roundsFile = "rounds.csv"
    /// The drift probe's readings of a run directory.
    public static let probesFile = "probes.csv"
    /// The manifest of a run directory.
    public static let manifestFile = "manifest.json"

    /// What `path` is: a directory with a measurements.csv is a run, one with a `data/` of CSV
    /// files a package, a file a CSV file.
    ///
    /// - Throws: ``RowFormatError`` naming the path when it is none of them.
    public init(path: String) throws(RowFormatError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw RowFormatError("\(path): no such file or directory")
        }
        guard isDirectory.boolValue else {
            self = .file(path)
            return
        }
        if FileManager.default.fileExists(atPath: Self.join(path, Self.measurementsFile)) {
            self = .run(path)
        } else if !Self.dataFiles(of: path).isEmpty {
            self = .package(path)
        } else {
            throw RowFormatError(
                "\(path): neither a run directory (measurements.csv) nor a replication package (data/*.csv)")
        }
    }

    /// The path given.
    public var path: String {
        switch self {
        case .run(let path), .package(let path), .file(let path): return path
        }
    }

    /// The CSV files holding the rows: a run's measurements.csv, a package's data/*.csv in name
    /// order, or the file.
    public var measurementFiles: [String] {
        switch self {
        case .run(let directory): return [Self.join(directory, Self.measurementsFile)]
        case .package(let directory): return Self.dataFiles(of: directory)
        case .file(let path): return [path]
        }
    }

    /// The directory of the run behind the rows (a package's `run/`), nil for a CSV file.
    public var runDirectory: String? {
        switch self {
        case .run(let directory): return directory
        case .package(let directory): return Self.join(directory, "run")
        case .file: return nil
        }
    }

    /// The run's rounds.csv, when it exists.
    public var roundsFile: String? { existing(Self.roundsFile) }
    /// The run's probes.csv, when it exists.
    public var probesFile: String? { existing(Self.probesFile) }
    /// The run's manifest.json, when it exists.
    public var manifestFile: String? { existing(Self.manifestFile) }

    /// Every row, read by ``MeasurementsFile``.
    public func rows() throws -> [MeasurementRow] {
        try measurementFiles.flatMap { try MeasurementsFile.read(path: $0) }
    }

    /// The run's file `name`, when the run has one.
    private func existing(_ name: String) -> String? {
        guard let directory = runDirectory else { return nil }
        let file = Self.join(directory, name)
        return FileManager.default.fileExists(atPath: file) ? file : nil
    }

    /// The CSV files of `directory/data`, in name order.
    private static func dataFiles(of directory: String) -> [String] {
        let data = join(directory, "data")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: data)) ?? []
        return names.filter { $0.hasSuffix(".csv") }.sorted().map { join(data, $0) }
    }

    private static func join(_ directory: String, _ name: String) -> String {
        (directory as NSString).appendingPathComponent(name)
    }
}
