import ConvKernels

/// One configuration of a sweep: a conv2d shape, where it comes from, and whether to measure it.
///
/// This is the contract between the `Sweeps` stage and the runner: the runner measures every
/// configuration whose ``isMeasured`` is true and records the ``status`` of the others.
public struct SweepConfiguration: Hashable, Codable, Sendable {
    /// A stable identifier from experiment, series and axis values (see `sweeps/README.md`).
    /// Uses only characters that need no quoting in CSV.
    public var id: String
    /// The experiment (file) name, e.g. `B` or `regression`.
    public var experiment: String
    /// The series (line of a figure) label.
    public var series: String
    /// The convolution.
    public var shape: ConvShape
    /// `ok` when the configuration is to be measured, otherwise the reason it is not
    /// (for instance a limit that dropped it).
    public var status: ConfigurationStatus
    /// The algorithm to measure it with: `auto` (OpenBLAS) unless a run names others
    /// (``measured(with:)``).
    public var algorithm: ConvAlgorithm = .auto

    /// A configuration `id` of `experiment` and `series`, measured unless `status` says why not.
    public init(
        id: String, experiment: String, series: String, shape: ConvShape, status: ConfigurationStatus = .ok
    ) {
        self.id = id
        self.experiment = experiment
        self.series = series
        self.shape = shape
        self.status = status
    }

    /// This configuration measured with `algorithm`: `auto` is the configuration itself; another
    /// algorithm is a configuration of its own, its id suffixed `@<algorithm>` and its series
    /// `<series> [<algorithm>]`, so that one run holds several backends side by side (one row,
    /// one line of a figure each).
    public func measured(with algorithm: ConvAlgorithm) -> SweepConfiguration {
        guard algorithm != .auto else { return self }
        var copy = self
        copy.id = "\(id)@\(algorithm.rawValue)"
        copy.series = "\(series) [\(algorithm.rawValue)]"
        copy.algorithm = algorithm
        return copy
    }

    /// Every configuration of `configurations` with every algorithm of `algorithms`, configuration
    /// by configuration.
    public static func expand(_ configurations: [SweepConfiguration], algorithms: [ConvAlgorithm])
        -> [SweepConfiguration]
    {
        guard algorithms != [.auto] else { return configurations }
        return configurations.flatMap { c in algorithms.map { c.measured(with: $0) } }
    }

    /// Whether the runner should measure this configuration.
    public var isMeasured: Bool { status.isOK }

    /// FLOPs of one forward pass (2 per multiply–add).
    public var flops: Double { Accounting(shape: shape).flops }
}
