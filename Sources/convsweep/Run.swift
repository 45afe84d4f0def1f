import ArgumentParser
import Basics
import ConvKernels
import Foundation
import Measurement
import Runner
import Sweeps

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure every configuration of sweep files into a run directory.",
        discussion: """
            Binds the whole process (every thread, OpenBLAS's workers included) to --cpuset with \
            hwloc and checks from /proc that it held, then measures each configuration in --rounds \
            rounds (default 3): passes over the sweep, each in its own seeded order, each round with \
            1/N of the stop rule's budget. In a round: warm-up until two successive times agree \
            within --target, then timed runs until the 95% confidence interval of the median is \
            within --target of it (at least --min-runs, at most --max-runs/N and --max-seconds/N), \
            or exactly --runs/N. The first execution of each round is checked against a direct \
            computation.

            A drift probe (a fixed sgemm) is read before measuring and after every round; a round \
            next to a reading --probe-slowdown below the session's reference is disturbed and \
            measured again in a later pass. A configuration is done with --rounds clean rounds, one \
            of them within --round-tolerance of its fastest round, or at --max-rounds; its row takes \
            its fastest round (clean or not: interference only slows a kernel) and records the \
            rounds' spread. --rounds 1 is one window, as a strict \
            replication wants.

            The run directory holds manifest.json (machine and its identity, versions, settings, \
            seeds, sweep hashes, probe summary, warnings), topology.xml (hwloc), measurements.csv \
            (one row per configuration), rounds.csv (one row per round), probes.csv (every probe \
            reading) and, with --keep-samples, samples.csv; every line appended and flushed as it is \
            measured. See docs/run-directory.md.

            Rerunning into the same directory (or --resume) measures only what is missing, after \
            checking the sweeps, machine and settings match and that the machine is the one the run \
            started on (same boot, reference rate within 10%, read for up to 10 s more before it \
            counts as different; --accept-machine-change overrides, recorded); a torn last line left by a kill is dropped, and a configuration continues from \
            its recorded rounds. Exit status: 0 done, 64 bad options, 65 a bad sweep file, 1 other \
            failures (a directory of another run or machine, a binding that does not hold).
            """)

    @Argument(help: "Sweep files (YAML, see sweeps/README.md).")
    var sweeps: [String]

    @Option(name: .long, help: ArgumentHelp("The run directory to create or resume.", valueName: "dir"))
    var out: String

    @OptionGroup var measuring: MeasuringOptions

    @Option(
        help: ArgumentHelp(
            "Run only shard i of n (1 ≤ i ≤ n), chosen by a stable hash of the configuration id.", valueName: "i/n"))
    var shard: String?

    @Flag(help: "Resume the run in --out (it must exist); rerunning into it without --resume resumes too.")
    var resume = false

    func options() throws -> RunOptions {
        var options = try measuring.runOptions()
        do {
            if let shard { options.shard = try Shard(parsing: shard) }
        } catch {
            if case let .badSetting(setting, problem) = error { throw ValidationError("\(flag(setting)) \(problem)") }
            throw error
        }
        options.resume = resume
        return options
    }

    func run() throws {
        let options = try options()
        // Rounds measured in this process on several threads: no OpenMP spinning (a worker gets it from us).
        if options.workerLaunch == nil {
            ComputeThreads.startQuietIfNeeded(
                threads: options.threadCounts.mayUseSeveralThreads ? 2 : 1, executable: BuildInfo.executablePath())
        }
        let summary = try reportingErrors {
            let loaded = try sweeps.map { try Sweep.load(path: $0) }
            return try RunDriver.run(
                sweeps: loaded, options: options, outputDirectory: out, toolVersion: BuildInfo.version)
        }
        var line = "\(summary.directory): \(summary.written) row(s) written (\(summary.measured) measured"
        line += ", \(summary.notMeasured) not measured)"
        if summary.alreadyPresent > 0 { line += ", \(summary.alreadyPresent) already present" }
        print(line + "; \(summary.manifest.status)")
        if let repeatability = summary.manifest.repeatability { print("  " + repeatability.statement) }
    }
}

extension RunOptions.Order: ExpressibleByArgument {}
extension RunOptions.CacheState: ExpressibleByArgument {}
