import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where a test may stop a run to kill it at a known point, never used otherwise.
///
/// `CONVSWEEP_FAILPOINT_STOP_AFTER_ROWS=N`: the session stops itself (`SIGSTOP`) right after its
/// N-th row is on disk, so that a test that waits for the stop and then sends `SIGKILL` kills a run
/// with exactly N rows written, whatever the machine's speed (the kill-and-resume test). Unset in
/// every real run.
enum FailPoint {
    /// The environment variable.
    static let stopAfterRowsVariable = "CONVSWEEP_FAILPOINT_STOP_AFTER_ROWS"
    /// The row count after which the session stops itself; nil (the default) never.
    static let stopAfterRows: Int? = ProcessInfo.processInfo.environment[stopAfterRowsVariable].flatMap(Int.init)
}
