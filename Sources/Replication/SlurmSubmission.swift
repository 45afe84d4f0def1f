import Basics
import Foundation
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
    /// Options of the package job's `convsweep package` (the fit's loss).
    public var packageArguments: [String]

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
                "--job-name=convsweep-shard", "--array=1-\(shards)", "--ntasks=1", "--cpus-per-task=1", "--requeue",
                "--output=\(logs)/shard-%a.out",
            ], command: shardCommand)
        do {
            let merge = try sbatch(
                [
                    "--job-name=convsweep-merge", "--dependency=afterok:\(array)", "--kill-on-invalid-dep=yes",
                    "--output=\(logs)/merge.out",
                ], command: mergeCommand)
            do {
                let package = try sbatch(
                    [
                        "--job-name=convsweep-package", "--dependency=afterok:\(merge)", "--kill-on-invalid-dep=yes",
                        "--output=\(logs)/package.out",
                    ], command: packageCommand)
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
