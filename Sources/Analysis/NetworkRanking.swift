import Basics
import ConvKernels
import Sweeps

/// How well a cost indicator orders networks by their measured time: the question of the FLOPs
/// misranking papers, at the level of whole networks.
public struct NetworkRanking: Sendable {
    /// The indicator: `parameters`, `MACs`, `bytes moved`, or another run's measured time.
    public var indicator: String
    /// Networks ranked.
    public var n: Int
    /// Spearman's ρ of the indicator against measured time.
    public var spearman: Double
    /// Kendall's τ-b of the indicator against measured time.
    public var kendall: Double
    /// Pairs of networks the indicator orders the other way from measured time (ties not counted).
    public var discordantPairs: Int
    /// Pairs of networks.
    public var pairs: Int
    /// Pairs whose measured intervals (the rounds' spread) do not overlap: the pairs the
    /// measurement itself orders. Nil when no intervals were given.
    public var resolvedPairs: Int?
    /// Of ``resolvedPairs``, those the indicator orders the other way: an inversion the rounds
    /// cannot explain. Nil when no intervals were given.
    public var resolvedDiscordantPairs: Int?
    /// Networks whose rank by the indicator and by time differ by two places or more (the papers'
    /// measure), by name.
    public var displaced: [String]

    /// The agreement of `indicator` values with `measured` times, network by network (`names`);
    /// with `intervals` (each network's measured interval, the rounds' spread), how many pairs the
    /// measurement separates and how many of those the indicator inverts.
    public init(
        indicator: String, names: [String], values: [Double], measured: [Double],
        intervals: [ClosedRange<Double>]? = nil
    ) {
        precondition(names.count == values.count && values.count == measured.count, "one value per network")
        precondition(intervals.map { $0.count == measured.count } ?? true, "one interval per network")
        self.indicator = indicator
        n = names.count
        spearman = RankStatistics.spearman(values, measured)
        kendall = RankStatistics.kendallTauB(values, measured)
        var (discordant, resolved, resolvedDiscordant) = (0, 0, 0)
        for i in values.indices {
            for j in (i + 1)..<values.count {
                let inverted = (values[i] - values[j]) * (measured[i] - measured[j]) < 0
                if inverted { discordant += 1 }
                if let intervals, !intervals[i].overlaps(intervals[j]) {
                    resolved += 1
                    if inverted { resolvedDiscordant += 1 }
                }
            }
        }
        discordantPairs = discordant
        pairs = n * (n - 1) / 2
        resolvedPairs = intervals == nil ? nil : resolved
        resolvedDiscordantPairs = intervals == nil ? nil : resolvedDiscordant
        let (byValue, byTime) = (RankStatistics.ranks(values), RankStatistics.ranks(measured))
        displaced = names.indices.filter { abs(byValue[$0] - byTime[$0]) >= 2 }.map { names[$0] }
    }

    /// The indicators of `networks` on paper — parameters (the weights of their convolution and
    /// fully-connected layers), MACs and the bytes those layers move (`Accounting.movedBytes`, under
    /// `bytes`) —
    /// each ranked against `costs` (the same networks, in the same order).
    public static func onPaper(
        _ networks: [Network], costs: [NetworkCost], bytes: BytesConvention = .algorithm
    ) -> [NetworkRanking] {
        let names = networks.map(\.name)
        let measured = costs.map(\.milliseconds)
        let intervals = costs.map(\.interval)
        return [
            NetworkRanking(
                indicator: "parameters", names: names, values: networks.map { Double($0.parameters) },
                measured: measured, intervals: intervals),
            NetworkRanking(
                indicator: "MACs", names: names, values: networks.map(\.macs), measured: measured,
                intervals: intervals),
            NetworkRanking(
                indicator: "bytes moved", names: names, values: networks.map { $0.movedBytes(bytes) },
                measured: measured,
                intervals: intervals),
        ]
    }
}

/// How well one predictor's network times match the measured ones: how many within ±10%, the
/// mean absolute percentage error, and (for three networks or more) how its times order them.
public struct NetworkPredictionAccuracy: Sendable {
    /// The predictor (a model, a fit file).
    public var model: String
    /// Networks predicted.
    public var networks: Int
    /// Networks within ±10% of their measured time.
    public var withinTenPercent: Int
    /// Mean absolute percentage error, percent.
    public var mapePercent: Double
    /// The predictions ranked against the measured times; nil for fewer than three networks.
    public var ranking: NetworkRanking?

    /// The accuracy of `predicted` times against `measured` ones, network by network (`names`),
    /// with the measured `intervals` when known (``NetworkRanking/resolvedPairs``).
    public init(
        model: String, names: [String], predicted: [Double], measured: [Double],
        intervals: [ClosedRange<Double>]? = nil
    ) {
        precondition(names.count == predicted.count && predicted.count == measured.count, "one time per network")
        let errors = zip(predicted, measured).map { abs($0 / $1 - 1) }
        self.model = model
        networks = names.count
        withinTenPercent = errors.filter { $0 <= 0.1 }.count
        mapePercent = 100 * errors.reduce(0, +) / Double(errors.count)
        ranking =
            names.count >= 3
            ? NetworkRanking(
                indicator: model, names: names, values: predicted, measured: measured, intervals: intervals) : nil
    }
}
