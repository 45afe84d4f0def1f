import Basics
import ConvKernels

/// A fixed reference kernel timed before a run session and between its measurements, so that a
/// slow phase of a shared machine (another job on the core or its SMT sibling, a throttled host)
/// can be told from a slow configuration.
///
/// One reading times ``callsPerReading`` back-to-back 384³ `sgemm` calls (about 5 ms in all), on
/// one thread whatever the kernels' count, and reports two rates:
/// - ``Reading/meanGflops``, over the whole reading: what the machine gave during those
///   milliseconds; a slow phase lowers it.
/// - ``Reading/bestGflops``, of the fastest single call: what the machine can give; single calls
///   often escape a slow phase whole (on a shared 2-vCPU VM the per-second minimum of a sgemm loop
///   stayed within 7% while its median fell by 35%), so it moves little.
///
/// The session's reference is the 90th percentile of the best rates of all readings so far
/// (initially those of ``calibrate(seconds:)``); a window is *disturbed* when the mean rate of a
/// reading next to it is below `(1 − slowdown)` of the reference.
public final class DriftProbe {
    /// One reading.
    public struct Reading: Codable, Hashable, Sendable {
        /// Seconds since the probe was created (the session's start).
        public var seconds: Double
        /// GFLOP/s over the whole reading.
        public var meanGflops: Double
        /// GFLOP/s of its fastest call.
        public var bestGflops: Double
    }

    /// The threads the probe computes on, whatever the kernels' count (``onOneThread(_:)``).
    public static let threads = 1

    /// The matrix size of one call.
    public static let size = 384
    /// Calls per reading (set by ``calibrate(seconds:)`` to about 5 ms a reading).
    public private(set) var callsPerReading = 4
    /// Every reading of the session, in order.
    public private(set) var readings: [Reading] = []
    /// The rate readings are compared with: the 90th percentile of every reading's best rate.
    public private(set) var referenceGflops = Double.nan
    /// A factor applied to every rate (1 in use; tests set it to impersonate another machine).
    public var rateScale = 1.0
    /// This kind of machine's fast-state rate from earlier sessions (``MachineReferenceCache``),
    /// when known: readings are judged against the higher of it and the session's own reference,
    /// so that a session spent whole in a slow phase still sees that it is slow.
    public var machineReferenceGflops: Double?

    /// The rate a reading is judged against: the session's reference, or the machine's when higher.
    public var judgedReferenceGflops: Double { max(referenceGflops, machineReferenceGflops ?? 0) }

    private let sgemm = PlainSgemm(m: DriftProbe.size, n: DriftProbe.size, k: DriftProbe.size, seed: 3)
    private let start = MonotonicClock.now()
    private var lastReadingEnd = MonotonicClock.now()
    private var sortedBestRates: [Double] = []

    /// A probe whose clock starts now.
    public init() {}

    /// Reads the probe for about `seconds` (after one warm-up call) and sets the reference;
    /// returns the reference rate.
    @discardableResult
    public func calibrate(seconds: Double = 0.5) -> Double {
        DriftProbe.onOneThread { calibrateOnThisThread(seconds: seconds) }
    }

    /// Runs `body` with OpenBLAS on one thread, whatever count the kernels use: a parallel
    /// sgemm's barriers and the other PUs' threads (another process's OpenBLAS workers spinning
    /// after a round) made a 2-thread probe read 0.6–0.8 of its reference between undisturbed
    /// rounds on a 2-vCPU VM, every round disturbed; one thread read 0.95.
    static func onOneThread<T>(_ body: () -> T) -> T {
        let count = OpenBLAS.threadCount
        guard count > 1 else { return body() }
        OpenBLAS.setThreadCount(1)
        defer { OpenBLAS.setThreadCount(count) }
        return body()
    }

    private func calibrateOnThisThread(seconds: Double) -> Double {
        sgemm.run()
        let t0 = MonotonicClock.now()
        sgemm.run()
        let call = max(MonotonicClock.now() - t0, 1e-5)
        callsPerReading = max(2, min(64, Int((0.005 / call).rounded())))
        let end = MonotonicClock.now() + seconds
        repeat { _ = readOnThisThread() } while MonotonicClock.now() < end
        return referenceGflops
    }

    /// Reads the probe on, in windows of `window` seconds, until `accept` holds for the reference
    /// or `seconds` have passed; returns the reference. A half-second calibration that falls into
    /// one of a shared machine's slow phases (they last seconds) reads low; readings spread over
    /// several seconds reach the rate the machine can give, because the reference is the 90th
    /// percentile of every reading's best call.
    @discardableResult
    public func recalibrate(forUpTo seconds: Double, window: Double = 0.5, until accept: (Double) -> Bool) -> Double {
        DriftProbe.onOneThread { recalibrateOnThisThread(forUpTo: seconds, window: window, until: accept) }
    }

    private func recalibrateOnThisThread(forUpTo seconds: Double, window: Double, until accept: (Double) -> Bool)
        -> Double
    {
        let end = MonotonicClock.now() + seconds
        while !accept(referenceGflops) && MonotonicClock.now() < end {
            let windowEnd = min(end, MonotonicClock.now() + window)
            repeat { _ = readOnThisThread() } while MonotonicClock.now() < windowEnd
        }
        return referenceGflops
    }

    /// Takes one reading, records it and updates the reference.
    @discardableResult
    public func read() -> Reading {
        DriftProbe.onOneThread { readOnThisThread() }
    }

    private func readOnThisThread() -> Reading {
        var best = Double.infinity
        let t0 = MonotonicClock.now()
        for _ in 0..<callsPerReading {
            let c0 = MonotonicClock.now()
            sgemm.run()
            best = min(best, MonotonicClock.now() - c0)
        }
        let total = MonotonicClock.now() - t0
        lastReadingEnd = t0 + total
        let reading = Reading(
            seconds: t0 - start, meanGflops: rateScale * sgemm.flops * Double(callsPerReading) / total / 1e9,
            bestGflops: rateScale * sgemm.flops / best / 1e9)
        readings.append(reading)
        // Binary insertion keeps the best rates sorted at O(n) a reading.
        var low = 0
        var high = sortedBestRates.count
        while low < high {
            let middle = (low + high) / 2
            if sortedBestRates[middle] < reading.bestGflops { low = middle + 1 } else { high = middle }
        }
        sortedBestRates.insert(reading.bestGflops, at: low)
        referenceGflops = Statistics.quantile(sortedBestRates, 0.9)
        return reading
    }

    /// Seconds since the last reading ended (since the probe was created when there is none).
    public var secondsSinceLastReading: Double { MonotonicClock.now() - lastReadingEnd }

    /// The mean rate of `reading` as a share of the judged reference (1 = as fast as the reference).
    public func ratio(_ reading: Reading) -> Double { reading.meanGflops / judgedReferenceGflops }
}

/// What the probe read over one session, for the manifest.
public struct ProbeSummary: Codable, Hashable, Sendable {
    /// Readings taken.
    public var readings: Int
    /// The reference rate at the start of the session (after calibration), GFLOP/s.
    public var startReferenceGflops: Double
    /// The reference rate at the end of the session, GFLOP/s.
    public var endReferenceGflops: Double
    /// The lowest, median and highest mean rate of a reading, as a share of the final reference.
    public var minimumRatio: Double, medianRatio: Double, maximumRatio: Double
    /// The share of readings below `1 − slowdown` of the reference when they were taken.
    public var slowShare: Double
    /// Rounds measured again because a reading next to them read slow.
    public var disturbedRounds: Int
    /// The machine reference readings were also judged against (``DriftProbe/machineReferenceGflops``).
    public var machineReferenceGflops: Double?

    /// The summary of `probe`'s readings, `slow` of them slow when taken.
    public init(probe: DriftProbe, startReference: Double, slow: Int, disturbedRounds: Int) {
        let ratios = probe.readings.map { $0.meanGflops / probe.referenceGflops }.sorted()
        readings = probe.readings.count
        startReferenceGflops = startReference
        endReferenceGflops = probe.referenceGflops
        minimumRatio = ratios.first ?? .nan
        medianRatio = ratios.isEmpty ? .nan : Statistics.quantile(ratios, 0.5)
        maximumRatio = ratios.last ?? .nan
        slowShare = ratios.isEmpty ? 0 : Double(slow) / Double(ratios.count)
        self.disturbedRounds = disturbedRounds
        machineReferenceGflops = probe.machineReferenceGflops
    }
}
