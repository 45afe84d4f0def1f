import ArgumentParser
import Foundation
import Measurement
import Runner
import Sweeps

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure every configuration of sweep files into a run directory.",
        discussion: """
            Binds the whole process (every thread, OpenBLAS's workers included) to --cpuset with \
            hwloc and checks from /proc that it held, then times each configuration: warm-up until \
            two successive times agree within --target, then timed runs until the 95% confidence \
            interval of the median is within --target of it (at least --min-runs, at most --max-runs \
            and --max-seconds), or exactly --runs N. The first execution of each configuration is \
            checked against a direct computation.

            The run directory holds manifest.json (machine, versions, settings, seeds, sweep hashes, \
            warnings), topology.xml (hwloc), measurements.csv (one row per configuration, appended \
            and flushed as each is measured) and, with --keep-samples, samples.csv. See \
            docs/run-directory.md.

            Rerunning into the same directory (or --resume) measures only what is missing, after \
            checking the sweeps, machine and settings match; a torn last line left by a kill is \
            dropped. Exit status: 0 done, 64 bad options, 65 a bad sweep file, 1 other failures \
            (a directory of another run, a binding that does not hold).
            """)

    @Argument(help: "Sweep files (YAML, see sweeps/README.md).")
    var sweeps: [String]

    @Option(name: .long, help: ArgumentHelp("The run directory to create or resume.", valueName: "dir"))
    var out: String

    @Option(help: ArgumentHelp(
        "PUs to bind to, as a CPU list (3, 2-3, 0,2). Default: the first PU of the last core (hwloc).",
        valueName: "list"))
    var cpuset: String?

    @Option(help: "OpenBLAS threads; at most the PUs of the cpuset.")
    var threads: Int = 1

    @Option(help: "Stop when the 95% CI of the median is within this fraction of it.")
    var target: Double = 0.01

    @Option(name: .customLong("min-runs"), help: "Fewest timed runs per configuration (adaptive rule).")
    var minRuns: Int = 5

    @Option(name: .customLong("max-runs"), help: "Most timed runs per configuration (adaptive rule).")
    var maxRuns: Int = 2000

    @Option(name: .customLong("max-seconds"), help: "Most seconds of timed runs per configuration (adaptive rule).")
    var maxSeconds: Double = 2

    @Option(name: .customLong("runs"), help: "Exactly this many timed runs per configuration, no time limit (strict replication).")
    var fixedRuns: Int?

    @Option(help: "Configuration order: random (seeded) or given (file order).")
    var order: RunOptions.Order = .random

    @Option(help: "Seed of the random order and of the tensors' values.")
    var seed: UInt64 = RunOptions().seed

    @Option(help: "warm, or cold: evict the last-level cache between runs (outside the timed region).")
    var cache: RunOptions.CacheState = .warm

    @Flag(name: .customLong("keep-samples"), help: "Also write every timed run to samples.csv.")
    var keepSamples = false

    @Option(help: ArgumentHelp("Run only shard i of n (1 ≤ i ≤ n), chosen by a stable hash of the configuration id.", valueName: "i/n"))
    var shard: String?

    @Option(name: .customLong("workspace-limit"), help: "Largest im2col buffer, in MiB.")
    var workspaceLimitMiB: Int = 256

    @Flag(help: "Resume the run in --out (it must exist); rerunning into it without --resume resumes too.")
    var resume = false

    @Flag(help: "No progress output.")
    var quiet = false

    func options() throws -> RunOptions {
        var options = RunOptions()
        do {
            if let cpuset { options.cpuset = try CPUSet.parse(cpuset) }
            if let shard { options.shard = try Shard(parsing: shard) }
        } catch { throw ValidationError("\(error)") }
        guard workspaceLimitMiB > 0, workspaceLimitMiB < 1 << 30 else {
            throw ValidationError("--workspace-limit must be a positive number of MiB")
        }
        options.threads = threads
        options.target = target
        options.minRuns = minRuns
        options.maxRuns = maxRuns
        options.maxSeconds = maxSeconds
        options.fixedRuns = fixedRuns
        options.order = order
        options.seed = seed
        options.cache = cache
        options.keepSamples = keepSamples
        options.workspaceLimit = workspaceLimitMiB << 20
        options.resume = resume
        options.showProgress = !quiet
        return options
    }

    func run() throws {
        let options = try options()
        var loaded: [Sweep] = []
        for path in sweeps {
            do { loaded.append(try Sweep.load(path: path)) } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(65)
            }
        }
        do {
            let summary = try RunDriver.run(
                sweeps: loaded, options: options, outputDirectory: out, toolVersion: convsweepVersion)
            var line = "\(summary.directory): \(summary.written) row(s) written (\(summary.measured) measured"
            line += ", \(summary.notMeasured) not measured)"
            if summary.alreadyPresent > 0 { line += ", \(summary.alreadyPresent) already present" }
            print(line + "; \(summary.manifest.status)")
        } catch let error as RunError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            if case .badOption = error { throw ExitCode(64) }
            throw ExitCode.failure
        }
    }
}

extension RunOptions.Order: ExpressibleByArgument {}
extension RunOptions.CacheState: ExpressibleByArgument {}
