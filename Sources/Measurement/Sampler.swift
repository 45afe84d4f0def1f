import Basics
import Rows

/// The times of one configuration: warm-up, then timed runs until the stop rule says stop.
public struct Samples: Codable, Sendable {
    /// Wall times of the timed runs, seconds, in run order.
    public var times: [Double]
    /// Lowering (im2col) seconds of each timed run.
    public var lowering: [Double]
    /// GEMM seconds of each timed run.
    public var gemm: [Double]
    /// Warm-up runs made before timing.
    public var warmUpRuns: Int
    /// Why timing stopped.
    public var stopReason: StopReason

    /// Times of the timed runs with their phases, the warm-up count and the reason timing stopped.
    public init(times: [Double], lowering: [Double], gemm: [Double], warmUpRuns: Int, stopReason: StopReason) {
        self.times = times
        self.lowering = lowering
        self.gemm = gemm
        self.warmUpRuns = warmUpRuns
        self.stopReason = stopReason
    }
}

/// Runs a body repeatedly under a ``StopRule``, timing each execution with ``MonotonicClock``.
///
/// The body returns its phase times (lowering, GEMM) as measured inside it; the sampler times the
/// whole call. Between runs, outside the timed region, `betweenRuns` is called (cache eviction).
public struct Sampler {
    /// When to stop.
    public var rule: StopRule
    /// Called between runs, outside the timed region (cache eviction).
    public var betweenRuns: (() -> Void)?

    /// A sampler stopping by `rule`, calling `betweenRuns` between runs.
    public init(rule: StopRule, betweenRuns: (() -> Void)? = nil) {
        self.rule = rule
        self.betweenRuns = betweenRuns
    }

    /// Warms up (until two successive times agree within the target, at least one run, at most
    /// `rule.warmUpSeconds`) unless `warmUp` is false (the caller has just run the body, as the
    /// runner does to verify its output, and counts `warmedUpBefore` such runs), then makes timed
    /// runs until the stop rule stops.
    public func measure(
        warmUp: Bool = true, warmedUpBefore: Int = 0, _ body: () -> (lowering: Double, gemm: Double)
    ) -> Samples {
        var warmUpRuns = warmedUpBefore
        var previous = Double.nan
        let warmUpStart = MonotonicClock.nanoseconds()
        while warmUp {
            betweenRuns?()
            let t0 = MonotonicClock.nanoseconds()
            _ = body()
            let time = Double(MonotonicClock.nanoseconds() - t0) * 1e-9
            warmUpRuns += 1
            if abs(time / previous - 1) <= rule.target { break }
            if Double(MonotonicClock.nanoseconds() - warmUpStart) * 1e-9 >= rule.warmUpSeconds { break }
            previous = time
        }
        var samples = Samples(times: [], lowering: [], gemm: [], warmUpRuns: warmUpRuns, stopReason: .maxRuns)
        let capacity = rule.fixedRuns ?? rule.maxRuns
        samples.times.reserveCapacity(capacity)
        samples.lowering.reserveCapacity(capacity)
        samples.gemm.reserveCapacity(capacity)
        var elapsed = 0.0
        var sorted: [Double] = []
        sorted.reserveCapacity(capacity)
        while true {
            betweenRuns?()
            let t0 = MonotonicClock.nanoseconds()
            let phases = body()
            let t1 = MonotonicClock.nanoseconds()
            let time = Double(t1 - t0) * 1e-9
            elapsed += time
            samples.times.append(time)
            samples.lowering.append(phases.lowering)
            samples.gemm.append(phases.gemm)
            // Binary insertion keeps the times sorted for the rule at O(n) per run.
            var low = 0
            var high = sorted.count
            while low < high {
                let middle = (low + high) / 2
                if sorted[middle] < time { low = middle + 1 } else { high = middle }
            }
            sorted.insert(time, at: low)
            if let reason = rule.decision(sortedTimes: sorted, elapsed: elapsed) {
                samples.stopReason = reason
                return samples
            }
        }
    }
}
