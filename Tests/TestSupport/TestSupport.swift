import Foundation

/// The clone these tests were compiled from.
public let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The original study's published measurements, shipped in the repository at data/asperti2021.
public let originalDataPath = repositoryRoot.appendingPathComponent("data/asperti2021/measurements.csv").path

/// The directory of this test process's temporary directories, removed when the process exits:
/// a test run leaves nothing behind in the temporary directory (unless it crashes).
public let testProcessDirectory: String = {
    let path =
        FileManager.default.temporaryDirectory.path
        + "/convsweep-tests/process-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: testProcessDirectory) }
    return path
}()

/// A fresh, empty temporary directory for one test, named after it (inside
/// ``testProcessDirectory``).
public func temporaryDirectory(_ name: String = #function) -> String {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    let path = testProcessDirectory + "/\(safe)-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// ``temporaryDirectory(_:)`` as a file URL.
public func temporaryDirectoryURL(_ name: String = #function) -> URL {
    URL(fileURLWithPath: temporaryDirectory(name), isDirectory: true)
}

/// Writes `text` to a file named `name` in a fresh temporary directory; returns its path.
public func writeTemporary(_ text: String, name: String = "data.csv", test: String = #function) throws -> String {
    let path = temporaryDirectory(test) + "/" + name
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// What a run of the `convsweep` executable did.
public struct Outcome: Sendable {
    /// The exit status (or the signal, when ``signalled``).
    public var status: Int32
    /// Whether a signal ended the process.
    public var signalled: Bool
    /// Everything it wrote to standard error.
    public var standardError: String
    /// Everything it wrote to standard output.
    public var standardOutput: String
}

/// The built `convsweep` next to the test bundle (`swift build --build-tests` builds both).
public func convsweepExecutable() throws -> String {
    let bundle = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    let path = bundle.appendingPathComponent("convsweep").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw CocoaError(
            .fileNoSuchFile,
            userInfo: [
                NSLocalizedDescriptionKey: "no convsweep executable at \(path); build the package before the tests"
            ])
    }
    return path
}

/// Starts `convsweep arguments` in `directory` with `environment` added to this process's, its
/// standard error in the returned pipe and its standard output in `output`, on the CPUs `cpus`
/// (a `taskset -c` list; by default every PU).
public func launchConvsweep(
    _ arguments: [String], output: Any = FileHandle.nullDevice, in directory: String? = nil,
    environment: [String: String] = [:], cpus: String? = nil
) throws -> (Process, Pipe) {
    let process = Process()
    // Through taskset, by default on every PU: an in-process run of another test binds this whole
    // process to its PU while it measures, and a child started meanwhile would inherit that one
    // PU — a `--cpuset` of another then rightly refused (exit 64), which once showed as a PU-lock
    // test's holder that "never held" its lock. taskset execs the program: the pid is the child's.
    let taskset = "/usr/bin/taskset"
    if FileManager.default.isExecutableFile(atPath: taskset) {
        process.executableURL = URL(fileURLWithPath: taskset)
        process.arguments =
            ["-c", cpus ?? "0-\(ProcessInfo.processInfo.activeProcessorCount - 1)", try convsweepExecutable()]
            + arguments
    } else {
        process.executableURL = URL(fileURLWithPath: try convsweepExecutable())
        process.arguments = arguments
    }
    // Each launch takes its PU locks in a directory of its own unless the test names one: suites
    // run in parallel, and a lock test shares a directory on purpose.
    var environment = environment
    if environment["CONVSWEEP_LOCK_DIR"] == nil { environment["CONVSWEEP_LOCK_DIR"] = temporaryDirectory("locks") }
    // Likewise the machine reference cache: a test's short, loaded runs are not the user's machine.
    if environment["CONVSWEEP_CACHE_DIR"] == nil { environment["CONVSWEEP_CACHE_DIR"] = temporaryDirectory("cache") }
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = output
    try process.run()
    return (process, errors)
}

/// Runs `convsweep arguments` in `directory`, with `environment` added to this process's, on
/// `cpus` (``launchConvsweep(_:output:in:environment:cpus:)``), to its end.
public func convsweep(
    _ arguments: [String], in directory: String? = nil, environment: [String: String] = [:], cpus: String? = nil
) throws -> Outcome {
    let output = Pipe()
    let (process, errors) = try launchConvsweep(
        arguments, output: output, in: directory, environment: environment, cpus: cpus)
    // Both pipes are drained at once so that neither fills while the other is read.
    let group = DispatchGroup()
    nonisolated(unsafe) var printed = Data()
    DispatchQueue.global().async(group: group) { printed = output.fileHandleForReading.readDataToEndOfFile() }
    let data = errors.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return Outcome(
        status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
        standardError: String(decoding: data, as: UTF8.self), standardOutput: String(decoding: printed, as: UTF8.self))
}

/// Runs `convsweep arguments` under `taskset -c cpus` (the CPUs a Slurm task or a user's taskset
/// would give it), with the tests' own lock and cache directories, to its end: its exit status
/// and standard error.
public func convsweepUnderTaskset(_ cpus: String, _ arguments: [String]) throws -> (status: Int32, error: String) {
    let outcome = try convsweep(arguments, cpus: cpus)
    return (outcome.status, outcome.standardError)
}
