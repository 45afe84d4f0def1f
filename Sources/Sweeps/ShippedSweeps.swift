import Foundation

/// The sweep files that ship in `sweeps/`, by profile.
///
/// | profile | files |
/// |---|---|
/// | `quick` | `quick/regression.yaml`, then `quick/exp-*.yaml` |
/// | `paper` | `regression.yaml`, then `paper/exp-*.yaml` (the original study's sampling) |
/// | `full`  | `regression.yaml`, then `full/exp-*.yaml` (every integer of the varying axis) |
public enum ShippedSweeps {
    /// A set of shipped sweeps that a replication runs together.
    public enum Profile: String, CaseIterable, Sendable, CustomStringConvertible {
        /// A small regression sample and every series of A–G with fewer points: minutes on a laptop.
        case quick
        /// The regression sample and A–G at the original study's sampling.
        case paper
        /// The regression sample and A–G at full resolution.
        case full

        public var description: String { rawValue }
    }

    /// The files of `profile` under `root` (the `sweeps` directory): the regression sweep first,
    /// then the experiment files in name order.
    ///
    /// - Throws: ``SweepError`` when the regression file or the profile's directory is missing.
    public static func files(profile: Profile, root: String) throws(SweepError) -> [String] {
        let directory = (root as NSString).appendingPathComponent(profile == .quick ? "quick" : profile.rawValue)
        let regression =
            profile == .quick
            ? (directory as NSString).appendingPathComponent("regression.yaml")
            : (root as NSString).appendingPathComponent("regression.yaml")
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw SweepError(file: directory, message: "cannot list the \(profile) sweeps (is --root the sweeps directory?)")
        }
        guard FileManager.default.fileExists(atPath: regression) else {
            throw SweepError(file: regression, message: "the \(profile) profile's regression sweep is missing")
        }
        let experiments = names.filter { $0.hasPrefix("exp-") && $0.hasSuffix(".yaml") }.sorted()
        return [regression] + experiments.map { (directory as NSString).appendingPathComponent($0) }
    }
}

/// What a sweep asks of a machine: counts, FLOPs, memory and an estimate of the time to measure it.
public struct SweepSummary: Sendable {
    /// Configurations to measure.
    public var measured: Int
    /// Configurations a limit drops.
    public var dropped: Int
    /// The smallest and largest FLOPs among measured configurations (nil when none is measured).
    public var flopsRange: ClosedRange<Double>?
    /// FLOPs of one forward pass of every measured configuration, added up.
    public var totalFLOPs: Double
    /// Memory of the measured configuration that needs the most, in bytes.
    public var largestMemoryBytes: Int
    /// Estimated seconds to measure every measured configuration under the model used.
    public var estimatedSeconds: Double

    /// Summarises the configurations of `sweep` with `model` for the time estimate.
    public init(_ sweep: Sweep, model: MeasuringTimeModel = MeasuringTimeModel()) {
        let measured = sweep.configurations.filter(\.isMeasured)
        self.measured = measured.count
        self.dropped = sweep.configurations.count - measured.count
        let flops = measured.map(\.flops)
        flopsRange = flops.min().map { $0...flops.max()! }
        totalFLOPs = flops.reduce(0, +)
        largestMemoryBytes = measured.map(\.memoryBytes).max() ?? 0
        estimatedSeconds = measured.reduce(0) { $0 + model.seconds($1) }
    }
}

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
