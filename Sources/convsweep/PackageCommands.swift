import AlphaFit
import ArgumentParser
import Foundation
import Replication
import Sweeps

/// The shipped files (sweeps, figure script, its Python), found wherever convsweep runs from;
/// `sweepsDirectory` is the `--sweeps-dir` the user gave, if any. Exits 64 when a named directory
/// holds no sweeps, 1 when none is found.
func locateShippedFiles(_ sweepsDirectory: String?) throws -> ShippedFiles {
    do { return try ShippedFiles.locate(sweepsDirectory: sweepsDirectory) } catch {
        let named =
            sweepsDirectory != nil || ProcessInfo.processInfo.environment[ShippedFiles.sweepsEnvironmentVariable] != nil
        throw fail("\(error)", code: named ? 64 : 1)
    }
}

/// Prints `error: …` to standard error and exits with `code`.
func fail(_ message: String, code: Int32) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    return ExitCode(code)
}

struct Package: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a replication package from existing run directories, without measuring.",
        discussion: """
            Splits the runs' measurements by experiment into data/, fits alpha-FLOPs on the \
            regression sample (or uses --fit), predicts every configuration, draws the figures \
            (scripts/plot_figures.py, in the .venv that scripts/ensure-deps --python creates), \
            writes README.md, package.json and SHA256SUMS. See docs/replication-package.md. \
            Refuses an incomplete run, runs of different machines, and an --out holding another \
            machine's package or other files.
            """)

    @Argument(help: "Run directories (complete).")
    var runs: [String]
    @Option(help: "A fit.json to use instead of fitting the regression sample.")
    var fit: String?
    @Option(help: "The package directory to write.")
    var out: String

    func run() throws {
        let given: FitReport?
        do { given = try fit.map { try FitReport.load(path: $0) } } catch { throw fail("\(error)", code: 65) }
        let command =
            "convsweep package " + runs.joined(separator: " ") + (fit.map { " --fit \($0)" } ?? "") + " --out \(out)"
        let builder = PackageBuilder(
            runDirectories: runs, packageDirectory: out, shippedFiles: ShippedFiles.forFigures(), profile: "custom",
            rebuildCommand: command, givenFit: given)
        do {
            let statement = try builder.build()
            print(
                "\(out): package of \(statement.data.map(\.configurations).reduce(0, +)) configurations from \(runs.count) run(s), machine \(statement.machineLabel)"
            )
        } catch let error as PackageError {
            throw fail(error.description, code: 1)
        }
    }
}

struct VerifyPackage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-package",
        abstract: "Check a replication package: sums, named files, and a refit of its own data.",
        discussion: """
            Fails, naming the file, when a file differs from SHA256SUMS, is missing or unlisted, or \
            when README.md links a file that is not there; then refits alpha-FLOPs from \
            data/regression.csv with the settings in fit/alpha.json and recomputes fit/errors.csv, \
            and fails when a parameter or an error differs by more than a relative 1e-6. Exit 0 when \
            the package holds, 1 otherwise.
            """)

    @Argument(help: "The package directory.")
    var directory: String

    func run() throws {
        let report: PackageVerifier.Report
        do { report = try PackageVerifier.verify(directory: directory) } catch {
            throw fail("\(directory): \(error)", code: 1)
        }
        for problem in report.problems { print("FAIL \(problem)") }
        if report.ok {
            print(
                "\(directory): \(report.checkedFiles) files match SHA256SUMS; refit of \(report.refittedGroups.joined(separator: ", ")) and every stated error confirmed"
            )
        } else {
            throw ExitCode(1)
        }
    }
}
