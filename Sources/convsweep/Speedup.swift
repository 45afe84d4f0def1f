import Analysis
import ArgumentParser
import Basics
import Foundation
import Rows

/// `convsweep speedup`: how each configuration's time scales with threads, in a run of several
/// thread counts.
struct Speedup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "How each configuration's time scales with threads: speedup T(1)/T(p) and parallel efficiency.",
        discussion: """
            Reads a run directory, a replication package or a measurements CSV holding rows at one \
            thread and at more (a run with --threads 1,2,…). Per series and thread count: the \
            configurations, their median, smallest and largest speedup and the median efficiency \
            (speedup/p); then, per count, Spearman's rho of the speedup against the output's H·W, \
            Cin·Cout, K1·K2 and the FLOPs: where a layer's FLOPs sit and how it scales. Each \
            configuration's speedup has an interval from the two rows' 95% intervals of the median \
            (--csv). Exit status: 0; 65 for an input that does not read or holds no configuration \
            measured at one thread and at more.
            """)

    @Argument(help: ArgumentHelp("A run directory, a replication package or a measurements CSV.", valueName: "run"))
    var input: String
    @Option(help: ArgumentHelp("Write every configuration's speedup as CSV.", valueName: "file"))
    var csv: String?
    @Option(help: ArgumentHelp("Write the per-series summary as CSV.", valueName: "file"))
    var seriesCSV: String?

    func run() throws {
        try requireIntactPackage(input)
        let scaling = try reportingErrors {
            let rows: [MeasurementRow]
            do { rows = try MeasurementSource.rows(at: input) } catch { throw InputError(description: "\(error)") }
            let scaling = ThreadScaling(rows: rows)
            guard !scaling.points.isEmpty else {
                throw InputError(
                    description:
                        "\(input): no configuration measured at one thread and at more (run with --threads 1,2)")
            }
            return scaling
        }
        print(Self.report(scaling))
        if let csv { try write(Data(scaling.csv.utf8), to: csv) }
        if let seriesCSV { try write(Data(scaling.seriesCSV.utf8), to: seriesCSV) }
    }

    /// The summary and dependence tables as text.
    static func report(_ scaling: ThreadScaling) -> String {
        func number(_ x: Double) -> String { x.isNaN ? "–" : String(format: "%.2f", x) }
        func column(_ text: String, _ width: Int, right: Bool = false) -> String {
            let clipped = String(text.prefix(width))
            let pad = String(repeating: " ", count: max(0, width - clipped.count))
            return right ? pad + clipped : clipped + pad
        }
        var lines = [
            column("experiment", 20) + column("series", 24) + column("p", 4, right: true) + column("n", 6, right: true)
                + column("median", 8, right: true) + column("min", 7, right: true) + column("max", 7, right: true)
                + column("efficiency", 12, right: true)
        ]
        for s in scaling.seriesSummaries {
            lines.append(
                column(s.experiment, 20) + column(s.series, 24) + column("\(s.threads)", 4, right: true)
                    + column("\(s.configurations)", 6, right: true) + column(number(s.medianSpeedup), 8, right: true)
                    + column(number(s.minSpeedup), 7, right: true) + column(number(s.maxSpeedup), 7, right: true)
                    + column(number(s.medianEfficiency), 12, right: true))
        }
        lines.append("")
        lines.append("Spearman's rho of the speedup against where the FLOPs sit:")
        lines.append(
            column("p", 4, right: true) + column("dimension", 11, right: true) + column("n", 6, right: true)
                + column("rho", 8, right: true))
        for d in scaling.dependence() {
            lines.append(
                column("\(d.threads)", 4, right: true) + column(d.dimension, 11, right: true)
                    + column("\(d.configurations)", 6, right: true) + column(number(d.rho), 8, right: true))
        }
        if scaling.unpaired > 0 {
            lines.append("\(scaling.unpaired) row(s) at more than one thread have no one-thread row and are left out.")
        }
        return lines.joined(separator: "\n")
    }
}
