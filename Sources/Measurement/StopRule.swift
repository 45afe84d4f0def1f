import Basics
import Rows

/// When to stop repeating one configuration.
///
/// Adaptive (the default): after at least ``minRuns`` timed runs (and at least 6, the fewest for
/// which an order-statistic interval reaches 95% coverage), stop as soon as the 95%
/// confidence interval of the median lies within ``target`` of the median on both sides; or at
/// ``maxRuns`` runs; or when ``maxSeconds`` of timed runs have elapsed. Fixed: exactly
/// ``fixedRuns`` runs, no time limit (for a strict replication).
public struct StopRule: Codable, Hashable, Sendable {
    /// The relative half-width of the median's 95% CI to reach (0.01 = 1%).
    public var target: Double
    /// The fewest timed runs.
    public var minRuns: Int
    /// The most timed runs.
    public var maxRuns: Int
    /// The most seconds of timed runs per configuration.
    public var maxSeconds: Double
    /// A fixed number of runs instead of the adaptive rule, when set.
    public var fixedRuns: Int?
    /// The seconds warm-up may take at most.
    public var warmUpSeconds: Double
    /// The fewest runs from which the CI target may stop timing (nil: 6, the fewest for which an
    /// order-statistic interval reaches 95% coverage). A round of several sets 3: below 6 the
    /// interval is [min, max], so the target then asks every run to lie within it of the median.
    public var targetFromRuns: Int?

    /// The adaptive rule with these limits, or `fixedRuns` runs; the warm-up may take `warmUpSeconds` (default: a quarter of `maxSeconds`, at most 0.5 s).
    public init(
        target: Double = 0.01, minRuns: Int = 5, maxRuns: Int = 2000, maxSeconds: Double = 2,
        fixedRuns: Int? = nil, warmUpSeconds: Double? = nil, targetFromRuns: Int? = nil
    ) {
        self.target = target
        self.minRuns = minRuns
        self.maxRuns = maxRuns
        self.maxSeconds = maxSeconds
        self.fixedRuns = fixedRuns
        self.warmUpSeconds = warmUpSeconds ?? min(0.5, maxSeconds / 4)
        self.targetFromRuns = targetFromRuns
    }

    /// The settings of a stop rule, as errors name them.
    public enum Setting: String, Sendable, CaseIterable {
        /// ``StopRule/target``.
        case target
        /// ``StopRule/minRuns``.
        case minRuns
        /// ``StopRule/maxRuns``.
        case maxRuns
        /// ``StopRule/maxSeconds``.
        case maxSeconds
        /// ``StopRule/fixedRuns``.
        case fixedRuns
    }

    /// Checks the settings make sense; the error names the offending one.
    public func validate() throws(StopRuleError) {
        if !(target > 0 && target < 1) { throw StopRuleError(.target, "must be in (0, 1), got \(target)") }
        if minRuns < 1 { throw StopRuleError(.minRuns, "must be at least 1, got \(minRuns)") }
        if maxRuns < minRuns {
            throw StopRuleError(.maxRuns, "(\(maxRuns)) must be at least the fewest runs (\(minRuns))")
        }
        if !(maxSeconds > 0) { throw StopRuleError(.maxSeconds, "must be positive, got \(maxSeconds)") }
        if let fixedRuns, fixedRuns < 1 { throw StopRuleError(.fixedRuns, "must be at least 1, got \(fixedRuns)") }
    }

    /// A one-line description for manifests and logs.
    public var summary: String {
        if let fixedRuns { return "fixed: \(fixedRuns) timed runs after warm-up" }
        let precision =
            (targetFromRuns ?? 6) < 6
            ? "the runs (from \(targetFromRuns!)) are within \(String(format: "%.4g", target * 100))% of their median"
            : "the 95% CI of the median (binomial order statistics) is within \(String(format: "%.4g", target * 100))% of it"
        let seconds = String(format: "%.4g", maxSeconds)
        return "adaptive: stop when \(precision), after \(minRuns) to \(maxRuns) runs, at most \(seconds) s"
    }

    /// Whether to stop after `times` (seconds, in run order) taking `elapsed` seconds in all.
    public func decision(times: [Double], elapsed: Double) -> StopReason? {
        decision(sortedTimes: times.sorted(), elapsed: elapsed)
    }

    /// ``decision(times:elapsed:)`` on times already sorted ascending (the sampler keeps them so).
    public func decision(sortedTimes sorted: [Double], elapsed: Double) -> StopReason? {
        if let fixedRuns { return sorted.count >= fixedRuns ? .fixedRuns : nil }
        if sorted.count >= maxRuns { return .maxRuns }
        // The CI claims 95% only from 6 runs on (below, [min, max] covers 1 − 2·2⁻ⁿ < 95%).
        if sorted.count >= max(minRuns, targetFromRuns ?? 6) {
            let median = Statistics.quantile(sorted, 0.5)
            let ci = Statistics.medianConfidenceInterval(sorted)
            if max(median - ci.low, ci.high - median) <= target * median { return .confidenceReached }
        }
        if elapsed >= maxSeconds { return .maxSeconds }
        return nil
    }
}

/// An invalid stop-rule setting: which one, and what is wrong with it.
public struct StopRuleError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The offending setting.
    public var setting: StopRule.Setting
    /// What is wrong, without the setting's name (`must be positive, got -1`).
    public var problem: String
    /// An error of `setting`.
    public init(_ setting: StopRule.Setting, _ problem: String) {
        self.setting = setting
        self.problem = problem
    }
    /// The setting's name and the problem.
    public var description: String { "\(setting.rawValue) \(problem)" }
}
