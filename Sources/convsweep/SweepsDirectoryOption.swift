import ArgumentParser
import Foundation
import Sweeps

/// `--sweeps-dir`, of the commands that read the shipped sweeps (`--sweeps` and `--root` are its
/// older names).
struct SweepsDirectoryOption: ParsableArguments {
    @Option(
        name: [.customLong("sweeps-dir"), .customLong("sweeps"), .customLong("root")],
        help: ArgumentHelp(
            "The sweeps directory (default: \(ShippedFiles.sweepsEnvironmentVariable), else the installed or source tree's sweeps).",
            valueName: "dir"))
    var path: String?

    /// The shipped files (sweeps, figure script, its Python), found wherever convsweep runs from;
    /// `path` is the `--sweeps-dir` the user gave, if any. Exits 64 when a named directory
    /// holds no sweeps, 1 when none is found.
    func shippedFiles() throws -> ShippedFiles {
        do { return try ShippedFiles.locate(sweepsDirectory: path) } catch {
            switch error {
            case let .holdsNoSweeps(path, namedBy: .caller):
                throw fail(
                    "--sweeps-dir \(path) holds no sweeps (expected quick/, paper/, full/ or regression.yaml in it)",
                    code: ExitStatus.usage)
            case .holdsNoSweeps:
                throw fail(error.description, code: ExitStatus.usage)
            case let .notFound(looked):
                throw fail(
                    "cannot find the shipped sweeps; looked in: --sweeps-dir (not given); "
                        + "\(ShippedFiles.sweepsEnvironmentVariable) (not set); " + looked.joined(separator: "; ")
                        + ". Install convsweep with scripts/install, or give --sweeps-dir.",
                    code: ExitStatus.failure)
            }
        }
    }
}
