import ConvKernels
import Foundation

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
    /// The thread count to measure it at, in a run of several (``measured(threads:)``); nil: the
    /// run's one count.
    public var threads: Int?

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

    /// This configuration measured on `threads` threads, in a run of several counts: a
    /// configuration of its own, its id suffixed `@threads=<p>` and its series `<series> [p threads]`.
    public func measured(threads: Int) -> SweepConfiguration {
        var copy = self
        copy.id = "\(id)\(Self.threadsMark)\(threads)"
        copy.series = "\(series) [\(threads) thread\(threads == 1 ? "" : "s")]"
        copy.threads = threads
        return copy
    }

    /// What precedes the count in the id of a configuration measured at one of several counts.
    public static let threadsMark = "@threads="

    /// The id of the configuration a count's id was made from (``measured(threads:)``), and the
    /// count; the id itself and nil for an id that names no count.
    public static func splitThreads(_ id: String) -> (base: String, threads: Int?) {
        guard let range = id.range(of: threadsMark, options: .backwards),
            let count = Int(id[range.upperBound...]), count >= 1
        else { return (id, nil) }
        return (String(id[..<range.lowerBound]), count)
    }

    /// Every configuration of `configurations` at every count of `threads`, configuration by
    /// configuration; the configurations themselves for one count.
    public static func expand(_ configurations: [SweepConfiguration], threads: [Int]) -> [SweepConfiguration] {
        guard threads.count > 1 else { return configurations }
        return configurations.flatMap { c in threads.map { c.measured(threads: $0) } }
    }

    /// Whether the runner should measure this configuration.
    public var isMeasured: Bool { status.isOK }

    /// FLOPs of one forward pass (2 per multiply–add).
    public var flops: Double { Accounting(shape: shape).flops }
}
