import AlphaFit
import Analysis
import ArgumentParser
import Basics
import Foundation
import Measurement
import Orchestration
import Replication
import Runner
import Sweeps

extension ShippedSweeps.Profile: ExpressibleByArgument {}

struct Replicate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "The main job: measure the regression sample and experiments A-G, fit alpha-FLOPs, write a replication package.",
        discussion: """
            Profiles: quick (a small regression sample and every series of A-G with fewer points; \
            minutes), paper (the full regression sample and A-G at the original study's sampling), \
            full (every integer of each varying axis); quick also measures four small networks, and \
            networks (the quick samples, then every network of sweeps/networks/ at batch 1 and 8: \
            what each costs here and how every model predicts it), paper and full all eleven. The run goes to OUT/run (resumed when \
            interrupted: rerun the same command), the package to OUT: data/, fit/, figures/, \
            README.md, manifest.json, topology.xml, SHA256SUMS (docs/replication-package.md). \
            Without --out, OUT is out/MACHINE/PROFILE in the source tree convsweep was built from \
            (git ignores out/), or in the current directory for an installed convsweep: MACHINE is \
            the machine label, OpenBLAS's kernel set and a hash of host, boot, CPU model, flags, \
            microcode and kernel set, so rerunning the command on the same machine and boot resumes \
            its run, and any other machine (or a reboot) starts a directory of its own. A directory \
            that holds another run or a package without its run is never written: -2, -3, … are \
            tried. The directory is printed at the start and the end. Before measuring, replicate \
            checks that the figures' Python (matplotlib, scikit-learn) and a writable OUT are there. \
            The shipped sweeps \
            are found from --sweeps-dir, \(ShippedFiles.sweepsEnvironmentVariable), PREFIX/share/convsweep \
            beside an installed executable, or the source tree. With --profile quick or threads \
            the per-configuration time limit defaults to 0.5 s instead of 2 s, and its round \
            limit to --rounds + 1 instead of 2 × --rounds; threads measures every configuration \
            at 1, 2, 4, … threads up to every PU (--threads).
            """)

    @Option(help: "quick, networks, threads (the quick sweeps at 1, 2, 4, … threads up to every PU), paper or full.")
    var profile: ShippedSweeps.Profile = .quick
    @Option(help: "The package directory (default: out/MACHINE/PROFILE, this machine's own; see above).")
    var out: String?
    @OptionGroup var sweepsDirectory: SweepsDirectoryOption
    @Flag(help: "Also write OUT.tar.gz of the package.")
    var archive = false
    @Option(
        help: ArgumentHelp(
            "Another run directory or package (another machine's, say) to compare the package with (compare/, with what the comparison read of it in compare/other/).",
            valueName: "dir"))
    var compareWith: String?
    @Option(
        help: ArgumentHelp(
            "A framework reference of this machine (convsweep networks reference --out DIR, of networks the profile or --networks measures) to hold beside the networks' layer sums: networks/reference.json, networks/framework.csv and a README section.",
            valueName: "dir"))
    var reference: String?
    @Option(
        help: ArgumentHelp(
            "Submit to a Slurm cluster as N shards (array job), a merge job and a package job, print their ids, each shard's estimated time and the time limits (the largest estimate × 1.5 + 10 min unless --slurm-option=--time=… is given), and return.",
            valueName: "N"))
    var slurm: Int?
    @Option(
        name: .customLong("slurm-option"), parsing: .singleValue,
        help: ArgumentHelp(
            "An option for every sbatch of --slurm (repeatable), e.g. --slurm-option=--partition=long.",
            valueName: "option"))
    var slurmOptions: [String] = []
    @Option(
        name: .customLong("networks"),
        help: ArgumentHelp(
            "Your own networks to measure beside the profile's and cost in the package: a network file, an ONNX model, or a directory of them (repeatable).",
            valueName: "path"))
    var ownNetworks: [String] = []
    @Option(
        help: "The fit's and the model table's loss: relative (default) or absolute (as the replication's curve_fit).")
    var loss: FitLoss = .relative
    @OptionGroup var measuring: MeasuringOptions
    @OptionGroup var machine: MachineRateOptions
    @Flag(
        name: .customLong("dry-run"),
        help:
            "Check the prerequisites, print the package directory, the settings the run would record and the rebuild command (JSON), and stop before measuring."
    )
    var dryRun = false

    /// The profile's values where the user gives none.
    private var profileDefaults: RunDefaults { RunDefaults.profile(profile) }

    func validate() throws {
        if let slurm, slurm < 1 { throw ValidationError("--slurm must be at least 1 shard, got \(slurm)") }
        if slurm == nil && !slurmOptions.isEmpty { throw ValidationError("--slurm-option goes with --slurm N") }
    }

    func run() throws {
        let shipped = try sweepsDirectory.shippedFiles()
        let root = shipped.layout == .sourceTree ? shipped.root : FileManager.default.currentDirectoryPath
        let options = try reportingErrors { try measuring.runOptions(profileDefaults) }
        var replicator = Replicator(
            profile: profile, shippedFiles: shipped, outputDirectory: "", runOptions: options,
            rebuildCommand: "", toolVersion: BuildInfo.version)
        replicator.ownNetworks = ownNetworks
        let sweepPaths = try reportingErrors { try replicator.sweepPaths }
        let output = try reportingErrors {
            try out
                ?? Replicator.ownOutput(
                    root: root, profile: profile, sweepPaths: sweepPaths, options: options,
                    note: { FileHandle.standardError.write(Data("replicate: \($0)\n".utf8)) })
        }
        try reportingErrors { try Replicator.checkPrerequisites(shippedFiles: shipped, output: output) }
        // A framework reference is read before anything is measured: one of another machine, or
        // one that does not read, would only be refused by the package build at the end.
        if let reference {
            let framework = try reportingErrors { try FrameworkReference.load(path: reference) }
            guard framework.host == EnvironmentSnapshot.hostName() else {
                throw fail(
                    "\(reference): measured on \(framework.host) (\(framework.cpuModel)), not on this machine",
                    code: ExitStatus.dataError)
            }
        }
        replicator.outputDirectory = output
        replicator.rebuildCommand = rebuildCommand(output: output, options: options)
        replicator.comparedWith = compareWith
        replicator.frameworkReference = reference
        replicator.fitLoss = loss
        if dryRun {
            try printPlan(output: output, options: options, rebuild: replicator.rebuildCommand)
            return
        }
        if let slurm {
            try submit(shards: slurm, shipped: shipped, output: output, options: options)
            return
        }
        FileHandle.standardError.write(Data("replicate: package directory \(output)\n".utf8))
        let (summary, statement) = try reportingErrors { try replicator.run() }
        if summary.written == 0 {
            print(
                "\(output): nothing new to measure: all \(summary.alreadyPresent) configuration(s) were already measured"
            )
        } else {
            print(
                "\(output): \(summary.measured) configuration(s) measured this session, \(summary.alreadyPresent) already present"
            )
        }
        if let repeatability = summary.manifest.repeatability { print("  " + repeatability.statement) }
        for (group, parameters) in statement.parameters.sorted(by: { $0.key < $1.key }) {
            print(
                "  \(group): "
                    + parameters.sorted { $0.key < $1.key }.map {
                        "\($0.key) = \(String(format: "%.6g", $0.value))"
                    }.joined(separator: ", "))
        }
        if archive { try makeArchive(output) }
        print("package: \(output)/README.md; check it with `convsweep verify-package \(output)`")
    }

    /// The command that rebuilds the package with exactly this run's settings: every option given
    /// that the run records, from the same settings the run measures with, after the environment
    /// variables that chose its kernels (`OPENBLAS_CORETYPE=SkylakeX …`).
    func rebuildCommand(output: String, options: RunOptions) -> String {
        let kernels = EnvironmentSnapshot.kernelSelection().map { "\($0.name)=\(ShellWord.quoted($0.value))" }
        var words = ["scripts/replicate", "--profile", profile.rawValue]
        if out != nil { words += ["--out", output] }
        if let directory = sweepsDirectory.path { words += ["--sweeps-dir", directory] }
        words += (try? measuring.rebuildArguments(options, defaults: profileDefaults)) ?? []
        for path in ownNetworks { words += ["--networks", path] }
        if let compareWith { words += ["--compare-with", compareWith] }
        if let reference { words += ["--reference", reference] }
        if loss != .relative { words += ["--loss", loss.rawValue] }
        return (kernels + words.map(ShellWord.quoted)).joined(separator: " ")
    }

    /// `--dry-run`: the package directory, the settings the run's manifest would record, and the
    /// rebuild command, as JSON on standard output.
    private func printPlan(output: String, options: RunOptions, rebuild: String) throws {
        let topology = try reportingErrors { try Topology() }
        guard let settings = RunManifest.Settings.planned(options: options, topology: topology) else {
            // The same refusal as the run's: the cpuset names PUs this process may not use.
            try reportingErrors { _ = try topology.cpuset(parsing: CPUSet.format(options.cpuset ?? [])) }
            throw fail("--cpuset cannot be used by this process", code: ExitStatus.usage)
        }
        let plan = ReplicationPlan(
            packageDirectory: output, profile: profile, settings: settings,
            rebuildCommand: rebuild)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(plan), as: UTF8.self))
    }

    /// `--slurm N`: the profile as an array job, a merge job and a package job.
    private func submit(shards: Int, shipped: ShippedFiles, output: String, options: RunOptions) throws {
        let absolute = URL(fileURLWithPath: output).standardizedFileURL.path
        let files = try reportingErrors {
            try ShippedSweeps.files(profile: profile, root: shipped.sweepsDirectory)
                + Replicator.networkFiles(ownNetworks)
        }
        .map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        var submission = SlurmSubmission(
            shards: shards, profile: profile, sweepFiles: files, outputDirectory: absolute,
            executable: BuildInfo.executablePath(),
            runArguments: MeasuringOptions.runArguments(options),
            sbatchArguments: slurmOptions, packageArguments: loss == .relative ? [] : ["--loss", loss.rawValue])
        submission.wholeNodes = options.threadCounts.mayUseSeveralThreads
        // Each shard's measuring time from the one model, its time limit from the largest.
        let model = options.measuringTimeModel(rates: machine.rates())
        var configurations: [SweepConfiguration] = []
        for file in files { configurations += try reportingErrors { try Sweep.load(path: file) }.configurations }
        configurations = options.expanded(configurations)
        submission.shardSeconds = try (1...shards).map { index in
            let shard = try Shard(index: index, count: shards)
            return model.sessionSeconds(
                ConfigurationOrder.arrange(configurations, order: options.order, seed: options.seed, shard: shard))
        }
        print("estimate per shard (one core): \(model.summary)")
        print(
            "  "
                + submission.shardSeconds.enumerated().map { "shard \($0.offset + 1) \(duration($0.element))" }
                .joined(separator: ", "))
        if let minutes = submission.arrayTimeLimitMinutes {
            print(
                "time limits: shards --time=\(minutes) (the largest estimate × \(formatted(SlurmSubmission.timeMargin)) + \(SlurmSubmission.timeSlackMinutes) min), merge --time=\(SlurmSubmission.mergeMinutes), package --time=\(SlurmSubmission.packageMinutes)"
            )
        } else if let given = submission.givenTimeLimit {
            print("time limit: \(given) for every job, as given")
        }
        for warning in submission.warnings {
            FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
        }
        let jobs: SlurmSubmission.Jobs
        do { jobs = try submission.submit() } catch { throw fail("\(error)", code: ExitStatus.failure) }
        print(
            "submitted \(profile) as \(shards) shard(s): array job \(jobs.shards), merge job \(jobs.merge), package job \(jobs.package)"
        )
        print(
            "shards: \(submission.workDirectory)/shards/shard-1 … shard-\(shards); merged run: \(absolute)/run; package: \(absolute)/README.md"
        )
        print(
            "logs: \(submission.workDirectory)/logs/; a failed shard cancels the merge and package jobs; submit the same command again to resume every shard"
        )
    }

    private func makeArchive(_ directory: String) throws {
        let url = URL(fileURLWithPath: directory)
        let (status, output) = try Subprocess.run(
            "/usr/bin/env",
            ["tar", "-czf", url.path + ".tar.gz", "-C", url.deletingLastPathComponent().path, url.lastPathComponent])
        guard status == 0 else { throw fail("tar failed for \(directory): \(output)", code: ExitStatus.failure) }
        print("archive: \(directory).tar.gz")
    }
}

/// What `replicate --dry-run` prints.
struct ReplicationPlan: Codable {
    /// The package directory chosen (or given).
    var packageDirectory: String
    /// The profile.
    var profile: ShippedSweeps.Profile
    /// The settings the run's manifest would record.
    var settings: RunManifest.Settings
    /// The command that the package's README would name to rebuild it.
    var rebuildCommand: String
}

/// A word for a POSIX shell command line, quoted only when it must be.
enum ShellWord {
    /// `word` as is when it holds only safe characters, else in single quotes.
    static func quoted(_ word: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@%+")
        if !word.isEmpty && word.allSatisfy({ safe.contains($0) }) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
