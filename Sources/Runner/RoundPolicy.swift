import Rows

/// When a configuration's rounds have settled, and which row they give: a pure value, the rule
/// a run applies after each round (``RunOptions/rounds``, ``RunOptions/effectiveMaxRounds``,
/// ``RunOptions/roundTolerance``).
///
/// The row's figures are those of its **fastest round**, clean or disturbed: interference only
/// ever slows a kernel down, so the fastest of several windows, each with a precise median, is the
/// least disturbed one — and the probe that labels a round clean reads another kernel, so it can
/// miss what slows this one (on a Zen 4 VM a depthwise layer's only clean round, probe at 0.915 of
/// the reference, read 4.50 µs and a disturbed round 2.51 µs, what nine other runs measured).
/// Settled: ``rounds`` clean rounds, and a clean round other than the fastest within
/// ``tolerance`` of it (the fastest round needs a clean second witness), or ``maxRounds`` rounds
/// in all. The row records the spread from the fastest round to the slowest clean one (to the
/// slowest round when none was clean), and its `window` says `clean` (settled), `unsettled`
/// (clean rounds without a witness of the fastest at the limit) or `disturbed` (no clean round).
public struct RoundPolicy: Hashable, Sendable {
    /// Clean rounds a configuration needs.
    public var rounds: Int
    /// The most rounds of one configuration.
    public var maxRounds: Int
    /// How far the second fastest clean round may be from the fastest, as a share of it.
    public var tolerance: Double
    /// Whether the row is the fastest round, clean or disturbed (runs started by 0.16.0 or later);
    /// false for a run started before (its manifest records no ``RunManifest/Settings/Facts/rowRound``),
    /// whose rows, a resume's included, take their fastest clean round, settled when the two
    /// fastest clean rounds agree.
    public var fastestOfAll = true

    /// The policy of `options`.
    public init(_ options: RunOptions) {
        self.init(rounds: options.rounds, maxRounds: options.effectiveMaxRounds, tolerance: options.roundTolerance)
    }

    /// The policy of `options` under the rule the run recorded in `settings` (its first
    /// session's: a run started before 0.16.0 records none and keeps its fastest clean round).
    init(_ options: RunOptions, run settings: RunManifest.Settings) {
        self.init(options)
        fastestOfAll = settings.rowsTakeFastestRound
    }

    /// A policy of `rounds` clean rounds agreeing within `tolerance`, at most `maxRounds`.
    public init(rounds: Int, maxRounds: Int, tolerance: Double) {
        (self.rounds, self.maxRounds, self.tolerance) = (rounds, maxRounds, tolerance)
    }

    /// The row of a configuration whose rounds so far are `measured` (rounds.csv rows, each with
    /// its median and window), or nil when it needs another round.
    public func row(from measured: [MeasurementRow]) -> MeasurementRow? {
        guard fastestOfAll else { return fastestCleanRow(from: measured) }
        let timed = measured.filter { $0.medianMs != nil }
        guard let fastest = timed.min(by: { $0.medianMs! < $1.medianMs! }) else { return nil }
        let fastestMs = fastest.medianMs!
        let clean = measured.filter { $0.window == .clean }
        // A clean witness of the fastest round: another clean round within the tolerance of it.
        let witnessed = clean.contains {
            $0.round != fastest.round && $0.medianMs.map { $0 / fastestMs - 1 <= tolerance } ?? false
        }
        let settled = clean.count >= rounds && witnessed
        guard settled || measured.count >= maxRounds else { return nil }
        let slowest = max(fastestMs, (clean.isEmpty ? timed : clean).compactMap(\.medianMs).max() ?? fastestMs)
        return Self.row(
            fastest, of: measured, clean: clean.count, spread: fastestMs...slowest,
            window: clean.isEmpty ? .disturbed : (settled ? .clean : .unsettled))
    }

    /// `chosen` as the row of its configuration's `measured` rounds, `clean` of them clean, the
    /// rounds' medians spanning `spread`, in `window`.
    private static func row(
        _ chosen: MeasurementRow, of measured: [MeasurementRow], clean: Int, spread: ClosedRange<Double>,
        window: MeasurementWindow
    ) -> MeasurementRow {
        var row = chosen
        row.rounds = measured.count
        row.cleanRounds = clean
        row.roundMinMs = spread.lowerBound
        row.roundMaxMs = spread.upperBound
        row.window = window
        return row
    }

    /// The rule of runs started before 0.16.0: the fastest clean round (the fastest round when
    /// none was clean), settled by `rounds` clean rounds the two fastest of which agree.
    func fastestCleanRow(from measured: [MeasurementRow]) -> MeasurementRow? {
        let clean = measured.filter { $0.window == .clean }
        let chosenFrom = clean.isEmpty ? measured : clean
        let medians = chosenFrom.compactMap(\.medianMs).sorted()
        guard let fastest = medians.first, let slowest = medians.last else { return nil }
        let agree = medians.count >= 2 && medians[1] / fastest - 1 <= tolerance
        let settled = clean.count >= rounds && agree
        guard settled || measured.count >= maxRounds else { return nil }
        return Self.row(
            chosenFrom.min { ($0.medianMs ?? .infinity) < ($1.medianMs ?? .infinity) }!, of: measured,
            clean: clean.count, spread: fastest...slowest,
            window: clean.isEmpty ? .disturbed : (agree ? .clean : .unsettled))
    }
}
