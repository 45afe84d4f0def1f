import ArgumentParser
import Foundation
import Measurement
import Runner
import Sweeps

/// `convsweep sweeps list`: the shipped sweeps, their size and an estimate of their measuring time.
struct SweepsList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the shipped sweeps with their size, FLOPs, memory and estimated measuring time.",
        discussion: """
            For each profile (quick, paper, full, networks) and each of its files: configurations measured and \
            dropped by the file's limits, the FLOPs of the smallest and largest measured configuration, \
            their total, the memory of the most demanding one (tensors + im2col workspace), and the \
            time `replicate --profile P` with the same options would take to measure it on one core, \
            then the profile's totals.

            The estimate is the measuring-time model that the progress line and Slurm's time limits \
            use (docs/benchmarks-history.md, "Measuring-time estimates"): the round rule in force (each \
            profile's defaults, or the options given), each layer's roofline time on this machine, \
            and per-round and per-session costs calibrated on measured runs. Give this machine's \
            rates with --measure-machine (about 2 s) or --gflops and --bandwidth; otherwise it says \
            which it assumed.
            """)

    @OptionGroup var sweepsDirectory: SweepsDirectoryOption

    @Option(help: ArgumentHelp("Only this profile."))
    var profile: ShippedSweeps.Profile?

    @OptionGroup var machine: MachineRateOptions
    @OptionGroup var measuring: MeasuringOptions

    func run() throws {
        let rates = machine.rates()
        let root = ShippedFiles.displayPath(try sweepsDirectory.shippedFiles().sweepsDirectory)
        let profiles = profile.map { [$0] } ?? ShippedSweeps.Profile.allCases
        // Load everything first: a bad file stops the command before anything is printed.
        var sweeps: [String: Sweep] = [:]
        var filesByProfile: [(ShippedSweeps.Profile, [String], MeasuringTimeModel)] = []
        var optionsByProfile: [ShippedSweeps.Profile: RunOptions] = [:]
        let topology = try? Topology()
        for profile in profiles {
            var options = try measuring.runOptions(RunDefaults.profile(profile))
            // `all` as a run here would take it.
            if let topology { options = try reportingErrors { try options.resolvingAllThreads(on: topology) } }
            optionsByProfile[profile] = options
            let files = try reportingErrors { try ShippedSweeps.files(profile: profile, root: root) }
            for file in files where sweeps[file] == nil {
                sweeps[file] = try reportingErrors { try Sweep.load(path: file) }
            }
            filesByProfile.append((profile, files, options.measuringTimeModel(rates: rates)))
        }
        for (profile, files, model) in filesByProfile {
            var rows: [[String]] = []
            var totals = (
                configurations: 0, measured: 0, dropped: 0, flops: 0.0, memory: 0, seconds: model.sessionSeconds
            )
            for file in files {
                let sweep = sweeps[file]!
                let configurations = optionsByProfile[profile]!.expanded(sweep.configurations)
                let summary = SweepSummary(configurations, model: model)
                rows.append([
                    file, sweep.name, String(configurations.count), String(summary.measured),
                    String(summary.dropped),
                    summary.flopsRange.map { "\(gflop($0.lowerBound))..\(gflop($0.upperBound))" } ?? "-",
                    gflop(summary.totalFLOPs), mib(summary.largestMemoryBytes), duration(summary.estimatedSeconds),
                ])
                totals.configurations += configurations.count
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
            let counts = optionsByProfile[profile]!.threadCounts.counts
            let on =
                counts.count > 1
                ? "at \(counts.map(String.init).joined(separator: ", ")) threads (a run at p threads taking 1/p of its one-thread time)"
                : counts == [1]
                    ? "for one core" : "at \(counts[0]) threads (a run taking 1/\(counts[0]) of its one-thread time)"
            print("\nProfile \(profile): estimate \(on): \(model.summary).")
            printTable(
                header: [
                    "file", "exp", "configs", "measured", "dropped", "GFLOP min..max", "total GFLOP",
                    "largest MiB", "estimated",
                ],
                rows: rows)
        }
    }

    func gflop(_ flops: Double) -> String {
        let value = flops / 1e9
        return value < 0.01 ? String(format: "%.2g", value) : String(format: value < 100 ? "%.2f" : "%.0f", value)
    }

    func mib(_ bytes: Int) -> String { String(format: "%.1f", Double(bytes) / 1_048_576) }

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
