import Basics

/// The measured resolution and overhead of ``MonotonicClock``.
public struct TimerCalibration: Codable, Hashable, Sendable {
    /// The timer's name.
    public var timer: String
    /// The resolution `clock_getres` reports, in nanoseconds.
    public var reportedResolutionNs: Double
    /// The smallest non-zero step between two successive readings, in nanoseconds.
    public var measuredResolutionNs: Double
    /// The median cost of one reading, in nanoseconds (from blocks of back-to-back readings).
    public var overheadNs: Double

    /// Measures the timer: `blocks` blocks of `readingsPerBlock` back-to-back readings.
    public static func measure(blocks: Int = 101, readingsPerBlock: Int = 1000) -> TimerCalibration {
        var smallestStep = UInt64.max
        var costs: [Double] = []
        costs.reserveCapacity(blocks)
        for _ in 0..<blocks {
            let start = MonotonicClock.nanoseconds()
            var previous = start
            for _ in 0..<readingsPerBlock {
                let now = MonotonicClock.nanoseconds()
                if now > previous { smallestStep = min(smallestStep, now - previous) }
                previous = now
            }
            costs.append(Double(previous - start) / Double(readingsPerBlock))
        }
        return TimerCalibration(
            timer: MonotonicClock.name, reportedResolutionNs: MonotonicClock.reportedResolution,
            measuredResolutionNs: smallestStep == .max ? .nan : Double(smallestStep),
            overheadNs: Statistics.median(costs))
    }
}
