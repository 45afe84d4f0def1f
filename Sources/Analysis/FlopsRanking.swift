import Basics
import Foundation
import Rows

/// How well FLOPs rank a set of measured configurations by time: the papers' misranking, at the
/// level of single layers.
public struct FlopsRanking: Codable, Hashable, Sendable {
    /// The experiment, or `regression` for the regression sample.
    public var experiment: String
    /// The series, or `all` for the whole regression sample.
    public var series: String
    /// Measured configurations.
    public var n: Int
    /// Spearman's ρ of FLOPs against median time (NaN when the FLOPs are all equal).
    public var spearman: Double
    /// Kendall's τ-b of FLOPs against median time (NaN when the FLOPs are all equal).
    public var kendall: Double
    /// The share of configurations whose FLOPs rank and time rank differ by two positions or more
    /// (ranks with ties averaged).
    public var displacedShare: Double
    /// Of the pairs whose FLOPs differ by at least 2×, the share whose times order the other way
    /// (the more FLOPs, the faster); NaN when there is no such pair.
    public var invertedShare: Double
    /// Pairs whose FLOPs differ by at least 2×.
    public var pairsTwiceApart: Int
    /// The slowest time over the fastest: for the equal-FLOPs experiments (A, B, C), what FLOPs
    /// cannot see.
    public var slowestToFastest: Double

    /// The ranking of `rows` (measured ones only are counted).
    public init(experiment: String, series: String, rows: [MeasurementRow]) {
        let measured = rows.filter { $0.status.isOK && ($0.medianMs ?? 0) > 0 }
        let flops = measured.map(\.flops)
        let times = measured.map { $0.medianMs! }
        self.experiment = experiment
        self.series = series
        n = measured.count
        spearman = RankStatistics.spearman(flops, times)
        kendall = RankStatistics.kendallTauB(flops, times)
        let flopsRanks = RankStatistics.ranks(flops)
        let timeRanks = RankStatistics.ranks(times)
        let displaced = zip(flopsRanks, timeRanks).filter { abs($0 - $1) >= 2 }.count
        displacedShare = n == 0 ? .nan : Double(displaced) / Double(n)
        var apart = 0
        var inverted = 0
        for i in flops.indices {
            for j in (i + 1)..<flops.count {
                let (more, less) = flops[i] >= flops[j] ? (i, j) : (j, i)
                guard flops[more] >= 2 * flops[less] else { continue }
                apart += 1
                if times[more] < times[less] { inverted += 1 }
            }
        }
        pairsTwiceApart = apart
        invertedShare = apart == 0 ? .nan : Double(inverted) / Double(apart)
        slowestToFastest = (times.max() ?? .nan) / (times.min() ?? .nan)
    }

    /// The rankings of a run's or a package's rows: one per series of every experiment, and one for
    /// the whole regression sample.
    public static func rankings(of rows: [MeasurementRow]) -> [FlopsRanking] {
        var order: [String] = []
        var groups: [String: [MeasurementRow]] = [:]
        for row in rows {
            let key = row.experiment == "regression" ? "regression\u{0}all" : "\(row.experiment)\u{0}\(row.series)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(row)
        }
        order.sort { a, b in
            a.hasPrefix("regression\u{0}") != b.hasPrefix("regression\u{0}") ? a.hasPrefix("regression") : a < b
        }
        return order.map { key in
            let parts = key.split(separator: "\u{0}", maxSplits: 1).map(String.init)
            return FlopsRanking(experiment: parts[0], series: parts[1], rows: groups[key]!)
        }
    }
}
