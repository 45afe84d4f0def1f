import Basics
import ConvKernels
import Foundation
import Measurement

/// The state of a run directory, as its manifest says (`status`).
public enum RunStatus: String, Codable, Hashable, Sendable, CustomStringConvertible {
    /// A session is measuring (or was killed while measuring: the next session resumes).
    case running
    /// Every configuration has a row.
    case complete
    /// A session ended with configurations left, or `forget` removed rows.
    case interrupted
    /// A merge of shards that lacks rows.
    case partial

    /// The status as the manifest writes it.
    public var description: String { rawValue }
}

/// manifest.json: everything a replicator needs to interpret and repeat a run directory.
///
/// Written when the run starts (`status` `running`), rewritten atomically when each session
/// ends. See docs/run-directory.md for every field.
public struct RunManifest: Codable, Hashable, Sendable {
    /// The manifest format; bumped on incompatible change.
    public var formatVersion: Int = 1
    /// Whether the run is being measured, complete or interrupted.
    public var status: RunStatus
    /// The convsweep that created the run.
    public var tool: ToolInfo
    /// The sweep files, with SHA-256 of their bytes.
    public var sweeps: [SweepFile]
    /// Configurations in the sweeps (before sharding), to measure in this directory, and measured.
    public var configurationCount: Int
    /// Configurations this directory measures (its shard of them).
    public var shardConfigurationCount: Int
    /// The settings every session must share.
    public var settings: Settings
    /// The machine and software, as captured by the first session.
    public var machine: EnvironmentSnapshot
    /// How the process was bound, checked per thread (the latest session's).
    public var binding: ProcessBinding
    /// The timer's measured resolution and overhead.
    public var timer: TimerCalibration
    /// Each invocation that wrote to this directory (the first, then resumes).
    public var sessions: [Session]
    /// Everything that makes the results less trustworthy, from every session.
    public var warnings: [String]
    /// For a merged directory: the directories merged.
    public var mergedFrom: [MergedSource]?
    /// Rows removed by `convsweep forget`, so that a resume measures them again.
    public var forgotten: [Forgetting]?
    /// What a second run should differ by, from this run's rounds (``Repeatability``), written
    /// when the run completes; nil before, and for a run measured in one round.
    public var repeatability: Repeatability?

    /// convsweep's version and commit.
    public struct ToolInfo: Codable, Hashable, Sendable {
        /// `convsweep`.
        public var name: String
        /// The version (``BuildInfo/version``).
        public var version: String
        /// `git rev-parse HEAD` of the source tree, with `-dirty` when it had changes and `-stale`
        /// when the executable is older than its sources (``BuildInfo/gitCommit(executable:sourceFile:)``);
        /// nil if unknown.
        public var gitCommit: String?
        /// The tool `name` at `version`, built from `gitCommit`.
        public init(name: String = "convsweep", version: String, gitCommit: String?) {
            self.name = name
            self.version = version
            self.gitCommit = gitCommit
        }
    }

    /// A sweep file and the SHA-256 of its bytes.
    public struct SweepFile: Codable, Hashable, Sendable {
        /// The path as given to the run.
        public var path: String
        /// Hex SHA-256 of the file's bytes.
        public var sha256: String
        /// The file at `path` with digest `sha256`.
        public init(path: String, sha256: String) {
            self.path = path
            self.sha256 = sha256
        }
    }

    /// One invocation.
    public struct Session: Codable, Hashable, Sendable {
        /// The command line of the invocation.
        public var commandLine: [String]
        /// When the session started (ISO 8601, UTC).
        public var startedAt: String
        /// When it ended; nil for a session that was killed.
        public var endedAt: String?
        /// Load averages at the start of the session.
        public var loadAverage: [Double]
        /// The host name of the machine that ran the session.
        public var hostName: String
        /// Configurations this session measured or recorded (written when the session ends: 0 for
        /// a session that was killed, whose rows the next session finds already present).
        public var rowsWritten: Int
        /// Rows of a torn or partial last line dropped when the session resumed.
        public var tornLinesDropped: Int
        /// The commit of the convsweep that ran this session (as ``ToolInfo/gitCommit``): a resumed run
        /// may span builds. Absent in manifests written before it was recorded.
        public var gitCommit: String?
        /// The SHA-256 of the executable that ran this session: two sessions with one commit but
        /// different hashes ran different builds. Absent in manifests written before it was
        /// recorded.
        public var executableSHA256: String?
        /// What identifies the machine it ran on (absent before it was recorded).
        public var identity: MachineIdentity?
        /// What the drift probe read over the session.
        public var probe: ProbeSummary?
        /// The compute and memory roofs measured at the session's start.
        public var roofs: Roofs?
        /// When this session resumed a run of another machine, boot or speed because the user
        /// accepted it (`--accept-machine-change`): what differed.
        public var machineChangeAccepted: String?
        /// Every thread of the process when the session ended, with its allowed CPUs and CPU time:
        /// the threads started during the session (oneDNN's OpenMP team) are bound too, and which
        /// ones computed shows in their CPU seconds.
        public var threadsAtEnd: [ThreadAffinity]?
        /// The oneDNN library and the instruction set it dispatched to, when the session measured
        /// a `dnnl-*` algorithm.
        public var oneDNN: String?
        /// The machine reference its rounds were judged against besides its own probe, from the
        /// per-user cache of earlier sessions on this kind of machine (absent: none was known, or
        /// before it existed).
        public var machineReference: MachineReferenceCache.Reference?
        /// The worker processes the session started to measure its rounds, one per pass (absent
        /// when it measured them in its own process).
        public var workerProcesses: Int?
        /// The threads of the session's last worker process at its end, as ``threadsAtEnd`` (the
        /// kernels computed there).
        public var workerThreadsAtEnd: [ThreadAffinity]?
        /// With more than one thread: the PU each compute thread was bound to, thread 0 (the
        /// measuring thread) first (``ComputeThreads``); absent for one thread, and before it was
        /// recorded.
        public var computeThreadUnits: [Int]?
        /// With more than one thread: the threads that computed (a tenth of the busiest's CPU
        /// time or more) in the process that measured, each with its PU and CPU seconds.
        public var computeThreads: [ThreadAffinity]?
        /// The session's waits for the machine's fast state (absent when it could not wait).
        public var slowPhaseWaits: SlowPhaseWait.Summary?
        /// The environment variables that chose the kernels it ran, as the session saw them
        /// (``EnvironmentSnapshot/kernelSelectionVariables``: `OPENBLAS_CORETYPE=SkylakeX` makes
        /// OpenBLAS run other code than its default on the same CPU); empty when none was set,
        /// absent in manifests written before it was recorded.
        public var kernelSelection: [String: String]?
    }

    /// Rows removed from the run by `convsweep forget`.
    public struct Forgetting: Codable, Hashable, Sendable {
        /// When (ISO 8601, UTC).
        public var at: String
        /// Why, in the user's words.
        public var reason: String
        /// The command line.
        public var commandLine: [String]
        /// The session whose rows were removed, when removed by session.
        public var session: Int?
        /// The configurations whose rows (and rounds and samples) were removed.
        public var configurations: [String]
    }

    /// A directory joined by `convsweep merge`.
    public struct MergedSource: Codable, Hashable, Sendable {
        /// The directory as given to `merge`.
        public var directory: String
        /// Its shard, if any.
        public var shard: Shard?
        /// The host that measured it.
        public var hostName: String
        /// Rows taken from it.
        public var rows: Int
        /// Hex SHA-256 of its topology.xml.
        public var topologySHA256: String
        /// What identifies the machine its first session ran on (absent before it was recorded).
        public var identity: MachineIdentity?
        /// The PUs it was bound to.
        public var cpuset: String?
    }

    /// The identity of the run's first session that recorded one, with the reference rate read
    /// over all that session's probe readings (``ProbeSummary/endReferenceGflops``) in place of its
    /// half-second calibration when the session lived to record them: a calibration in a slow
    /// phase of a shared machine must not stand for the machine. What a resume and a merge compare
    /// another session's machine with.
    public var referenceIdentity: MachineIdentity? {
        guard let session = sessions.first(where: { $0.identity != nil }), var identity = session.identity else {
            return nil
        }
        if let whole = session.probe?.endReferenceGflops, whole.isFinite { identity.referenceGflops = whole }
        return identity
    }

    /// Reads manifest.json at `path`.
    public static func read(path: String) throws -> RunManifest {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RunError.format("cannot read \(path)")
        }
        do { return try StrictJSON.decode(RunManifest.self, from: data) } catch {
            throw RunError.format("\(path) is not a convsweep manifest (\(DecodingProblem.describe(error)))")
        }
    }

    /// The JSON text (pretty, sorted keys).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Why `other` (a new invocation) may not add rows to this run; nil when it may.
    ///
    /// The sweeps (by hash), the machine (host, CPU model, OpenBLAS build) and every setting
    /// must agree.
    public func incompatibility(with other: RunManifest) -> String? {
        var differences: [String] = []
        if sweeps.map(\.sha256) != other.sweeps.map(\.sha256) {
            differences.append(
                "sweeps differ (\(sweeps.map(\.path).joined(separator: " ")) vs \(other.sweeps.map(\.path).joined(separator: " ")), by SHA-256)"
            )
        }
        if machine.hostName != other.machine.hostName {
            differences.append("host \(machine.hostName) vs \(other.machine.hostName)")
        }
        differences += machineDifferences(with: other)
        differences += settingsDifferences(with: other)
        return differences.isEmpty ? nil : differences.joined(separator: "; ")
    }

    /// Differences of CPU and libraries (not host name).
    func machineDifferences(with other: RunManifest) -> [String] {
        var differences: [String] = []
        if machine.cpuModel != other.machine.cpuModel {
            differences.append("CPU \(machine.cpuModel) vs \(other.machine.cpuModel)")
        }
        if machine.openBLASConfig != other.machine.openBLASConfig || machine.openBLASCore != other.machine.openBLASCore
        {
            differences.append(
                "OpenBLAS \(machine.openBLASConfig) (\(machine.openBLASCore)) vs \(other.machine.openBLASConfig) (\(other.machine.openBLASCore))"
            )
        }
        if let own = machine.ownKernels, let theirs = other.machine.ownKernels, own != theirs {
            differences.append("convsweep's own kernels \(own) vs \(theirs)")
        }
        if machine.buildConfiguration != other.machine.buildConfiguration {
            differences.append("build \(machine.buildConfiguration) vs \(other.machine.buildConfiguration)")
        }
        // Nodes of one CPU model with other core counts (or a cgroup's share of them): a count
        // like `all` or a placement means other PUs there.
        func topology(_ m: EnvironmentSnapshot) -> String {
            "\(m.packages) package(s), \(m.cores) cores, \(m.processingUnits) PUs"
        }
        if topology(machine) != topology(other.machine) {
            differences.append("topology \(topology(machine)) vs \(topology(other.machine))")
        }
        return differences
    }

    /// Differences of settings, the shard excepted when `ignoringShard`.
    func settingsDifferences(with other: RunManifest, ignoringShard: Bool = false) -> [String] {
        Settings.differences(settings, other.settings, ignoringShard: ignoringShard)
    }
}
