import AlphaFit
import ArgumentParser
import Foundation
import Replication
import Sweeps

struct Package: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a replication package from existing run directories, without measuring.",
        discussion: """
            Splits the runs' measurements by experiment into data/, fits alpha-FLOPs on the \
            regression sample (or uses --fit), predicts every configuration, judges every model held \
            out (fit/models.json; where each misses, fit/misses.csv; each model's predictions, \
            fit/model-predictions.csv, gemm-work's drawn dotted in the figures), draws the figures \
            (python/plot_figures.py, in the .venv that scripts/ensure-deps --python creates), \
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
    @Option(
        help: ArgumentHelp(
            "Another run directory or package to compare with (adds compare/, with what the comparison read of it in compare/other/, and a section).",
            valueName: "dir"))
    var compareWith: String?
    @Option(
        help: ArgumentHelp(
            "A framework reference of this machine (convsweep networks reference --out DIR) to hold beside the networks' layer sums: networks/reference.json, networks/framework.csv and a README section.",
            valueName: "dir"))
    var reference: String?
    @Option(
        help: ArgumentHelp(
            "The profile of shipped sweeps the runs measured, stated in the package's README and package.json; custom for any other sweeps."
        ))
    var profile: PackageProfile = .custom
    @Option(
        help: "The fit's and the model table's loss: relative (default) or absolute (as the replication's curve_fit).")
    var loss: FitLoss = .relative

    func run() throws {
        let given = try reportingErrors { try fit.map { try FitReport.load(path: $0) } }
        var command = "convsweep package " + runs.joined(separator: " ") + (fit.map { " --fit \($0)" } ?? "")
        command += compareWith.map { " --compare-with \(ShellWord.quoted($0))" } ?? ""
        command += reference.map { " --reference \(ShellWord.quoted($0))" } ?? ""
        command += loss == .relative ? "" : " --loss \(loss.rawValue)"
        command += profile == .custom ? "" : " --profile \(profile)"
        command += " --out \(out)"
        var builder = PackageBuilder(
            runDirectories: runs, packageDirectory: out, shippedFiles: ShippedFiles.forFigures(), profile: profile,
            rebuildCommand: command, givenFit: given)
        builder.comparedWith = compareWith
        builder.frameworkReference = reference
        builder.fitOptions.loss = loss
        let statement = try reportingErrors { try builder.build() }
        print(
            "\(out): package of \(statement.data.map(\.configurations).reduce(0, +)) configurations from \(runs.count) run(s), machine \(statement.machineLabel)"
        )
    }
}

struct VerifyPackage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-package",
        abstract: "Check a replication package: every figure it states, from its own files.",
        discussion: """
            Fails, naming the file, when a file differs from SHA256SUMS, is missing or unlisted, is \
            not a regular file inside the package (a link, FIFO or device, or a path with '..' in \
            SHA256SUMS: never opened), or when README.md links a file that is not there; when \
            package.json's counts or data files are not the package's, data/ is not exactly what \
            run/measurements.csv gives (a package without run/ fails), run/rounds.csv holds a round \
            twice or of a configuration its row describes otherwise, a network file of \
            networks/definitions/ is not one the run's manifest records, or manifest.json and \
            topology.xml are not the run's and readable. Then it refits alpha-FLOPs from \
            data/regression.csv with the settings in fit/alpha.json and fails when the refit does not \
            reach the stated sums of squares, predictions (fit/predictions.csv) and errors \
            (fit/errors.csv) within a relative 1e-6 (a prediction: of itself or of its group's \
            RMSE), or moves a parameter by more than 1e-6 of it or 1e-3 of the refit's standard \
            error (never the stated one). So a package verifies on any machine, whatever kernels its \
            OpenBLAS rounds with, and an edited file still fails. Every stated fit (the main fit, \
            each backend's and thread count's, the networks' fits) must predict its sample as its \
            refit does, with the refit's standard errors, intervals, starts and warnings (not \
            the iterations or the stop reason, which other kernels change), the package's inputs (path relative to the package) and the manifest's \
            caches; every JSON file must be strict (no key twice, no comma before a closing \
            bracket) and read back to all it states. The model table (fit/models.json) must state what its held-out \
            predictions (fit/cv-predictions.csv) give, to 1e-9, and a new cross-validation of the \
            parametric models must give the same folds and predictions within the same tolerance; \
            the trees are judged by their predictions alone. A comparison (compare/) is recomputed \
            whole from run/ and the other run's rows, rounds and probe readings in compare/other/; \
            a package written before 0.20.0 does not hold them: there they are taken as stated, \
            everything else (ratios, intervals, verdicts, groups, rankings, compare.csv) is \
            recomputed, and the output says so. Every fit's stated n, R², RMSE and MAPE \
            must be what the refit gives, and README.md what the template renders from the package's \
            files (--regenerate-readme rewrites it for a package an older convsweep wrote, after every \
            other check passed). Exit 0 when the package holds, 65 for a package.json of a format \
            version this convsweep does not read, 1 otherwise (docs/security.md).
            """)

    @Argument(help: "The package directory.")
    var directory: String

    @Flag(
        help: ArgumentHelp(
            "Rewrite README.md (and its line of SHA256SUMS) from the package's own files with this convsweep's template, for a package an older convsweep wrote; only after every other check passed."
        ))
    var regenerateReadme = false

    func run() throws {
        let report: PackageVerifier.Report
        do {
            report =
                regenerateReadme
                ? try PackageVerifier.regenerateReadme(
                    directory: directory, template: ShippedFiles.forFigures().readmeTemplate)
                : try PackageVerifier.verify(directory: directory)
        } catch {
            throw fail("\(directory): \(error)", code: ExitStatus.failure)
        }
        for problem in report.problems { print("FAIL \(problem)") }
        if report.ok {
            print(
                "\(directory): \(report.checkedFiles) files match SHA256SUMS; refit of \(report.refittedGroups.joined(separator: ", ")) and every stated error confirmed"
                    + (report.modelsConfirmed.isEmpty
                        ? "" : "; model table confirmed: \(report.modelsConfirmed.joined(separator: ", "))")
                    + (report.networksRecomputed == 0
                        ? "" : "; \(report.networksRecomputed) networks' costs and predictions recomputed")
            )
            if let comparison = report.comparison.comparison {
                let checked = report.comparison
                let against =
                    "compare/: \(comparison.configurations.count) configurations against \(checked.comparedWith ?? "another run")"
                    + (checked.comparedRun?.measuredOn.map { " (\($0))" } ?? "")
                print(
                    checked.recomputed
                        ? "\(against): recomputed whole from run/ and the other run's rows, rounds and probe readings in compare/other/"
                        : "\(against): this package's side (times\(checked.roundsChecked ? ", rounds" : "") and configurations) from its own rows; every ratio, interval, verdict, group and ranking recomputed; the other run's times, rounds and probe readings are not in the package (written before 0.20.0) and are taken as stated"
                )
            }
        } else {
            throw ExitCode(report.unknownFormat ? ExitStatus.dataError : ExitStatus.failure)
        }
    }
}

extension PackageProfile: ExpressibleByArgument {
    /// The profile named on the command line.
    public init?(argument: String) { self.init(name: argument) }
    /// The names `--profile` accepts, for help and errors.
    public static var allValueStrings: [String] { all.map(\.description) }
}
