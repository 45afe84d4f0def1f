import Basics
import Foundation

/// Every file and directory of a replication package, named once (docs/replication-package.md);
/// the builder writes them, the verifier and the replicator read them, by these names.
public enum PackageLayout {
    /// What the package states about itself.
    public static let statement = "package.json"
    /// The generated README.
    public static let readme = "README.md"
    /// The measuring run's manifest, copied.
    public static let manifest = "manifest.json"
    /// hwloc's export of the machine, copied.
    public static let topology = "topology.xml"
    /// The measured rows, one file per experiment.
    public static let dataDirectory = "data"
    /// The fits, predictions, errors and the model table.
    public static let fitDirectory = "fit"
    /// The figures and their index.
    public static let figuresDirectory = "figures"
    /// A comparison with another run, when asked for.
    public static let compareDirectory = "compare"
    /// What a comparison read of the other run (its rows, rounds, probe readings and manifest),
    /// inside ``compareDirectory``: verify-package recomputes the comparison from it (since 0.20.0).
    public static let comparedRun = "compare/other"
    /// The regression sample's rows.
    public static let regressionData = "data/regression.csv"
    /// The main fit.
    public static let fit = "fit/alpha.json"
    /// Every row's prediction by the main fit.
    public static let predictions = "fit/predictions.csv"
    /// Errors per experiment and series.
    public static let errors = "fit/errors.csv"
    /// Each oneDNN algorithm's own fit, in a package of several backends.
    public static let backendFits = "fit/backends.json"
    /// How each configuration's time scales with threads, in a package of several thread counts
    /// (``ThreadScaling/packageFiles``).
    public static let threadsDirectory = "threads"
    /// Alpha-FLOPs fitted at each thread count (``ThreadCountFit``), in a package of several.
    public static let threadFits = "threads/fits.json"
    /// The models fitted across thread counts, judged held out against each count's own fit.
    public static let acrossCounts = "threads/across-counts.json"
    /// Each network's latency and throughput at every thread count (``NetworkScaling``).
    public static let threadNetworks = "threads/networks.csv"
    /// The figures' index: each figure's files and the CSVs it was drawn from.
    public static let figureIndex = "figures/index.json"

    /// What a build writes at the top of the package (and so removes before it writes again);
    /// `run/` is kept.
    public static let written = [
        dataDirectory, fitDirectory, figuresDirectory, compareDirectory, NetworkTable.directory, threadsDirectory,
        readme, statement,
        manifest, topology, Checksums.fileName,
    ]
}

extension PackageLayout {
    /// `T` read from the package's `file` as strict JSON (``Basics/StrictJSON``); a
    /// ``PackageError`` naming the file when it does not read.
    static func decode<T: Decodable>(
        _ type: T.Type, _ file: String, in root: URL, decoder: JSONDecoder = JSONDecoder()
    ) throws -> T {
        try decodeWithBytes(type, file, in: root, decoder: decoder).value
    }

    /// ``decode(_:_:in:decoder:)`` with the bytes it read, for a check of what they state.
    static func decodeWithBytes<T: Decodable>(
        _ type: T.Type, _ file: String, in root: URL, decoder: JSONDecoder = JSONDecoder()
    ) throws -> (value: T, data: Data) {
        do {
            let data = try Data(contentsOf: root.appendingPathComponent(file))
            return (try StrictJSON.decode(type, from: data, decoder: decoder), data)
        } catch {
            throw PackageError("\(file): does not read (\(DecodingProblem.describe(error)))")
        }
    }
}
