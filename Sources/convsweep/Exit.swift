import AlphaFit
import Analysis
import ArgumentParser
import Basics
import ConvKernels
import Foundation
import Measurement
import Replication
import Rows
import Runner
import Sweeps

/// convsweep's exit statuses (the names of BSD's sysexits.h).
enum ExitStatus {
    /// Something failed that is neither the options nor the input files (1).
    static let failure: Int32 = 1
    /// Bad options (64, EX_USAGE).
    static let usage: Int32 = 64
    /// A bad input file: a sweep file, a fit input, a fit.json (65, EX_DATAERR).
    static let dataError: Int32 = 65
    /// An output file cannot be written (73, EX_CANTCREAT).
    static let cannotCreate: Int32 = 73
}

/// The flag of each run setting, for messages: a declared setting's own (``RunSettings``), else
/// the option of the command that takes it.
func flag(_ setting: RunSetting) -> String {
    if let declaration = RunSettings.declaration(setting) { return declaration.flag }
    switch setting {
    case .shard: return "--shard"
    case .resume: return "--resume"
    case .sweeps: return "the sweep files"
    case .configurations: return "--config"
    case .session: return "--session"
    case .reason: return "--reason"
    default: return setting.name
    }
}

/// Prints `error: message` on one line to standard error and returns the exit to throw.
func fail(_ message: String, code: Int32) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    return ExitCode(code)
}

/// Runs a command's body and turns a library error into one message and its exit status: the one
/// place where errors meet flags and exit codes.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch let error as RunError {
        if case let .badSetting(setting, problem) = error {
            throw fail("\(flag(setting)) \(problem)", code: ExitStatus.usage)
        }
        if case .format = error { throw fail(error.description, code: ExitStatus.dataError) }
        if case .machineChanged = error {
            throw fail(
                "\(error); resume with --accept-machine-change to add to this run anyway (recorded in its manifest), or measure into a new directory",
                code: ExitStatus.failure)
        }
        throw fail(error.description, code: ExitStatus.failure)
    } catch let error as StopRuleError {
        throw fail("\(flag(.stopRule(error.setting))) \(error.problem)", code: ExitStatus.usage)
    } catch let error as SweepError {
        throw fail(error.description, code: ExitStatus.dataError)
    } catch let error as RowFormatError {
        throw fail(error.description, code: ExitStatus.dataError)
    } catch let error as FrameworkReferenceError {
        throw fail(error.description, code: error.isInputProblem ? ExitStatus.dataError : ExitStatus.failure)
    } catch let error as FitInputError {
        throw fail(error.description, code: ExitStatus.dataError)
    } catch let error as InputError {
        throw fail(error.description, code: ExitStatus.dataError)
    } catch let error as PackageError {
        throw fail(error.description, code: ExitStatus.failure)
    } catch {
        throw fail("\(error)", code: ExitStatus.failure)
    }
}

/// Refuses a replication package (a directory with SHA256SUMS) whose files no longer match their
/// sums: its data were edited, and numbers drawn from it would not be the package's.
func requireIntactPackage(_ path: String) throws {
    let url = URL(fileURLWithPath: path)
    guard FileManager.default.fileExists(atPath: url.appendingPathComponent(Checksums.fileName).path) else { return }
    let problems: [String]
    do { problems = try Checksums.verify(directory: url).map(\.description) } catch {
        throw fail("\(path): cannot check its \(Checksums.fileName): \(error)", code: ExitStatus.dataError)
    }
    if let first = problems.first {
        throw fail(
            "\(path): the package does not match its \(Checksums.fileName) (\(first)\(problems.count > 1 ? ", and \(problems.count - 1) more" : "")); refusing edited data",
            code: ExitStatus.dataError)
    }
}

/// For a command that computes on `threads` threads among the PUs this process was started on (a
/// taskset's): restarts it with the quiet environment when it needs one, refuses more threads than
/// those PUs (exit 64), takes `lock` of them when given, then sets the threads and binds each to
/// its own PU (a warning per thread that could not be). Returns the PUs and the lock.
func startComputeThreads(
    _ threads: Int, command: String, lock: (([Int]) throws -> ProcessingUnitLease)? = nil
) throws -> (units: [Int], lease: ProcessingUnitLease?) {
    ComputeThreads.startQuietIfNeeded(threads: threads, executable: BuildInfo.executablePath())
    let given = ProcessBinding.givenAffinity
    guard threads <= max(1, given.count) else {
        throw fail(
            "--threads \(threads) needs \(threads) PUs; this process was started on \(CPUSet.format(given)) (start it under taskset -c with \(threads) PUs)",
            code: ExitStatus.usage)
    }
    let lease = try lock?(given)
    for problem in ComputeThreads.start(threads, on: given) {
        FileHandle.standardError.write(Data("\(command): warning: \(problem)\n".utf8))
    }
    return (given, lease)
}
