import Rows
import Sweeps

/// Two runs of the same networks compared network by network: each network's time in A and in
/// B, their ratio, and whether B's times order the networks as A's do — rank transfer across two
/// runs, builds or machines, the FLOPs-misranking papers' second question at the level of whole
/// networks.
public struct NetworkTransfer: Sendable {
    /// One network measured in both runs.
    public struct Row: Sendable {
        /// The network.
        public var network: String
        /// Its cost in A and in B.
        public var a: NetworkCost, b: NetworkCost
        /// B's time over A's.
        public var ratio: Double { b.milliseconds / a.milliseconds }
    }

    /// The networks whose layers both runs hold, in the order given.
    public var rows: [Row]
    /// How B's network times order them against A's (A's rounds' intervals telling which pairs A
    /// separates); nil for fewer than three networks.
    public var ranking: NetworkRanking?

    /// The networks of `networks` that both `a` and `b` (the rows of two runs or packages) hold
    /// every layer of, each costed on each side (``NetworkCost``); a network either side lacks a
    /// layer of is left out.
    public init(networks: [Network], a: [MeasurementRow], b: [MeasurementRow]) {
        rows = networks.compactMap { network in
            guard let costA = try? NetworkCost(network: network, rows: a),
                let costB = try? NetworkCost(network: network, rows: b)
            else { return nil }
            return Row(network: network.name, a: costA, b: costB)
        }
        ranking =
            rows.count >= 3
            ? NetworkRanking(
                indicator: "B's times", names: rows.map(\.network), values: rows.map(\.b.milliseconds),
                measured: rows.map(\.a.milliseconds), intervals: rows.map(\.a.interval)) : nil
    }
}
