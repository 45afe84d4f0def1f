import ArgumentParser
import Foundation
import Measurement
import Runner
import Sweeps

/// `convsweep sweeps estimate`: how long `convsweep run` of these sweep files would measure.
struct SweepsEstimate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "estimate",
        abstract: "Estimate how long `convsweep run` of sweep files would measure on one core, with the same options.",
        discussion: """
            The measuring-time model of `sweeps list` (and of the progress line and Slurm's time \
            limits), for any sweep files and the runner's options as `run` takes them: per file and \
            in all, the session's fixed cost included. With --json, one object: total seconds, \
            configurations, the model's assumptions.
            """)

    @Argument(help: "Sweep files (YAML).")
    var sweepFiles: [String]

    @OptionGroup var machine: MachineRateOptions
    @OptionGroup var measuring: MeasuringOptions

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    /// What --json prints.
    struct Estimate: Codable {
        var seconds: Double
        var configurations: Int
        var measured: Int
        var model: String
    }

    func run() throws {
        var options = try measuring.runOptions()
        // `--threads all` as a run here would take it.
        if options.threadCounts.includesAll {
            options = try reportingErrors { try options.resolvingAllThreads(on: try Topology()) }
        }
        let model = options.measuringTimeModel(rates: machine.rates())
        var rows: [[String]] = []
        var total = Estimate(seconds: model.sessionSeconds, configurations: 0, measured: 0, model: model.summary)
        for path in sweepFiles {
            let sweep = try reportingErrors { try Sweep.load(path: path) }
            let configurations = options.expanded(sweep.configurations)
            let seconds = configurations.reduce(0) { $0 + model.seconds($1) }
            let measured = configurations.filter(\.isMeasured).count
            rows.append([path, String(configurations.count), String(measured), duration(seconds)])
            total.seconds += seconds
            total.configurations += configurations.count
            total.measured += measured
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(total), as: UTF8.self))
            return
        }
        print("Estimate for one core: \(model.summary).")
        rows.append([
            "total (with the session's \(formatted(model.sessionSeconds)) s)", String(total.configurations),
            String(total.measured), duration(total.seconds),
        ])
        printTable(header: ["file", "configs", "measured", "estimated"], rows: rows, leftAligned: [0])
    }
}

/// Seconds as `42 s` or `3.5 min (210 s)`.
func duration(_ seconds: Double) -> String {
    seconds < 120 ? String(format: "%.0f s", seconds) : String(format: "%.1f min (%.0f s)", seconds / 60, seconds)
}
