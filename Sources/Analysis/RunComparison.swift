import Basics
import Foundation
import Rows

/// Two runs (or packages) compared configuration by configuration (`convsweep compare A B`):
/// the ratio of B's time to A's with an interval that includes run-to-run noise, a verdict at
/// α = 0.05, per experiment and series the geometric-mean ratio, and how the two runs rank the
/// configurations.
///
/// The test, per configuration, is Welch's t-test on the logarithms of the two runs' clean round
/// medians (each round a separate window a pass apart), with a noise floor: each side's variance of
/// its estimate gets `noiseFloor²` added, the relative run-to-run noise that rounds of one run do
/// not see (two runs of one build on one machine differ by a median of about 1% here,
/// benchmarks/repeatability). The estimate is each row's time (its fastest round), the
/// interval `exp(d ± t₀.₉₇₅(ν)·s)` with Welch–Satterthwaite's ν rounded down.
public struct RunComparison: Codable, Sendable {
    /// What a configuration's test concluded.
    public enum Verdict: String, Codable, Sendable {
        /// B is significantly faster.
        case faster
        /// B is significantly slower.
        case slower
        /// No significant change.
        case unchanged = "no significant change"
    }

    /// One configuration in both runs.
    public struct Configuration: Codable, Sendable {
        /// The id, experiment and series.
        public var configID: String, experiment: String, series: String
        /// FLOPs of one forward pass.
        public var flops: Double
        /// The two rows' times, milliseconds.
        public var timeAMs: Double, timeBMs: Double
        /// B / A, and its 95% interval.
        public var ratio: Double, low: Double, high: Double
        /// The verdict.
        public var verdict: Verdict
        /// The rounds each side's spread was estimated from.
        public var roundsA: Int, roundsB: Int
    }

    /// A series (or a whole experiment, series `all`) summarised.
    public struct Group: Codable, Sendable {
        /// The experiment and series (`all` for every series of it, or of every experiment).
        public var experiment: String, series: String
        /// Configurations compared.
        public var n: Int
        /// The geometric mean of the ratios B / A, and its 95% interval (t over the log ratios).
        public var geometricMeanRatio: Double, low: Double, high: Double
        /// Configurations significantly faster, slower, and unchanged in B.
        public var faster: Int, slower: Int, unchanged: Int
    }

    /// How alike the two runs order the configurations.
    public struct Ranking: Codable, Sendable {
        /// The experiment, or `all`.
        public var experiment: String
        /// Configurations in both.
        public var n: Int
        /// Spearman's ρ and Kendall's τ-b of the two runs' times.
        public var spearman: Double, kendall: Double
        /// Of the k fastest of each series in A, the share among the k fastest of that series in B.
        public var topKAgreement: Double
        /// The k.
        public var k: Int
    }

    /// Every configuration in both runs, in A's order.
    public var configurations: [Configuration]
    /// Per series, per experiment (`all`), and over everything (`all`, `all`).
    public var groups: [Group]
    /// Rank agreement per experiment and over everything.
    public var rankings: [Ranking]
    /// The relative run-to-run noise added to each side.
    public var noiseFloor: Double
    /// Where ``noiseFloor`` comes from: `given`, `estimated` from the two runs, or `estimated,
    /// capped` at ``maximumNoiseFloor`` (the ratios scatter by more than runs of one build do).
    public var noiseFloorSource: String = "given"
    /// The per-run noise the two runs show beyond their rounds' spread (see
    /// ``estimateNoiseFloor(_:)``), whether used or not; nil with fewer than 8 configurations.
    public var estimatedNoiseFloor: Double?
    /// The drift probe's median rate during B over its median during A (1: the machine ran at the
    /// same speed); nil when either has no probe readings.
    public var probeRatio: Double?
    /// The overall geometric mean ratio with each configuration's ratio scaled by the probes'
    /// speed change (B's times × probeRatio^``probeExponent``): how B compares with A had the
    /// machine run at one speed; nil without probes.
    public var probeNormalisedGeometricMeanRatio: Double?

    /// How a round's time follows the probe's rate: time ∝ rate^−0.75 (fitted on the committed
    /// paper run's 55,619 rounds, whose deviations correlate −0.72 with the probe's).
    public static let probeExponent = 0.75
    /// The least noise floor an estimate may give (two runs of one build on a quiet machine).
    public static let minimumNoiseFloor = 0.01
    /// The most an estimate may give: runs of one build scattered by a per-run 1.4–4.2% beyond
    /// their rounds on the busiest host seen (a shared Zen 4 VM); a wider scatter is B changing
    /// configurations by different amounts (another kernel set: 2–4×), which is not noise and
    /// must not hide the change.
    public static let maximumNoiseFloor = 0.05
    /// Configurations of A, and of B, not in the other.
    public var onlyInA: Int, onlyInB: Int

    /// Compares the measured rows of `a` and `b` (with the rounds they were chosen from).
    ///
    /// - Throws: ``ComparisonError`` when the two have no measured configuration in common, or
    ///   when either holds a configuration twice (which of its times would count?).
    ///
    /// - Parameters:
    ///   - noiseFloor: the per-run noise to add; nil estimates it from the two runs (at least
    ///     ``minimumNoiseFloor``).
    ///   - probeRatesA: the probe's readings during A (GFLOP/s), for the machine's speed change.
    public init(
        a: [MeasurementRow], roundsA: [MeasurementRow], b: [MeasurementRow], roundsB: [MeasurementRow],
        noiseFloor: Double? = nil, probeRatesA: [Double] = [], probeRatesB: [Double] = [], topK: Int = 5
    ) throws {
        for (side, rows) in [("A", a), ("B", b)] {
            var seen = Set<String>()
            if let twice = rows.first(where: { !seen.insert($0.configID).inserted }) {
                throw ComparisonError(
                    "run \(side) holds configuration \(twice.configID) twice (which of its times would count?)")
            }
        }
        let measuredA = a.filter { $0.status.isOK && ($0.medianMs ?? 0) > 0 }
        let measuredB = Dictionary(
            b.filter { $0.status.isOK && ($0.medianMs ?? 0) > 0 }.map { ($0.configID, $0) },
            uniquingKeysWith: { x, _ in x })
        let common = measuredA.filter { measuredB[$0.configID] != nil }
        guard !common.isEmpty else {
            throw ComparisonError(
                "the two runs have no measured configuration in common (configurations match by id)")
        }
        let cleanA = RunComparison.cleanRoundLogs(roundsA)
        let cleanB = RunComparison.cleanRoundLogs(roundsB)
        // Each configuration's log ratio and the spreads of its two sides, once.
        let pairs = common.map { row in
            Pair(
                a: row, b: measuredB[row.configID]!, logsA: cleanA[row.configID] ?? [],
                logsB: cleanB[row.configID] ?? [])
        }
        // The floor: given, or estimated from how far the configurations' ratios scatter beyond
        // what their rounds explain.
        estimatedNoiseFloor = RunComparison.estimateNoiseFloor(
            pairs.map { ($0.logRatio, $0.spreadA.variance + $0.spreadB.variance) })
        let floor: Double
        if let noiseFloor {
            floor = noiseFloor
        } else {
            (floor, noiseFloorSource) = RunComparison.floor(estimated: estimatedNoiseFloor)
        }
        configurations = pairs.map { RunComparison.test($0, floor: floor) }
        self.noiseFloor = floor
        if !probeRatesA.isEmpty, !probeRatesB.isEmpty {
            let ratio =
                Statistics.quantile(probeRatesB.sorted(), 0.5) / Statistics.quantile(probeRatesA.sorted(), 0.5)
            probeRatio = ratio
            probeNormalisedGeometricMeanRatio = RunComparison.probeNormalised(configurations, probeRatio: ratio)
        }
        onlyInA = measuredA.count - common.count
        onlyInB = measuredB.count - common.count

        groups = RunComparison.groups(configurations, floor: floor)
        rankings = RunComparison.rankings(configurations, topK: topK)
    }

    /// The floor an estimate gives (``minimumNoiseFloor`` without one) and its source:
    /// `estimated`, or `estimated, capped` at ``maximumNoiseFloor``.
    public static func floor(estimated estimate: Double?) -> (floor: Double, source: String) {
        let estimate = estimate ?? minimumNoiseFloor
        return (
            min(maximumNoiseFloor, max(minimumNoiseFloor, estimate)),
            estimate > maximumNoiseFloor ? "estimated, capped" : "estimated"
        )
    }

    /// The geometric mean ratio of `configurations` with each ratio scaled by the probes' speed
    /// change `probeRatio` (what ``probeNormalisedGeometricMeanRatio`` holds).
    public static func probeNormalised(_ configurations: [Configuration], probeRatio: Double) -> Double {
        let logs = configurations.map { log($0.ratio) + probeExponent * log(probeRatio) }
        return exp(logs.reduce(0, +) / Double(max(1, logs.count)))
    }

    /// The summaries of every series of each experiment, of the experiment, and of all (what
    /// ``groups`` holds; a verifier recomputes them from a comparison's configurations).
    public static func groups(_ configurations: [Configuration], floor: Double) -> [Group] {
        let experiments = Array(Set(configurations.map(\.experiment))).sorted()
        var groups: [Group] = []
        let bySeries = Dictionary(grouping: configurations, by: { [$0.experiment, $0.series] })
        for experiment in experiments {
            for series in bySeries.keys.filter({ $0[0] == experiment }).map({ $0[1] }).sorted() {
                groups.append(summary(experiment, series, bySeries[[experiment, series]]!, floor: floor))
            }
            groups.append(
                summary(experiment, "all", configurations.filter { $0.experiment == experiment }, floor: floor))
        }
        groups.append(summary("all", "all", configurations, floor: floor))
        return groups
    }

    /// How the configurations of each experiment, and all of them, rank in the two runs (what
    /// ``rankings`` holds; a verifier recomputes them from a comparison's configurations).
    public static func rankings(_ configurations: [Configuration], topK: Int) -> [Ranking] {
        let experiments = Array(Set(configurations.map(\.experiment))).sorted()
        return (experiments + ["all"]).map { experiment in
            ranking(
                experiment, configurations.filter { experiment == "all" || $0.experiment == experiment }, topK: topK)
        }
    }

    /// How `members` (one experiment's configurations, or all) rank in the two runs: Spearman,
    /// Kendall, and how many of each series' `topK` fastest configurations in A are among its
    /// fastest in B.
    static func ranking(_ experiment: String, _ members: [Configuration], topK: Int) -> Ranking {
        let series = Dictionary(grouping: members, by: { [$0.experiment, $0.series] }).values
        var agreeing = 0
        var considered = 0
        for line in series {
            let k = min(topK, line.count)
            let fastestA = Set(line.sorted { $0.timeAMs < $1.timeAMs }.prefix(k).map(\.configID))
            let fastestB = Set(line.sorted { $0.timeBMs < $1.timeBMs }.prefix(k).map(\.configID))
            agreeing += fastestA.intersection(fastestB).count
            considered += k
        }
        return Ranking(
            experiment: experiment, n: members.count,
            spearman: RankStatistics.spearman(members.map(\.timeAMs), members.map(\.timeBMs)),
            kendall: RankStatistics.kendallTauB(members.map(\.timeAMs), members.map(\.timeBMs)),
            topKAgreement: considered == 0 ? .nan : Double(agreeing) / Double(considered), k: topK)
    }

    /// The per-run noise two runs show beyond their rounds, from `(log ratio, variance of it from
    /// the rounds)` per configuration; nil for fewer than 8.
    ///
    /// Between two runs a configuration moves by its rounds' spread, by a shift of the whole run
    /// (the machine's phase; common to all, so it is left out: the log ratios are taken about
    /// their median) and by a part of its own that the rounds of one process do not sample (page
    /// placement, a phase longer than its rounds). The last is estimated by moments, robustly:
    /// (1.4826 · the median absolute deviation of the log ratios)² − the median variance from the
    /// rounds, shared equally by the two runs. A change in B that is not the same for every
    /// configuration widens it: the floor then says how far apart the configurations' changes lie.
    public static func estimateNoiseFloor(_ ratios: [(log: Double, variance: Double)]) -> Double? {
        guard ratios.count >= 8 else { return nil }
        let logs = ratios.map(\.log).sorted()
        let center = Statistics.quantile(logs, 0.5)
        let deviations = logs.map { abs($0 - center) }.sorted()
        let scatter = 1.4826 * Statistics.quantile(deviations, 0.5)
        let within = Statistics.quantile(ratios.map(\.variance).sorted(), 0.5)
        return (max(0, scatter * scatter - within) / 2).squareRoot()
    }

    /// The logarithms of each configuration's clean round medians (all its rounds when fewer than
    /// two were clean): what a side's spread, and its ``Configuration/roundsA`` or `roundsB`, come from.
    public static func cleanRoundLogs(_ rounds: [MeasurementRow]) -> [String: [Double]] {
        var all: [String: [Double]] = [:]
        var clean: [String: [Double]] = [:]
        for round in rounds where round.status.isOK {
            guard let median = round.medianMs, median > 0 else { continue }
            all[round.configID, default: []].append(log(median))
            if round.window == .clean { clean[round.configID, default: []].append(log(median)) }
        }
        return all.merging(clean.filter { $0.value.count >= 2 }) { _, cleanOnes in cleanOnes }
    }

    /// The variance of a side's log estimate from its rounds, else from its row's confidence
    /// interval (a run measured before rounds), and its degrees of freedom.
    static func spread(_ row: MeasurementRow, _ logs: [Double]) -> (variance: Double, dof: Double) {
        if logs.count >= 2 {
            let mean = logs.reduce(0, +) / Double(logs.count)
            let variance = logs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(logs.count - 1)
            return (variance / Double(logs.count), Double(logs.count - 1))
        }
        if let low = row.ci95LowMs, let high = row.ci95HighMs, low > 0, high >= low {
            let se = log(high / low) / (2 * 1.959963984540054)
            return (se * se, 1e6)
        }
        return (0, 1e6)
    }

    /// A configuration in both runs, with its log ratio and the spread of each side.
    struct Pair {
        let a: MeasurementRow, b: MeasurementRow, logsA: [Double], logsB: [Double]
        let logRatio: Double
        let spreadA: (variance: Double, dof: Double), spreadB: (variance: Double, dof: Double)

        init(a: MeasurementRow, b: MeasurementRow, logsA: [Double], logsB: [Double]) {
            (self.a, self.b, self.logsA, self.logsB) = (a, b, logsA, logsB)
            logRatio = log(b.medianMs!) - log(a.medianMs!)
            spreadA = RunComparison.spread(a, logsA)
            spreadB = RunComparison.spread(b, logsB)
        }
    }

    static func test(_ pair: Pair, floor: Double) -> Configuration {
        let (a, b, logsA, logsB) = (pair.a, pair.b, pair.logsA, pair.logsB)
        let d = pair.logRatio
        let (va, na) = pair.spreadA
        let (vb, nb) = pair.spreadB
        let floorVariance = floor * floor
        let variance = va + vb + 2 * floorVariance
        // Welch–Satterthwaite, the floor counted as known (infinite degrees of freedom).
        let denominator = (va * va) / na + (vb * vb) / nb
        let dof = denominator > 0 ? variance * variance / denominator : 1e6
        let t = Statistics.studentT975(degreesOfFreedom: max(1, Int(min(dof, 1e6))))
        let halfWidth = t * variance.squareRoot()
        let verdict: Verdict = d - halfWidth > 0 ? .slower : (d + halfWidth < 0 ? .faster : .unchanged)
        return Configuration(
            configID: a.configID, experiment: a.experiment, series: a.series, flops: a.flops, timeAMs: a.medianMs!,
            timeBMs: b.medianMs!, ratio: exp(d), low: exp(d - halfWidth), high: exp(d + halfWidth), verdict: verdict,
            roundsA: logsA.count, roundsB: logsB.count)
    }

    /// A group's geometric mean ratio; its interval adds the noise floor of both runs to the
    /// spread of the configurations' log ratios, undivided: a shift of one whole run against the
    /// other is common to every configuration and does not average out.
    static func summary(_ experiment: String, _ series: String, _ members: [Configuration], floor: Double) -> Group {
        let logs = members.map { log($0.ratio) }
        let n = logs.count
        let mean = logs.reduce(0, +) / Double(n)
        var halfWidth = Double.nan
        if n >= 2 {
            let variance = logs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1)
            halfWidth =
                Statistics.studentT975(degreesOfFreedom: n - 1)
                * (variance / Double(n) + 2 * floor * floor).squareRoot()
        }
        return Group(
            experiment: experiment, series: series, n: n, geometricMeanRatio: exp(mean), low: exp(mean - halfWidth),
            high: exp(mean + halfWidth), faster: members.filter { $0.verdict == .faster }.count,
            slower: members.filter { $0.verdict == .slower }.count,
            unchanged: members.filter { $0.verdict == .unchanged }.count)
    }
}

/// Why two runs cannot be compared: they have nothing in common to compare.
public struct ComparisonError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What is wrong, naming both.
    public var description: String
    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}
