import ArgumentParser
import Basics
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
        } catch let error as RunError {
            if case let .badSetting(setting, problem) = error { throw ValidationError("\(flag(setting)) \(problem)") }
            throw error
        }
        options.resume = resume
        return options
    }

    func run() throws {
        let options = try options()
        let summary = try reportingErrors {
            let loaded = try sweeps.map { try Sweep.load(path: $0) }
            return try RunDriver.run(
                sweeps: loaded, options: options, outputDirectory: out, toolVersion: BuildInfo.version)
        }
        var line = "\(summary.directory): \(summary.written) row(s) written (\(summary.measured) measured"
        line += ", \(summary.notMeasured) not measured)"
        if summary.alreadyPresent > 0 { line += ", \(summary.alreadyPresent) already present" }
        print(line + "; \(summary.manifest.status)")
    }
}

extension RunOptions.Order: ExpressibleByArgument {}
extension RunOptions.CacheState: ExpressibleByArgument {}
