import Basics
import Foundation
import Measurement
import Rows

/// How far a second run of the same configurations on this machine would land, as the run's own
/// rounds say: a split-half estimate, stated in the manifest (`repeatability`) and the package.
///
/// A configuration's rounds, in the order they were measured (passes over the sweep seconds or
/// minutes apart, so they sample the machine's phases), are dealt alternately into two halves;
/// each half's fastest round (clean or disturbed, as ``RoundPolicy`` chooses a row) stands for the
/// row one run would keep, and the configuration's estimate is |fastest of one half / fastest of
/// the other − 1|. Over the configurations with a round in each half, the median and the 90th percentile are what two runs of these
/// configurations should differ by. A half has about half a run's rounds, so the estimate leans
/// high. It sees what a process fixes at its start (memory placement, the allocator's state) only
/// when the rounds were measured in separate processes (a worker process per pass, the default
/// of `convsweep run`); with every round in one process it cannot.
public struct Repeatability: Codable, Hashable, Sendable {
    /// Configurations with a round in each half.
    public var configurations: Int
    /// Median over them of |t₁/t₂ − 1|, percent.
    public var medianPercent: Double
    /// Its 90th percentile, percent.
    public var percentile90Percent: Double
    /// The largest, percent.
    public var largestPercent: Double
    /// Whether the rounds came from separate processes (a worker process per pass); nil in
    /// manifests written before worker processes.
    public var roundsFromSeparateProcesses: Bool?

    /// The estimate from `rounds` (rows of rounds.csv: each a round of a configuration, with its
    /// round number, median and window), measured in `separateProcesses` or one; nil when no
    /// configuration has two rounds.
    public init?(rounds: [MeasurementRow], separateProcesses: Bool) {
        roundsFromSeparateProcesses = separateProcesses
        var byConfiguration: [String: [MeasurementRow]] = [:]
        for row in rounds where row.status.isOK && row.medianMs != nil {
            byConfiguration[row.configID, default: []].append(row)
        }
        var estimates: [Double] = []
        for (_, measured) in byConfiguration {
            let ordered = measured.sorted { ($0.session ?? 0, $0.round ?? 0) < ($1.session ?? 0, $1.round ?? 0) }
            let halves = [0, 1].map { parity in
                ordered.enumerated().filter { $0.offset % 2 == parity }.compactMap(\.element.medianMs).min()
            }
            guard let a = halves[0], let b = halves[1], a > 0, b > 0 else { continue }
            estimates.append(abs(a / b - 1) * 100)
        }
        guard !estimates.isEmpty else { return nil }
        estimates.sort()
        configurations = estimates.count
        medianPercent = Statistics.quantile(estimates, 0.5)
        percentile90Percent = Statistics.quantile(estimates, 0.9)
        largestPercent = estimates.last!
    }

    /// One sentence: what two runs should differ by.
    public var statement: String {
        String(
            format:
                "expected run-to-run repeatability on this machine, from the run's own rounds (split-half, %d configurations): median |t₁/t₂ − 1| %.1f%%, 90%% of configurations within %.1f%%, largest %.1f%% (%@)",
            configurations, medianPercent, percentile90Percent, largestPercent,
            roundsFromSeparateProcesses == true
                ? "its rounds come from a worker process per pass, so what a process fixes at its start is sampled"
                : "every round in one process: what a process fixes at its start is not seen")
    }
}
