/// Why timed runs of a configuration stopped; recorded as `stop_reason`.
public enum StopReason: String, Codable, Hashable, Sendable {
    /// The median's CI reached the target.
    case confidenceReached = "ci-target"
    /// The adaptive rule hit `--max-runs`.
    case maxRuns = "max-runs"
    /// The adaptive rule hit `--max-seconds`.
    case maxSeconds = "max-seconds"
    /// `--runs N` runs were made.
    case fixedRuns = "fixed-runs"
}
