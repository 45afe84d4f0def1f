import Basics
import ConvKernels
import Foundation
import Measurement
import Rows
import Sweeps

#if canImport(Glibc)
    import Glibc
#endif

/// How a run starts the worker processes that measure its rounds: an executable and the
/// arguments that make it serve rounds (``RoundWorker/serve(input:output:)``), as
/// `convsweep measure-worker`.
///
/// A process fixes some things once — where its buffers and libraries land in memory, its
/// allocator's state — and a round measured in it samples them only once: two runs of the same
/// build then differ by more than their rounds spread (issue 23's per-process part). With a
/// launch, each pass over the sweep measures its rounds in a fresh worker process, so a
/// configuration's rounds come from as many processes as it has rounds, as pyperf runs its
/// values in many worker processes.
public struct WorkerLaunch: Codable, Hashable, Sendable {
    /// The executable to start.
    public var executable: String
    /// Its arguments.
    public var arguments: [String]

    /// A worker started as `executable arguments…`.
    public init(executable: String, arguments: [String]) {
        self.executable = executable
        self.arguments = arguments
    }
}

/// What a worker is told before its first round: the run's options and the bytes of a cold-cache
/// eviction (the parent's topology decides them).
struct WorkerSetup: Codable {
    var options: RunOptions
    var evictionBytes: Int?
    /// The PUs the parent is bound to; the worker refuses to measure elsewhere.
    var cpuset: [Int]
    /// The same PUs in the order the compute threads take them, thread 0 first.
    var threadOrder: [Int]
}

/// A worker's answer to one round: the row as measurements.csv's line (layer columns included),
/// the timed runs when the run keeps samples, or why it could not measure; at the end of its
/// input, its last line: every thread with its allowed CPUs and CPU time.
struct WorkerReply: Codable {
    var row: String?
    var samples: Samples?
    var error: String?
    var threadsAtEnd: [ThreadAffinity]?
}

/// The worker side: reads a ``WorkerSetup`` line, then one configuration (JSON) per line, and
/// answers each with one ``WorkerReply`` line after measuring a round of it exactly as a run
/// measures one in its own process (``RunDriver/measure(_:options:rule:evictor:)``). Ends at the
/// end of its input.
public enum RoundWorker {
    /// Serves rounds from `input` to `output` until `input` ends.
    /// - Throws: ``RunError/format(_:)`` for a line that is not a setup or a configuration;
    ///   ``RunError/machine(_:)`` when this process is not bound to the parent's PUs.
    public static func serve(input: FileHandle = .standardInput, output: FileHandle = .standardOutput) throws {
        var lines = LineReader(input)
        // A write to a parent that has gone must fail (and end the worker), not kill it unseen
        // or, ignored by the parent that started it, crash a non-throwing write.
        signal(SIGPIPE, SIG_IGN)
        guard let first = lines.next() else { return }
        let setup: WorkerSetup
        do { setup = try JSONDecoder().decode(WorkerSetup.self, from: Data(first.utf8)) } catch {
            throw RunError.format("measure-worker: the first line is not a worker setup: \(error)")
        }
        // The parent bound itself before starting this process; a child inherits the binding.
        let unbound = ProcessBinding.currentThreads().filter { $0.allowed != setup.cpuset }
        guard unbound.isEmpty else {
            throw RunError.machine(
                "measure-worker: not bound to the run's cpuset \(CPUSet.format(setup.cpuset)): "
                    + unbound.map { "thread \($0.tid) on \(CPUSet.format($0.allowed))" }.joined(separator: ", "))
        }
        let options = setup.options
        let pinning = ComputeThreads.start(options.threads, on: setup.threadOrder)
        guard pinning.isEmpty else {
            throw RunError.machine("measure-worker: " + pinning.joined(separator: "; "))
        }
        let evictor = setup.evictionBytes.map { CacheEvictor(bytes: $0) }
        let rule = options.roundStopRule
        let encoder = JSONEncoder()
        while let line = lines.next() {
            let configuration: SweepConfiguration
            do { configuration = try JSONDecoder().decode(SweepConfiguration.self, from: Data(line.utf8)) } catch {
                throw RunError.format("measure-worker: a request is not a configuration: \(error)")
            }
            let (row, samples) = RunDriver.measure(configuration, options: options, rule: rule, evictor: evictor)
            let reply = WorkerReply(
                row: row.csvLine(layerColumns: true),
                samples: options.keepSamples ? samples : nil)
            guard answer(try encoder.encode(reply), to: output) else { return }
        }
        let last = WorkerReply(threadsAtEnd: ProcessBinding.currentThreads())
        _ = answer(try encoder.encode(last), to: output)
    }

    /// Writes `reply` as a line to the parent; false when the parent has gone (a run stopped with
    /// SIGTERM closes its end of the pipe while its worker measures): the worker then ends
    /// quietly, its round lost with the run's round in flight.
    private static func answer(_ reply: Data, to output: FileHandle) -> Bool {
        do { try output.write(contentsOf: reply + Data("\n".utf8)) } catch { return false }
        return true
    }
}

/// The parent side: one worker process, started with the run's setup, measuring rounds one at a
/// time. ``finish()`` closes its input and waits for it.
final class WorkerProcess {
    private let process = Process()
    private let requests = Pipe()
    private let replies = Pipe()
    private var lines: LineReader
    private let launch: WorkerLaunch

    /// Starts `launch` and sends it `setup`.
    init(_ launch: WorkerLaunch, setup: WorkerSetup) throws {
        self.launch = launch
        process.executableURL = URL(fileURLWithPath: launch.executable)
        process.arguments = launch.arguments
        // Threads of two libraries share the PUs: oneDNN's OpenMP team must not spin on them
        // between its regions while OpenBLAS's threads compute (ComputeThreads.quietEnvironment).
        if setup.options.threads > 1 {
            process.environment = ComputeThreads.quietEnvironment(ProcessInfo.processInfo.environment)
        }
        process.standardInput = requests
        process.standardOutput = replies
        lines = LineReader(replies.fileHandleForReading)
        // A worker that dies must be an error of the run, not a SIGPIPE that kills it.
        signal(SIGPIPE, SIG_IGN)
        do { try process.run() } catch {
            throw RunError.machine("cannot start the worker process \(launch.executable): \(error)")
        }
        try send(try JSONEncoder().encode(setup))
    }

    /// The process id, for messages.
    var processIdentifier: Int32 { process.processIdentifier }

    /// Measures one round of `configuration` in the worker.
    func measure(_ configuration: SweepConfiguration) throws -> (MeasurementRow, Samples?) {
        try send(try JSONEncoder().encode(configuration))
        guard let line = lines.next() else {
            process.waitUntilExit()
            throw RunError.machine(
                "the worker process \(launch.executable) (pid \(process.processIdentifier)) ended without answering for \(configuration.id) (\(exitText))"
            )
        }
        let reply: WorkerReply
        do { reply = try JSONDecoder().decode(WorkerReply.self, from: Data(line.utf8)) } catch {
            throw RunError.format(
                "the worker process answered \(configuration.id) with a line that is not a reply: \(error)")
        }
        if let error = reply.error { throw RunError.machine("the worker process: \(error)") }
        guard let text = reply.row,
            let row = try MeasurementsFile.parse(MeasurementsFile.header + text, source: "the worker process's reply")
                .first
        else { throw RunError.format("the worker process answered \(configuration.id) without a row") }
        return (row, reply.samples)
    }

    /// Ends the worker: closes its input and waits for it to exit. Returns its threads at the
    /// end, as it stated them (nil when it did not).
    @discardableResult
    func finish() -> [ThreadAffinity]? {
        try? requests.fileHandleForWriting.close()
        let last = lines.next().flatMap { try? JSONDecoder().decode(WorkerReply.self, from: Data($0.utf8)) }
        process.waitUntilExit()
        return last?.threadsAtEnd
    }

    private var exitText: String {
        process.terminationReason == .uncaughtSignal
            ? "killed by signal \(process.terminationStatus)" : "exit status \(process.terminationStatus)"
    }

    private func send(_ json: Data) throws {
        do { try requests.fileHandleForWriting.write(contentsOf: json + Data("\n".utf8)) } catch {
            process.waitUntilExit()
            throw RunError.machine(
                "the worker process \(launch.executable) (pid \(process.processIdentifier)) stopped reading (\(exitText))"
            )
        }
    }
}

/// Lines of a file handle, read as they arrive.
struct LineReader {
    private let handle: FileHandle
    private var buffer = Data()
    private var ended = false

    init(_ handle: FileHandle) { self.handle = handle }

    /// The next line without its newline; nil at the end of the input (an unterminated last line
    /// is returned first).
    mutating func next() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return line
            }
            if ended {
                guard !buffer.isEmpty else { return nil }
                defer { buffer.removeAll() }
                return String(decoding: buffer, as: UTF8.self)
            }
            let chunk = handle.availableData
            if chunk.isEmpty { ended = true } else { buffer.append(chunk) }
        }
    }
}
