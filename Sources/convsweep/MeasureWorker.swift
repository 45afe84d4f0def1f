import ArgumentParser
import Foundation
import Runner

#if canImport(Glibc)
    import Glibc
#endif

/// `convsweep measure-worker`: the worker process a run starts for each pass over its sweep
/// (``RoundWorker``); not for users.
struct MeasureWorker: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "measure-worker",
        abstract: "Measure rounds for a run's parent process: a setup line, then a configuration per line (JSON).",
        shouldDisplay: false)

    /// How a run starts this command: this executable, as `measure-worker`.
    static var launch: WorkerLaunch {
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return WorkerLaunch(executable: executable, arguments: ["measure-worker"])
    }

    func run() throws {
        // Replies go to the original standard output; anything a library prints goes to standard
        // error, so that it cannot break a reply.
        let replies = dup(STDOUT_FILENO)
        dup2(STDERR_FILENO, STDOUT_FILENO)
        try reportingErrors { try RoundWorker.serve(output: FileHandle(fileDescriptor: replies, closeOnDealloc: true)) }
    }
}
