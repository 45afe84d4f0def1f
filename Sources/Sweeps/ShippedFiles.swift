import Basics
import Foundation

/// Where the files that ship with convsweep are: the sweeps, the figure script and the Python
/// that runs it.
///
/// convsweep runs from two layouts:
///
/// | layout | root | sweeps | Python |
/// |---|---|---|---|
/// | ``Layout/sourceTree`` | the clone | `sweeps/` | `.venv/bin/python` |
/// | ``Layout/installed`` | `PREFIX/share/convsweep` | `sweeps/` | `venv/bin/python` |
///
/// The Python convsweep runs (the figure scripts and the trees) is in `python/` and the package
/// README's template is `templates/package-readme.mustache`, in both.
///
/// ``locate(sweepsDirectory:environment:executable:sourceFile:)`` finds them wherever convsweep
/// runs from: a directory the user names (`--sweeps-dir`, or the environment variable
/// ``sweepsEnvironmentVariable``), next to the executable's real path after `scripts/install`, or
/// the source tree the executable was built in.
public struct ShippedFiles: Hashable, Sendable {
    /// How the shipped files are laid out under ``root``.
    public enum Layout: String, Hashable, Sendable {
        /// A clone of the repository.
        case sourceTree = "source tree"
        /// `PREFIX/share/convsweep`, written by `scripts/install`.
        case installed
    }

    /// The clone, or `PREFIX/share/convsweep`.
    public var root: String
    /// How the files are laid out under ``root``.
    public var layout: Layout
    /// The sweeps directory (`quick/`, `paper/`, `full/`, `regression.yaml`).
    public var sweepsDirectory: String
    /// The network files of the sweeps directory (`networks/`).
    public var networksDirectory: String { (sweepsDirectory as NSString).appendingPathComponent("networks") }

    /// The environment variable that names a sweeps directory when `--sweeps-dir` is not given.
    public static let sweepsEnvironmentVariable = "CONVSWEEP_SWEEPS_DIR"

    /// Shipped files at `root` laid out as `layout`, with the sweeps in `root/sweeps` unless given.
    public init(root: String, layout: Layout, sweepsDirectory: String? = nil) {
        self.root = root
        self.layout = layout
        self.sweepsDirectory = sweepsDirectory ?? join(root, "sweeps")
    }

    /// Finds the shipped files.
    ///
    /// The sweeps directory is, in this order: `sweepsDirectory` when given, the directory named by
    /// ``sweepsEnvironmentVariable``, `share/convsweep/sweeps` beside the executable's real path
    /// (`PREFIX/bin/convsweep`), or `sweeps/` of the source tree that holds the executable or that
    /// the executable was built from. The figure script and its Python come from the installation
    /// or source tree found the same way (a named sweeps directory does not move them).
    ///
    /// - Parameters:
    ///   - sweepsDirectory: the directory the user named (`--sweeps-dir`), if any.
    ///   - environment: the process environment.
    ///   - executable: the executable's path (default: its real path, read from `/proc/self/exe`).
    ///   - sourceFile: a file of the source tree this code was compiled from.
    /// - Throws: ``ShippedFilesError`` naming the directory when a named one holds no sweeps, or
    ///   every place looked in when none is found.
    public static func locate(
        sweepsDirectory: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
        executable: String = BuildInfo.executablePath(), sourceFile: String = #filePath
    ) throws(ShippedFilesError) -> ShippedFiles {
        let all = candidates(executable: executable, sourceFile: sourceFile)
        let found = usable(all)
        let home = found.first { holdsSweeps($0.sweepsDirectory) } ?? found.first
        if let named = sweepsDirectory ?? environment[sweepsEnvironmentVariable].flatMap({ $0.isEmpty ? nil : $0 }) {
            guard holdsSweeps(named) else {
                throw .holdsNoSweeps(named, namedBy: sweepsDirectory != nil ? .caller : .environment)
            }
            let base = home ?? ShippedFiles(root: (named as NSString).deletingLastPathComponent, layout: .sourceTree)
            return ShippedFiles(root: base.root, layout: base.layout, sweepsDirectory: named)
        }
        if let match = found.first(where: { holdsSweeps($0.sweepsDirectory) }) { return match }
        throw .notFound(
            looked: all.map { files in
                "\(files.sweepsDirectory) (\(files.layout.rawValue)"
                    + (files.trustProblem.map { "; not used: \($0)" } ?? "") + ")"
            })
    }

    /// The places shipped files may be, in the order they are tried: beside the executable
    /// (installed), source trees above the executable, and the source tree of `sourceFile`.
    /// ``locate(sweepsDirectory:environment:executable:sourceFile:)`` uses only those that root
    /// and this user alone control (``trustProblem``).
    public static func candidates(executable: String, sourceFile: String) -> [ShippedFiles] {
        var result: [ShippedFiles] = []
        func add(_ files: ShippedFiles) {
            if !result.contains(where: { $0.sweepsDirectory == files.sweepsDirectory }) { result.append(files) }
        }
        let binDirectory = (executable as NSString).deletingLastPathComponent
        let prefix = (binDirectory as NSString).deletingLastPathComponent
        add(ShippedFiles(root: join(prefix, "share/convsweep"), layout: .installed))
        // `.build/<triple>/<config>/convsweep` or `.build/<config>/convsweep` in a clone.
        var directory = binDirectory
        for _ in 0..<5 {
            if FileManager.default.fileExists(atPath: join(directory, "Package.swift")) {
                add(ShippedFiles(root: directory, layout: .sourceTree))
                break
            }
            directory = (directory as NSString).deletingLastPathComponent
        }
        // Sources/Sweeps/ShippedFiles.swift → the clone.
        var tree = sourceFile
        for _ in 0..<3 { tree = (tree as NSString).deletingLastPathComponent }
        add(ShippedFiles(root: tree, layout: .sourceTree))
        return result
    }

    /// Why these shipped files are not used, nil when they may be: their Python and scripts are
    /// run and their sweeps measured, so the tree must be one that only root and this user
    /// control (``PathTrust``; docs/security.md). A tree that does not exist has no problem to
    /// state here (it holds nothing).
    public var trustProblem: String? {
        guard FileManager.default.fileExists(atPath: root) else { return nil }
        return PathTrust.problem(at: root)
    }

    /// The candidates that may be used.
    public static func usable(_ candidates: [ShippedFiles]) -> [ShippedFiles] {
        candidates.filter { $0.trustProblem == nil && FileManager.default.fileExists(atPath: $0.root) }
    }

    /// Whether `directory` holds sweeps: a profile directory or the regression sweep.
    public static func holdsSweeps(_ directory: String) -> Bool {
        let manager = FileManager.default
        return ["quick", "paper", "full", "regression.yaml"].contains {
            manager.fileExists(atPath: join(directory, $0))
        }
    }
}

private func join(_ directory: String, _ name: String) -> String {
    (directory as NSString).appendingPathComponent(name)
}

extension ShippedFiles {
    /// `path` relative to the current directory when it lies inside it (so that a manifest run
    /// from a clone's root records paths that do not depend on where the clone lives), else as given.
    public static func displayPath(_ path: String, currentDirectory: String = FileManager.default.currentDirectoryPath)
        -> String
    {
        let full = URL(fileURLWithPath: path).standardizedFileURL.path
        let here = URL(fileURLWithPath: currentDirectory).standardizedFileURL.path
        if full == here { return "." }
        if here == "/" { return full }
        let prefix = here.hasSuffix("/") ? here : here + "/"
        return full.hasPrefix(prefix) ? String(full.dropFirst(prefix.count)) : path
    }
}

/// Why the shipped files could not be found.
public enum ShippedFilesError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Who named a sweeps directory.
    public enum Namer: Sendable, Equatable {
        /// The caller (`--sweeps-dir` on the command line).
        case caller
        /// The environment variable ``ShippedFiles/sweepsEnvironmentVariable``.
        case environment
    }

    /// A named directory holds no sweeps.
    case holdsNoSweeps(String, namedBy: Namer)
    /// No directory was named, and none of the places looked in (listed) holds sweeps.
    case notFound(looked: [String])

    /// The message, naming the directory or every place looked in.
    public var description: String {
        switch self {
        case let .holdsNoSweeps(path, namer):
            let who = namer == .caller ? "the sweeps directory given" : ShippedFiles.sweepsEnvironmentVariable
            return "\(path): \(who) holds no sweeps (expected quick/, paper/, full/ or regression.yaml in it)"
        case let .notFound(looked):
            return "cannot find the shipped sweeps; looked in: \(ShippedFiles.sweepsEnvironmentVariable) (not set); "
                + looked.joined(separator: "; ") + ". Install convsweep with scripts/install, or name the directory."
        }
    }
}
