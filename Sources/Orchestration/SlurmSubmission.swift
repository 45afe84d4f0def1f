import Basics
import Foundation
import Replication
import Sweeps

/// `convsweep replicate --slurm N`: a profile's sweeps submitted to a Slurm cluster as an N-task
/// array job (one shard each, `convsweep run --shard i/N` into `OUT.slurm/shards/shard-i`, logs in
/// `OUT.slurm/logs`), a merge job (into `OUT/run`) and a package job (`OUT`), each depending on the one before with
/// `afterok` and `--kill-on-invalid-dep=yes`, so that a failed shard cancels what depends on it
/// instead of leaving it pending. Submitting again resumes every shard's directory.
public struct SlurmSubmission {
    /// The job ids of one submission.
    public struct Jobs: Sendable, Equatable {
        /// The array job of the shards, the merge job and the package job.
        public var shards: String, merge: String, package: String
    }

    /// Why a submission failed.
    public struct SubmissionError: Error, CustomStringConvertible, Sendable {
        /// The message.
        public var description: String
    }

    /// Shards (array tasks).
    public var shards: Int
    /// The profile measured.
    public var profile: ShippedSweeps.Profile
    /// The profile's sweep files, absolute.
    public var sweepFiles: [String]
    /// The package directory, absolute.
    public var outputDirectory: String
    /// The convsweep every job runs, absolute.
    public var executable: String
    /// Options of `convsweep run` for every shard (the runner's settings).
    public var runArguments: [String]
    /// Options given to every `sbatch` (a partition, an account, a time limit).
    public var sbatchArguments: [String]
    /// Whether each shard takes a whole node (`--exclusive`): a run on several threads needs every
    /// PU its placement names, and no other job's threads beside its own. A one-thread run's
    /// shards take one CPU each, so that a node's cores measure several shards side by side.
    public var wholeNodes = false

    /// The resources each shard asks for: a whole node, or one task of one CPU.
    public var shardResources: [String] {
        wholeNodes ? ["--nodes=1", "--ntasks=1", "--exclusive"] : ["--ntasks=1", "--cpus-per-task=1"]
    }
    /// Options of the package job's `convsweep package` (the fit's loss).
    public var packageArguments: [String]
    /// Each shard's estimated measuring seconds (``Sweeps/MeasuringTimeModel``), shard 1 first;
    /// empty for none (no time limit is then added).
    public var shardSeconds: [Double] = []

    /// The array's time limit is the largest shard's estimate times this margin, plus ``timeSlackMinutes``.
    public static let timeMargin = 1.5
    /// Minutes added to the array's time limit (start-up, a slow node, the probe's recheck).
    public static let timeSlackMinutes = 10
    /// The merge job's and the package job's time limits, minutes (a merge of the paper profile
    /// takes seconds, its package under a minute; the ceiling's trees a few).
    public static let mergeMinutes = 30, packageMinutes = 60

    /// The time limit the user gave every sbatch (`--time=…` or `-t …`), if any.
    public var givenTimeLimit: String? {
        for (index, argument) in sbatchArguments.enumerated() {
            if argument.hasPrefix("--time=") { return String(argument.dropFirst("--time=".count)) }
            if argument.hasPrefix("-t") && argument.count > 2 { return String(argument.dropFirst(2)) }
            if argument == "--time" || argument == "-t", index + 1 < sbatchArguments.count {
                return sbatchArguments[index + 1]
            }
        }
        return nil
    }

    /// The array's time limit in minutes: the largest shard's estimate × ``timeMargin`` +
    /// ``timeSlackMinutes``; nil when the user gave one or nothing was estimated.
    public var arrayTimeLimitMinutes: Int? {
        guard givenTimeLimit == nil, let largest = shardSeconds.max() else { return nil }
        return Int((largest * SlurmSubmission.timeMargin / 60).rounded(.up)) + SlurmSubmission.timeSlackMinutes
    }

    /// Warnings before submitting: each shard whose estimate exceeds the time limit the user gave.
    public var warnings: [String] {
        guard let given = givenTimeLimit, let minutes = SlurmSubmission.minutes(ofTimeLimit: given) else { return [] }
        return shardSeconds.enumerated().compactMap { index, seconds in
            seconds / 60 > minutes
                ? String(
                    format:
                        "shard %d is estimated at %.1f min, more than the time limit %@ (%.0f min) it is given: it may be killed before it ends (a resubmission resumes it)",
                    index + 1, seconds / 60, given, minutes) : nil
        }
    }

    /// Minutes of a Slurm time limit (`M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`); nil for
    /// `UNLIMITED`, `INFINITE` or a form Slurm would refuse (it then says so itself).
    public static func minutes(ofTimeLimit text: String) -> Double? {
        let parts = text.split(separator: "-", maxSplits: 1).map(String.init)
        let days = parts.count == 2 ? Double(parts[0]) : 0
        let clock = (parts.last ?? "").split(separator: ":").map { Double($0) }
        guard let days, !clock.isEmpty, clock.count <= 3, clock.allSatisfy({ $0 != nil }) else { return nil }
        let values = clock.map { $0! }
        if parts.count == 2 {  // D-H, D-H:M, D-H:M:S
            let hours = values[0]
            let minutes = values.count > 1 ? values[1] : 0
            let seconds = values.count > 2 ? values[2] : 0
            return days * 1440 + hours * 60 + minutes + seconds / 60
        }
        switch values.count {
        case 1: return values[0]
        case 2: return values[0] + values[1] / 60
        default: return values[0] * 60 + values[1] + values[2] / 60
        }
    }

    /// A submission of `shards` shards of `profile`.
    public init(
        shards: Int, profile: ShippedSweeps.Profile, sweepFiles: [String], outputDirectory: String,
        executable: String, runArguments: [String], sbatchArguments: [String], packageArguments: [String] = []
    ) {
        self.packageArguments = packageArguments
        self.shards = shards
        self.profile = profile
        self.sweepFiles = sweepFiles
        self.outputDirectory = outputDirectory
        self.executable = executable
        self.runArguments = runArguments
        self.sbatchArguments = sbatchArguments
    }

    /// The shards and the jobs' logs: beside the package, which must hold only what it states.
    public var workDirectory: String { outputDirectory + ".slurm" }

    /// The shell command of one array task (`$SLURM_ARRAY_TASK_ID` expanded by the job's shell).
    ///
    /// A requeued or resubmitted task may resume on another node (another boot), or beside
    /// another shard on the SMT sibling of its CPU (a reference rate 20–30% lower): the task
    /// accepts the change, its manifest records it per session, and the merge checks what makes
    /// shards incomparable (CPU, flags, microcode, kernel set).
    public var shardCommand: String {
        let out = quote(workDirectory + "/shards/shard-") + "$SLURM_ARRAY_TASK_ID"
        return
            ([quote(executable), "run"] + sweepFiles.map(quote) + [
                "--out", out, "--shard", "$SLURM_ARRAY_TASK_ID/\(shards)", "--accept-machine-change",
            ]
            + runArguments.map(quote) + ["--quiet"]).joined(separator: " ")
    }

    /// The merge job's command: the shards joined into `OUT/run` (replacing an older merge).
    public var mergeCommand: String {
        let out = quote(outputDirectory)
        let shards = quote(workDirectory + "/shards")
        return
            "mkdir -p \(out) && rm -rf \(out)/run.merging && \(quote(executable)) merge \(shards)/shard-* --out \(out)/run.merging"
            + " && rm -rf \(out)/run && mv \(out)/run.merging \(out)/run"
    }

    /// The package job's command.
    public var packageCommand: String {
        "\(quote(executable)) package \(quote(outputDirectory + "/run")) --profile \(profile.rawValue) "
            + packageArguments.map { quote($0) + " " }.joined() + "--out \(quote(outputDirectory))"
    }

    /// Submits the three jobs; when one is refused, cancels those already submitted.
    ///
    /// - Throws: ``SubmissionError`` with sbatch's message when no `sbatch` is on PATH or the
    ///   cluster refuses a job (nothing is left submitted then).
    public func submit() throws -> Jobs {
        let logs = workDirectory + "/logs"
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: workDirectory + "/shards", withIntermediateDirectories: true)
        let array = try sbatch(
            [
                "--job-name=convsweep-shard", "--array=1-\(shards)", "--requeue",
                "--output=\(SlurmSubmission.filenamePattern(logs))/shard-%a.out",
            ] + shardResources + (arrayTimeLimitMinutes.map { ["--time=\($0)"] } ?? []), command: shardCommand)
        do {
            let merge = try sbatch(
                [
                    "--job-name=convsweep-merge", "--dependency=afterok:\(array)", "--kill-on-invalid-dep=yes",
                    "--output=\(SlurmSubmission.filenamePattern(logs))/merge.out",
                ] + ownTime(SlurmSubmission.mergeMinutes), command: mergeCommand)
            do {
                let package = try sbatch(
                    [
                        "--job-name=convsweep-package", "--dependency=afterok:\(merge)", "--kill-on-invalid-dep=yes",
                        "--output=\(SlurmSubmission.filenamePattern(logs))/package.out",
                    ] + ownTime(SlurmSubmission.packageMinutes), command: packageCommand)
                return Jobs(shards: array, merge: merge, package: package)
            } catch {
                cancel([array, merge])
                throw error
            }
        } catch {
            cancel([array])
            throw error
        }
    }

    /// `path` as a literal part of an sbatch filename pattern (`--output`): sbatch replaces `%j`,
    /// `%a`, … and reads `%%` as one `%`, so every `%` of the path is doubled.
    static func filenamePattern(_ path: String) -> String { path.replacingOccurrences(of: "%", with: "%%") }

    /// `--time=minutes` unless the user gave every job a time limit.
    private func ownTime(_ minutes: Int) -> [String] { givenTimeLimit == nil ? ["--time=\(minutes)"] : [] }

    private func sbatch(_ options: [String], command: String) throws -> String {
        let (status, output) = try SlurmSubmission.run(
            "sbatch", ["--parsable"] + options + sbatchArguments + ["--wrap", command])
        guard status == 0 else {
            throw SubmissionError(
                description: "sbatch refused the job: \(output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return String(output.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func cancel(_ jobs: [String]) { _ = try? SlurmSubmission.run("scancel", jobs) }

    /// Runs a Slurm command found on PATH; its status and its output (standard output and error).
    static func run(_ tool: String, _ arguments: [String]) throws -> (Int32, String) {
        guard let path = which(tool) else {
            throw SubmissionError(description: "no \(tool) on PATH: is this a Slurm login node?")
        }
        return try Subprocess.run(path, arguments)
    }

    static func which(_ tool: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(directory)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}

/// `text` quoted for a POSIX shell.
private func quote(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
