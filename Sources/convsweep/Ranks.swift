import Analysis
import ArgumentParser
import Basics
import Foundation

/// `convsweep ranks`: how well FLOPs rank one run's configurations by measured time.
struct Ranks: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "How well FLOPs rank measured configurations by time, per series and over the regression sample.",
        discussion: """
            For each series of every experiment, and for the whole regression sample, of the \
            measured rows: Spearman's rho and Kendall's tau-b of FLOPs against median time; the share of configurations \
            whose FLOPs rank and time rank differ by two positions or more (ties averaged); of the \
            pairs whose FLOPs differ by at least 2x, the share whose times order the other way; and \
            the slowest time over the fastest (for the equal-FLOPs experiments A, B and C, what FLOPs \
            cannot see). Reads a run directory, a replication package or a measurements CSV. \
            Exit status: 0, 65 for an input that does not read.
            """)

    @Argument(help: ArgumentHelp("A run directory, a replication package or a measurements CSV.", valueName: "run"))
    var input: String
    @Option(help: ArgumentHelp("Also write the table as CSV.", valueName: "file"))
    var csv: String?

    func run() throws {
        try requireIntactPackage(input)
        let rows = try reportingErrors {
            do { return try MeasurementSource.rows(at: input) } catch { throw InputError(description: "\(error)") }
        }
        let rankings = FlopsRanking.rankings(of: rows)
        func percent(_ x: Double) -> String { x.isNaN ? "–" : String(format: "%.1f%%", 100 * x) }
        func number(_ x: Double) -> String { x.isNaN ? "–" : String(format: "%.3f", x) }
        func column(_ text: String, _ width: Int, right: Bool = false) -> String {
            let clipped = String(text.prefix(width))
            let pad = String(repeating: " ", count: width - clipped.count)
            return right ? pad + clipped : clipped + pad
        }
        print(
            column("experiment", 11) + column("series", 16) + column("n", 6, right: true)
                + column("Spearman", 10, right: true) + column("Kendall", 9, right: true)
                + column("displaced", 11, right: true)
                + column("inverted", 10, right: true) + column("of pairs", 11, right: true)
                + column("slowest/fastest", 17, right: true))
        for r in rankings {
            print(
                column(r.experiment, 11) + column(r.series, 16) + column("\(r.n)", 6, right: true)
                    + column(number(r.spearman), 10, right: true) + column(number(r.kendall), 9, right: true)
                    + column(percent(r.displacedShare), 11, right: true)
                    + column(percent(r.invertedShare), 10, right: true)
                    + column("\(r.pairsTwiceApart)", 11, right: true)
                    + column(number(r.slowestToFastest), 17, right: true))
        }
        print(
            "displaced: configurations whose FLOPs and time ranks differ by 2 or more; inverted: of the pairs whose FLOPs differ by 2x or more, those whose times order the other way."
        )
        if let csv {
            let header = [
                "experiment", "series", "n", "spearman", "kendall", "displaced_share", "inverted_share",
                "pairs_twice_apart",
                "slowest_to_fastest",
            ]
            let lines = rankings.map { r in
                [
                    r.experiment, r.series, "\(r.n)", "\(r.spearman)", "\(r.kendall)", "\(r.displacedShare)",
                    "\(r.invertedShare)",
                    "\(r.pairsTwiceApart)", "\(r.slowestToFastest)",
                ]
            }
            try write(Data(CSVText.text(header: header, rows: lines).utf8), to: csv)
        }
    }
}

/// An input that does not read, for the exit status of bad input files.
struct InputError: Error, CustomStringConvertible {
    var description: String
}
