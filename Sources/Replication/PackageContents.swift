import Foundation

/// What a replication package holds, every file by its role: listed in `package.json` (format 2)
/// by the builder, read by the verifier, which checks the list against the files and works from
/// it instead of probing names. ``role(of:)`` is the one policy of what belongs where; a package
/// of format 1, which has no list, is read through it.
public struct PackageContents: Codable, Equatable, Sendable {
    /// What a file is for.
    public enum Role: String, Codable, CaseIterable, Sendable {
        /// `package.json`.
        case statement
        /// `README.md`.
        case readme
        /// `manifest.json`, the measuring run's, copied.
        case manifest
        /// `topology.xml`, copied.
        case topology
        /// A data file of `data/`: an experiment's, the regression sample's, a network's.
        case data
        /// `fit/alpha.json`, the main fit.
        case fit
        /// `fit/predictions.csv`.
        case predictions
        /// `fit/errors.csv`.
        case errors
        /// `fit/backends.json`, each oneDNN algorithm's own fit.
        case backendFits
        /// `fit/models.json`, the model table.
        case modelTable
        /// `fit/cv-predictions.csv`, the model table's held-out predictions.
        case heldOutPredictions
        /// `fit/misses.csv`, where each model of the table misses.
        case misses
        /// `fit/model-predictions.csv`, every row predicted by each model of the table.
        case modelPredictions
        /// A file of the networks section, `networks/` (its tables and fits).
        case networkTable
        /// A network's definition, `networks/definitions/`.
        case networkDefinition
        /// A figure or the figures' index, `figures/`.
        case figure
        /// A file of the comparison with another run, `compare/`.
        case comparison
        /// A file of the measuring run, `run/`.
        case run
        /// A table of how the configurations scale with threads, `threads/`.
        case threadScaling
        /// `threads/fits.json`, alpha-FLOPs at each thread count.
        case threadFits
        /// `threads/across-counts.json`, models fitted across thread counts and judged held out.
        case acrossCounts
        /// `threads/networks.csv`, each network at every thread count.
        case networkScaling
    }

    /// One file and its role.
    public struct Entry: Codable, Equatable, Sendable {
        /// The path, relative to the package.
        public var path: String
        /// What it is for.
        public var role: Role
    }

    /// Every file of the package but `SHA256SUMS`, sorted by path.
    public private(set) var files: [Entry]

    /// The role of the file at `path` (relative to the package), nil for a file that does not
    /// belong in a package.
    public static func role(of path: String) -> Role? {
        let fixed: [String: Role] = [
            PackageLayout.statement: .statement, PackageLayout.readme: .readme, PackageLayout.manifest: .manifest,
            PackageLayout.topology: .topology, PackageLayout.fit: .fit, PackageLayout.predictions: .predictions,
            PackageLayout.errors: .errors, PackageLayout.backendFits: .backendFits, ModelTable.fileName: .modelTable,
            ModelTable.predictionsFileName: .heldOutPredictions, PackageMisses.fileName: .misses,
            ModelPredictions.fileName: .modelPredictions,
            PackageLayout.threadFits: .threadFits, PackageLayout.acrossCounts: .acrossCounts,
            PackageLayout.threadNetworks: .networkScaling,
        ]
        if let role = fixed[path] { return role }
        let parts = path.split(separator: "/").map(String.init)
        guard parts.count >= 2 else { return nil }
        switch parts[0] {
        case PackageLayout.dataDirectory: return parts.count == 2 && path.hasSuffix(".csv") ? .data : nil
        case PackageLayout.figuresDirectory: return .figure
        case PackageLayout.compareDirectory: return .comparison
        case "run": return parts.count == 2 ? .run : nil
        case PackageLayout.threadsDirectory: return parts.count == 2 ? .threadScaling : nil
        case NetworkTable.directory:
            if path.hasPrefix(NetworkTable.definitionsDirectory + "/") {
                return parts.count == 3 ? .networkDefinition : nil
            }
            return parts.count == 2 ? .networkTable : nil
        default: return nil
        }
    }

    /// The contents of a package of `paths`, each by its ``role(of:)``; the paths that belong in
    /// no package are returned apart.
    public static func classifying(_ paths: [String]) -> (contents: PackageContents, strangers: [String]) {
        var entries: [Entry] = []
        var strangers: [String] = []
        for path in paths.sorted() {
            if let role = role(of: path) {
                entries.append(Entry(path: path, role: role))
            } else {
                strangers.append(path)
            }
        }
        return (PackageContents(files: entries), strangers)
    }

    /// The paths of the files of `role`, sorted.
    public func paths(_ role: Role) -> [String] { files.filter { $0.role == role }.map(\.path) }

    /// Whether the package holds a file of `role`.
    public func holds(_ role: Role) -> Bool { files.contains { $0.role == role } }

    /// How this list, as `package.json` states it, differs from the package's `files` (those
    /// `SHA256SUMS` lists): each listed file must be one of them, once, with the role the policy
    /// gives it, and each of them must be listed.
    public func problems(against files: [String]) -> [String] {
        let file = PackageLayout.statement
        let present = Set(files)
        var problems: [String] = []
        var listed = Set<String>()
        for entry in self.files {
            guard listed.insert(entry.path).inserted else {
                problems.append("\(file): contents list \(entry.path) twice")
                continue
            }
            if !present.contains(entry.path) {
                problems.append("\(file): contents list \(entry.path), which is not a file of the package")
            } else if Self.role(of: entry.path) != entry.role {
                problems.append(
                    "\(file): contents say \(entry.path) is \(entry.role.rawValue), but a package keeps \(Self.role(of: entry.path)?.rawValue ?? "no such file") there"
                )
            }
        }
        for path in files.sorted() where !listed.contains(path) {
            problems.append("\(file): \(path) is a file of the package its contents do not list")
        }
        return problems
    }
}
