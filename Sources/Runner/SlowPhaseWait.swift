/// When a run, after a round the drift probe read slow, waits for the machine's fast state
/// instead of measuring on: a pure value the session consults and tells what happened.
///
/// A shared host has slow phases (on the developers' Intel VM, in a 17-minute run: 244 phases,
/// median 0.8 s, 90th percentile 3.8 s, the longest 13 s, the probe at 0.59 of the reference in
/// those of 2 s or more; docs/benchmarks-history.md). A round measured inside one is disturbed and is
/// measured again, but it counts towards the round limit, so a phase longer than a few passes
/// leaves rows with no clean round. Waiting costs the phase's length once instead of rounds.
///
/// The rules, in order: no wait while the probe reads fast (and a fast reading ends any
/// suspension); no wait when waiting is off (``limit`` 0) or suspended — a wait that ran to its
/// limit suspends waiting until the probe next reads fast, so a machine that stays slow costs
/// one wait, not one per round; and no wait once the session has waited ``budget`` times as
/// long as it has measured, or as the session's measuring was estimated to last when that is
/// longer (1, the default: waiting at most doubles a session). A wait lasts at most ``limit`` and
/// at most what the budget has left (``wait(readsSlow:measuringSeconds:)``). The estimate lets a
/// session wait out a slow phase it starts in: against the measuring so far alone, its first
/// waits could last only milliseconds, and it would measure on inside the phase.
public struct SlowPhaseWait: Hashable, Sendable {
    /// The longest single wait, seconds (0: never wait).
    public var limit: Double
    /// The most a session waits in all, as a share of its measuring time.
    public var budget: Double
    /// The session's measuring time as estimated before it began (``MeasuringTimeModel``),
    /// seconds: the budget's base until the session has measured for longer.
    public var expectedMeasuringSeconds: Double = 0
    /// What the session's waits came to so far.
    public private(set) var summary = Summary()
    /// Set by a wait that ran to its limit; cleared by a fast reading.
    public private(set) var suspended = false

    /// The waits of a session, as its manifest records them.
    public struct Summary: Codable, Hashable, Sendable {
        /// Waits begun.
        public var waits = 0
        /// Their total, seconds.
        public var seconds = 0.0
        /// Waits that ran to their limit (or the budget's end) with the machine still slow.
        public var timedOut = 0

        /// `waits` waits of `seconds` in all, `timedOut` of which ran to the limit.
        public init(waits: Int = 0, seconds: Double = 0, timedOut: Int = 0) {
            (self.waits, self.seconds, self.timedOut) = (waits, seconds, timedOut)
        }
    }

    /// Waits of at most `limit` seconds each, in all at most `budget` times the measuring time.
    public init(limit: Double, budget: Double = 1) {
        self.limit = limit
        self.budget = budget
    }

    /// How long to wait now, after a reading that was slow or not, `measuringSeconds` into the
    /// session's measuring; nil for no wait. A wait lasts at most ``limit``, and less when the
    /// budget has less left, so that a session never waits more than ``budget`` times as long as
    /// it measures (or was expected to).
    public mutating func wait(readsSlow: Bool, measuringSeconds: Double) -> Double? {
        guard readsSlow else {
            suspended = false
            return nil
        }
        let left = budget * max(measuringSeconds, expectedMeasuringSeconds) - summary.seconds
        guard limit > 0 && !suspended && left > 0 else { return nil }
        return min(limit, left)
    }

    /// Records a wait of `seconds` that ended with the machine reading fast, or not (at its limit
    /// or the budget's).
    public mutating func waited(_ seconds: Double, endedFast: Bool) {
        summary.waits += 1
        summary.seconds += seconds
        if !endedFast {
            summary.timedOut += 1
            suspended = true
        }
    }
}
