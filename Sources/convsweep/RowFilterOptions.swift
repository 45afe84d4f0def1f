import AlphaFit
import ArgumentParser

/// The row filters of `fit` and `predict`.
struct RowFilterOptions: ParsableArguments {
    @Option(
        parsing: .singleValue,
        help: ArgumentHelp(
            "Leave out rows whose plot column equals NAME (the original data's increasing_batch is a dense layer).",
            valueName: "NAME"))
    var excludePlot: [String] = []

    @Option(
        parsing: .singleValue,
        help: ArgumentHelp("Leave out rows whose COLUMN equals VALUE.", valueName: "COLUMN=VALUE"))
    var exclude: [String] = []

    func validate() throws { _ = try filters() }

    /// The filters given: `--exclude-plot NAME` is `--exclude plot=NAME`.
    func filters() throws -> [RowFilter] {
        try excludePlot.map { RowFilter(column: "plot", value: $0) }
            + exclude.map { text in
                guard let filter = RowFilter(text) else {
                    throw ValidationError("--exclude expects COLUMN=VALUE, got '\(text)'")
                }
                return filter
            }
    }
}
