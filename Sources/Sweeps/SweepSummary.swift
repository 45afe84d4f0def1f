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
        self.init(sweep.configurations, model: model)
    }

    /// Summarises `configurations` (a sweep's as a run measures them: with each algorithm, at
    /// each thread count) with `model` for the time estimate.
    public init(_ configurations: [SweepConfiguration], model: MeasuringTimeModel = MeasuringTimeModel()) {
        let measured = configurations.filter(\.isMeasured)
        self.measured = measured.count
        self.dropped = configurations.count - measured.count
        let flops = measured.map(\.flops)
        flopsRange = flops.min().map { $0...flops.max()! }
        totalFLOPs = flops.reduce(0, +)
        largestMemoryBytes = measured.map(\.memoryBytes).max() ?? 0
        estimatedSeconds = measured.reduce(0) { $0 + model.seconds($1) }
    }
}
