import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Reports a run's progress on standard error: a live line on a terminal (done/total, elapsed,
/// ETA, current configuration), else a line every 5%.
///
/// The ETA scales the elapsed time by the work still to do over the work done, where each
/// configuration's work is its estimated measuring time (``Sweeps/MeasuringTimeModel`` with the
/// run's round rule at the session's roofs, extra rounds included), credited a round at a time:
/// the model says how the work is spread, the session's own pace corrects its scale. Before any
/// work is done the line shows the model's estimate.
public final class ProgressReporter {
    private let total: Int
    private let totalWork: Double
    private let isTerminal: Bool
    private let enabled: Bool
    private let start = Date()
    private var done = 0
    private var doneWork = 0.0
    private var lastPercentStep = -1
    /// A note shown on the line while it holds (the machine reading slow), nil for none.
    public var note: String?

    /// - Parameters:
    ///   - total: steps to take in this session (a round of a configuration, or the row of one
    ///     that is not measured); rounds measured again may take it past the total.
    ///   - totalWork: their estimated work (any unit, e.g. seconds of measuring), for the ETA.
    public init(total: Int, totalWork: Double, enabled: Bool = true, isTerminal: Bool = isatty(2) != 0) {
        self.total = total
        self.totalWork = totalWork
        self.enabled = enabled
        self.isTerminal = isTerminal
    }

    /// Shows that `id` is being measured (terminal only).
    public func starting(_ id: String) {
        guard enabled, isTerminal else { return }
        write("\r\u{1B}[K" + line(current: id))
    }

    /// Records that a step of estimated work `work` (the unit of `totalWork`) is finished.
    public func finished(_ id: String, work: Double) {
        done += 1
        doneWork += work
        guard enabled else { return }
        if isTerminal {
            write("\r\u{1B}[K" + line(current: id))
        } else {
            let step = total == 0 ? 20 : done * 20 / total
            if step > lastPercentStep {
                lastPercentStep = step
                write(line(current: id) + "\n")
            }
        }
    }

    /// Ends the live line.
    public func close() {
        if enabled && isTerminal { write("\n") }
    }

    /// Prints a message on its own line.
    public func message(_ text: String) {
        guard enabled else { return }
        write((isTerminal ? "\r\u{1B}[K" : "") + text + "\n")
    }

    /// The progress line: `[done/total pct%] elapsed, ETA, current`; past the planned steps,
    /// `[total/total 100% + n extra rounds]` (rounds measured again, disturbed or disagreeing).
    public func line(current: String) -> String {
        let elapsed = Date().timeIntervalSince(start)
        let percent = total == 0 ? 100 : min(100, 100 * done / total)
        let extra = done > total ? " + \(done - total) extra round\(done - total == 1 ? "" : "s")" : ""
        var text = "[\(min(done, total))/\(total) \(percent)%\(extra)] elapsed \(Self.duration(elapsed))"
        if doneWork > 0 && doneWork < totalWork {
            // The model's remaining work, scaled by how fast this session has gone through its work.
            let remaining = elapsed * (totalWork - doneWork) / doneWork
            text += ", ETA \(Self.duration(max(0, remaining)))"
        } else if doneWork == 0 && totalWork > 0 {
            text += ", estimated \(Self.duration(totalWork))"
        }
        if let note { text += " [\(note)]" }
        return text + " — " + current
    }

    /// `1h02m`, `3m05s`, `12s`.
    public static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
        if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return "\(s)s"
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
