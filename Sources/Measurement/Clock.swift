#if canImport(Glibc)
    import Glibc
#endif

/// The timer around each execution: `clock_gettime(CLOCK_MONOTONIC)`, in nanoseconds.
public enum Timer {
    /// The name recorded in manifests.
    public static let name = "clock_gettime(CLOCK_MONOTONIC)"

    /// Nanoseconds since an arbitrary fixed point.
    @inline(__always)
    public static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// The resolution the kernel reports (`clock_getres`), in nanoseconds.
    public static var reportedResolution: Double {
        var ts = timespec()
        clock_getres(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) * 1e9 + Double(ts.tv_nsec)
    }
}

/// The measured resolution and overhead of ``Timer``.
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
            let start = Timer.nanoseconds()
            var previous = start
            for _ in 0..<readingsPerBlock {
                let now = Timer.nanoseconds()
                if now > previous { smallestStep = min(smallestStep, now - previous) }
                previous = now
            }
            costs.append(Double(previous - start) / Double(readingsPerBlock))
        }
        return TimerCalibration(
            timer: Timer.name, reportedResolutionNs: Timer.reportedResolution,
            measuredResolutionNs: smallestStep == .max ? .nan : Double(smallestStep),
            overheadNs: Statistics.median(costs))
    }
}
