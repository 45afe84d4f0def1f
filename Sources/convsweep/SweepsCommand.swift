import ArgumentParser
import Foundation
import Sweeps

/// `convsweep sweeps`: look at sweep files without measuring anything.
struct SweepsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweeps",
        abstract: "Inspect sweep files: what they contain and what measuring them costs.",
        discussion: """
            A sweep file (YAML, described in sweeps/README.md) names the conv2d configurations of one \
            experiment. A file that cannot be loaded is reported as FILE:LINE:COLUMN: FIELD: MESSAGE \
            on standard error, with exit status 65.
            """,
        subcommands: [SweepsList.self, SweepsExpand.self])
}

/// Prints `error` on one line to standard error and exits with 65 (EX_DATAERR).
func failOnBadSweep<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as SweepError {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(65)
    }
}
