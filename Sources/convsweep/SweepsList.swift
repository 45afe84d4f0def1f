import ArgumentParser
import Foundation
import Sweeps

/// `convsweep sweeps list`: the shipped sweeps, their size and an estimate of their measuring time.
struct SweepsList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the shipped sweeps with their size, FLOPs, memory and estimated measuring time.",
        discussion: """
            For each profile (quick, paper, full) and each of its files: configurations measured and \
            dropped by the file's limits, the FLOPs of the smallest and largest measured configuration, \
            their total, the memory of the most demanding one (tensors + im2col workspace), and an \
            estimated measuring time, then the profile's totals.

            The estimate is a model, not a measurement. One run takes \
            t = max(FLOPs / rate, bytes / bandwidth); a configuration takes \
            warmups·t + min(runs·t, max(max-seconds, min-runs·t)) + overhead. \
            Rate and bandwidth are single-core assumptions: give this machine's with --gflops and \
            --bandwidth (the defaults describe a lab workstation). The runner's adaptive rule \
            stops each configuration when its median is precise enough, between its --min-runs \
            and --max-runs (5 and 2000): `--runs 5` and `--runs 2000` bound its time from below \
            and above.
            """)

    @OptionGroup var sweepsDirectory: SweepsDirectoryOption

    @Option(help: ArgumentHelp("Only this profile.", valueName: "quick|paper|full"))
    var profile: String?

    @Option(help: "Assumed sustained single-core sgemm rate, GFLOP/s.")
    var gflops = 50.0

    @Option(help: "Assumed effective single-core memory bandwidth, GB/s.")
    var bandwidth = 10.0

    @Option(help: "Timed runs per configuration when time allows.")
    var runs = 10

    @Option(name: .customLong("min-runs"), help: "Timed runs per configuration at least.")
    var minimumRuns = 5

    @Option(help: "Warm-up runs per configuration.")
    var warmups = 1

    @Option(name: .customLong("max-seconds"), help: "Most seconds of timed runs per configuration.")
    var maximumSeconds = 2.0

    @Option(name: .customLong("overhead-ms"), help: "Fixed milliseconds per configuration (allocation, fill, output).")
    var overheadMilliseconds = 5.0

    func validate() throws {
        if let profile, ShippedSweeps.Profile(rawValue: profile) == nil {
            throw ValidationError("unknown profile '\(profile)' (known: quick, paper, full)")
        }
        guard gflops > 0, bandwidth > 0, maximumSeconds > 0, overheadMilliseconds >= 0 else {
            throw ValidationError(
                "--gflops, --bandwidth and --max-seconds must be positive, --overhead-ms not negative")
        }
        guard runs >= 1, minimumRuns >= 1, warmups >= 0 else {
            throw ValidationError("--runs and --min-runs must be at least 1, --warmups at least 0")
        }
    }

    func run() throws {
        let model = MeasuringTimeModel(
            gflops: gflops, gigabytesPerSecond: bandwidth, timedRuns: runs, minimumRuns: minimumRuns,
            warmupRuns: warmups, maximumSeconds: maximumSeconds, overheadSeconds: overheadMilliseconds / 1000)
        let root = ShippedFiles.displayPath(try sweepsDirectory.shippedFiles().sweepsDirectory)
        let profiles = profile.map { [ShippedSweeps.Profile(rawValue: $0)!] } ?? ShippedSweeps.Profile.allCases
        // Load everything first: a bad file stops the command before anything is printed.
        var summaries: [String: (Sweep, SweepSummary)] = [:]
        var filesByProfile: [(ShippedSweeps.Profile, [String])] = []
        for profile in profiles {
            let files = try reportingErrors { try ShippedSweeps.files(profile: profile, root: root) }
            for file in files where summaries[file] == nil {
                let sweep = try reportingErrors { try Sweep.load(path: file) }
                summaries[file] = (sweep, SweepSummary(sweep, model: model))
            }
            filesByProfile.append((profile, files))
        }
        print(
            "Estimate: \(runs) timed runs (at least \(minimumRuns)) + \(warmups) warm-up, at most \(formatted(maximumSeconds)) s "
                + "of timed runs, \(formatted(overheadMilliseconds)) ms overhead per configuration, "
                + "\(formatted(gflops)) GFLOP/s, \(formatted(bandwidth)) GB/s.")
        for (profile, files) in filesByProfile {
            var rows: [[String]] = []
            var totals = (configurations: 0, measured: 0, dropped: 0, flops: 0.0, memory: 0, seconds: 0.0)
            for file in files {
                let (sweep, summary) = summaries[file]!
                rows.append([
                    file, sweep.name, String(sweep.configurations.count), String(summary.measured),
                    String(summary.dropped),
                    summary.flopsRange.map { "\(gflop($0.lowerBound))..\(gflop($0.upperBound))" } ?? "-",
                    gflop(summary.totalFLOPs), mib(summary.largestMemoryBytes), duration(summary.estimatedSeconds),
                ])
                totals.configurations += sweep.configurations.count
                totals.measured += summary.measured
                totals.dropped += summary.dropped
                totals.flops += summary.totalFLOPs
                totals.memory = max(totals.memory, summary.largestMemoryBytes)
                totals.seconds += summary.estimatedSeconds
            }
            rows.append([
                "total", "", String(totals.configurations), String(totals.measured), String(totals.dropped), "",
                gflop(totals.flops), mib(totals.memory), duration(totals.seconds),
            ])
            print("\nProfile \(profile):")
            printTable(
                header: [
                    "file", "exp", "configs", "measured", "dropped", "GFLOP min..max", "total GFLOP",
                    "largest MiB", "estimated",
                ],
                rows: rows)
        }
    }

    private func gflop(_ flops: Double) -> String {
        let value = flops / 1e9
        return value < 0.01 ? String(format: "%.2g", value) : String(format: value < 100 ? "%.2f" : "%.0f", value)
    }

    private func mib(_ bytes: Int) -> String { String(format: "%.1f", Double(bytes) / 1_048_576) }

    private func duration(_ seconds: Double) -> String {
        seconds < 120 ? String(format: "%.0f s", seconds) : String(format: "%.1f min (%.0f s)", seconds / 60, seconds)
    }
}

/// `value` without a trailing `.0` when it is an integer.
func formatted(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
}

/// Prints `rows` under `header` in columns: text left-aligned, the rest right-aligned.
func printTable(header: [String], rows: [[String]], leftAligned: Set<Int> = [0, 1]) {
    let all = [header] + rows
    let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
    for row in all {
        let cells = row.enumerated().map { column, cell in
            let pad = String(repeating: " ", count: widths[column] - cell.count)
            return leftAligned.contains(column) ? cell + pad : pad + cell
        }
        print(cells.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
    }
}
