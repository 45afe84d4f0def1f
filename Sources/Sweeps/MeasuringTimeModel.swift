/// A simple model of how long measuring a configuration takes, for planning (not a measurement).
///
/// One run takes `t = max(FLOPs / rate, bytes / bandwidth)`: the configuration is bound either by
/// arithmetic or by moving its tensors and workspace (``SweepConfiguration/memoryBytes``) once.
/// A configuration takes `warmupRuns · t + min(timedRuns · t, max(maximumSeconds, minimumRuns · t))
/// + overheadSeconds`: the timed runs stop at the per-configuration maximum, but never before the
/// minimum number of runs. Rate and bandwidth are assumptions the caller states.
public struct MeasuringTimeModel: Hashable, Sendable {
    /// Assumed sustained single-core rate, in GFLOP/s (10^9 FLOPs a second).
    public var gflops: Double
    /// Assumed effective memory bandwidth, in GB/s (10^9 bytes a second).
    public var gigabytesPerSecond: Double
    /// Timed runs per configuration when time allows.
    public var timedRuns: Int
    /// Timed runs per configuration at least, whatever the time.
    public var minimumRuns: Int
    /// Warm-up runs per configuration.
    public var warmupRuns: Int
    /// The most seconds of timed runs on one configuration (the runner's `--max-seconds`).
    public var maximumSeconds: Double
    /// Fixed seconds per configuration outside the runs (allocation, filling, writing the row).
    public var overheadSeconds: Double

    /// A model; the defaults describe a lab workstation core (50 GFLOP/s, 10 GB/s) and a runner
    /// taking 10 timed runs (at least 5), 1 warm-up, at most 2 s, 5 ms overhead.
    public init(
        gflops: Double = 50, gigabytesPerSecond: Double = 10, timedRuns: Int = 10, minimumRuns: Int = 5,
        warmupRuns: Int = 1, maximumSeconds: Double = 2, overheadSeconds: Double = 0.005
    ) {
        self.gflops = gflops
        self.gigabytesPerSecond = gigabytesPerSecond
        self.timedRuns = timedRuns
        self.minimumRuns = minimumRuns
        self.warmupRuns = warmupRuns
        self.maximumSeconds = maximumSeconds
        self.overheadSeconds = overheadSeconds
    }

    /// Estimated seconds of one run of a configuration of `flops` FLOPs that touches `bytes` bytes.
    public func secondsPerRun(flops: Double, bytes: Int) -> Double {
        max(flops / (gflops * 1e9), Double(bytes) / (gigabytesPerSecond * 1e9))
    }

    /// Estimated seconds to measure one configuration of `flops` FLOPs that touches `bytes` bytes.
    public func seconds(flops: Double, bytes: Int) -> Double {
        let run = secondsPerRun(flops: flops, bytes: bytes)
        let timed = min(Double(timedRuns) * run, max(maximumSeconds, Double(minimumRuns) * run))
        return Double(warmupRuns) * run + timed + overheadSeconds
    }

    /// Estimated seconds to measure `configuration`.
    public func seconds(_ configuration: SweepConfiguration) -> Double {
        seconds(flops: configuration.flops, bytes: configuration.memoryBytes)
    }
}
