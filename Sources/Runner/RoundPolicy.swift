import Rows

/// When a configuration's rounds have settled, and which row they give: a pure value, the rule
/// a run applies after each round (``RunOptions/rounds``, ``RunOptions/effectiveMaxRounds``,
/// ``RunOptions/roundTolerance``).
///
/// Settled: ``rounds`` clean rounds the two fastest of which agree within ``tolerance`` (the
/// fastest round needs a second witness), or ``maxRounds`` rounds in all. The row's figures are
/// those of its fastest clean round (of its fastest round when none was clean): interference only
/// ever slows a kernel down, so the fastest of several windows, each with a precise median, is
/// the least disturbed one; the spread of the rounds' medians is recorded beside it, and its
/// `window` says `clean`, `unsettled` (clean rounds still disagreeing at the limit) or
/// `disturbed` (no clean round).
public struct RoundPolicy: Hashable, Sendable {
    /// Clean rounds a configuration needs.
    public var rounds: Int
    /// The most rounds of one configuration.
    public var maxRounds: Int
    /// How far the second fastest clean round may be from the fastest, as a share of it.
    public var tolerance: Double

    /// The policy of `options`.
    public init(_ options: RunOptions) {
        self.init(rounds: options.rounds, maxRounds: options.effectiveMaxRounds, tolerance: options.roundTolerance)
    }

    /// A policy of `rounds` clean rounds agreeing within `tolerance`, at most `maxRounds`.
    public init(rounds: Int, maxRounds: Int, tolerance: Double) {
        (self.rounds, self.maxRounds, self.tolerance) = (rounds, maxRounds, tolerance)
    }

    /// The row of a configuration whose rounds so far are `measured` (rounds.csv rows, each with
    /// its median and window), or nil when it needs another round.
    public func row(from measured: [MeasurementRow]) -> MeasurementRow? {
        let clean = measured.filter { $0.window == .clean }
        let chosenFrom = clean.isEmpty ? measured : clean
        let medians = chosenFrom.compactMap(\.medianMs).sorted()
        guard let fastest = medians.first, let slowest = medians.last else { return nil }
        let agree = medians.count >= 2 && medians[1] / fastest - 1 <= tolerance
        let settled = clean.count >= rounds && agree
        guard settled || measured.count >= maxRounds else { return nil }
        var row = chosenFrom.min { ($0.medianMs ?? .infinity) < ($1.medianMs ?? .infinity) }!
        row.rounds = measured.count
        row.cleanRounds = clean.count
        row.roundMinMs = fastest
        row.roundMaxMs = slowest
        row.window = clean.isEmpty ? .disturbed : (agree ? .clean : .unsettled)
        return row
    }
}
