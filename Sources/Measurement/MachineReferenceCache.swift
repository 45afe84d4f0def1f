import Basics
import Foundation

/// The drift probe's fast-state rate of each kind of machine this user has measured on, kept
/// across sessions: a session that starts (or runs whole) in one of a shared host's slow phases
/// would otherwise take that phase for the machine's speed, and judge nothing slow.
///
/// - **Where.** `machine-references.json` in `$CONVSWEEP_CACHE_DIR`, else
///   `$XDG_CACHE_HOME/convsweep`, else `$HOME/.cache/convsweep` (per user, root included; tests
///   point it at a temporary directory).
/// - **Trust.** The file and every directory on its path must be controlled by this user and
///   root alone (``PathTrust``): an untrusted cache is neither read nor written (one warning
///   says why), and it is replaced through a temporary file of a name nobody can guess.
/// - **What.** Per machine kind (``Kind``: CPU model, flags, microcode, OpenBLAS kernel set,
///   threads) the fast-state rate of its last ``keptSessions`` sessions: each session's probe
///   reference (the 90th percentile of its readings' fastest calls).
/// - **The reference** of a kind is the 90th percentile of those rates: a high percentile, so that
///   sessions that ran whole in a slow phase do not lower it, and not the maximum, which would
///   only ratchet up on one lucky session.
/// - **Bad input.** A file that does not read as this format (corrupt, foreign, another version)
///   is ignored with one warning naming it, never trusted, and replaced at the next record.
public struct MachineReferenceCache: Sendable {
    /// What makes two machines the same kind for the probe's rate.
    public struct Kind: Codable, Hashable, Sendable {
        /// The CPU model string.
        public var cpuModel: String
        /// SHA-256 of the sorted CPU flags.
        public var cpuFlagsSHA256: String
        /// The microcode revision, where known.
        public var microcode: String?
        /// OpenBLAS's kernel set.
        public var openBLASCore: String
        /// Threads of the drift probe (``DriftProbe/threads``; a cache written before the probe
        /// kept to one thread recorded the run's threads, and so a parallel probe's rate).
        public var threads: Int

        /// A kind of these fields.
        public init(cpuModel: String, cpuFlagsSHA256: String, microcode: String?, openBLASCore: String, threads: Int) {
            self.cpuModel = cpuModel
            self.cpuFlagsSHA256 = cpuFlagsSHA256
            self.microcode = microcode
            self.openBLASCore = openBLASCore
            self.threads = threads
        }

        /// The kind of `identity`, measuring with `threads` threads.
        public init(_ identity: MachineIdentity, threads: Int) {
            cpuModel = identity.cpuModel
            cpuFlagsSHA256 = identity.cpuFlagsSHA256
            microcode = identity.microcode
            openBLASCore = identity.openBLASCore
            self.threads = threads
        }
    }

    /// One session's fast-state rate.
    public struct Sample: Codable, Hashable, Sendable {
        /// When the session ended (ISO 8601, UTC).
        public var at: String
        /// Its probe reference, GFLOP/s.
        public var gflops: Double
    }

    /// The reference of a kind, with where it came from.
    public struct Reference: Codable, Hashable, Sendable {
        /// The fast-state rate, GFLOP/s.
        public var gflops: Double
        /// Sessions behind it.
        public var sessions: Int
        /// The cache file.
        public var file: String
    }

    private struct Entry: Codable {
        var kind: Kind
        var samples: [Sample]
    }

    private struct File: Codable {
        var format: String
        var machines: [Entry]
    }

    /// The format name written in the file.
    public static let format = "convsweep machine references 1"
    /// Sessions kept per kind.
    public static let keptSessions = 20
    /// The environment variable naming the cache directory.
    public static let directoryVariable = "CONVSWEEP_CACHE_DIR"

    /// The cache file.
    public let path: String

    /// The cache in `directory`, or the user's (see the type's documentation): `$HOME` is
    /// followed for root as for anyone.
    public init(directory: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        func named(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
        let home = named("HOME") ?? NSHomeDirectory()
        let folder =
            directory ?? named(MachineReferenceCache.directoryVariable)
            ?? named("XDG_CACHE_HOME").map { $0 + "/convsweep" }
            ?? (home + "/.cache/convsweep")
        path = folder + "/machine-references.json"
    }

    /// The reference of `kind`, nil when no session of that kind was recorded; `warn` hears once
    /// of a file that does not read.
    public func reference(for kind: Kind, warn: (String) -> Void = { _ in }) -> Reference? {
        guard let entries = read(warn: warn), let entry = entries.first(where: { $0.kind == kind }),
            !entry.samples.isEmpty
        else { return nil }
        let rates = entry.samples.map(\.gflops).filter { $0.isFinite && $0 > 0 }.sorted()
        guard !rates.isEmpty else { return nil }
        return Reference(gflops: Statistics.quantile(rates, 0.9), sessions: rates.count, file: path)
    }

    /// Records a session of `kind` whose probe reference was `gflops`; `warn` hears of a file that
    /// could not be read (then replaced) or written.
    public func record(_ gflops: Double, for kind: Kind, warn: (String) -> Void = { _ in }) {
        guard gflops.isFinite, gflops > 0 else { return }
        var entries = read(warn: warn) ?? []
        let sample = Sample(at: Timestamp.now(), gflops: gflops)
        if let index = entries.firstIndex(where: { $0.kind == kind }) {
            entries[index].samples = Array(
                (entries[index].samples + [sample]).suffix(MachineReferenceCache.keptSessions))
        } else {
            entries.append(Entry(kind: kind, samples: [sample]))
        }
        let folder = (path as NSString).deletingLastPathComponent
        if !FileManager.default.fileExists(atPath: folder) {
            if let problem = PathTrust.problem(creating: folder) {
                return warn("did not create the machine reference cache \(folder): \(problem)")
            }
            try? FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        if let problem = PathTrust.problem(at: folder) {
            return warn("did not write the machine reference cache \(path): \(problem)")
        }
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(File(format: MachineReferenceCache.format, machines: entries))
            try SafeFile.writeAtomically(data, to: path)
        } catch {
            warn("could not write the machine reference cache \(path): \(error)")
        }
    }

    /// The entries, [] for a missing file, nil (with a warning) for one that does not read.
    private func read(warn: (String) -> Void) -> [Entry]? {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        // A cache another user could have written is not this user's record of the machine.
        if let problem = PathTrust.problem(at: path) {
            warn("ignored the machine reference cache \(path): \(problem)")
            return nil
        }
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        guard let file = try? StrictJSON.decode(File.self, from: data), file.format == MachineReferenceCache.format
        else {
            warn("ignored the machine reference cache \(path): not a \(MachineReferenceCache.format) file")
            return nil
        }
        return file.machines
    }
}
