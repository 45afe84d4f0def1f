import AlphaFit
import ArgumentParser
import ConvKernels
import Foundation
import Replication
import Sweeps

extension FitModel: ExpressibleByArgument {}
extension FitGrouping: ExpressibleByArgument {}
extension FitLoss: ExpressibleByArgument {}
extension FlopsConvention: ExpressibleByArgument {}
extension BytesConvention: ExpressibleByArgument {}

/// Writes `data` to `path` (only called once everything has been computed).
func write(_ data: Data, to path: String) throws {
    do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
        throw fail("cannot write \(path): \(error.localizedDescription)", code: ExitStatus.cannotCreate)
    }
}

struct Fit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Fit alpha-FLOPs (or alpha-channels, data-movement, tensor-bytes, gemm-work, flops) per group to measured times; judge the models held out.",
        discussion: """
            Each INPUT is a run directory (its measurements.csv: rows with status ok, time = median_ms) \
            or a CSV with columns H, W, Cin, Cout, K (a square K×K kernel) or K1 and K2, time_ms and \
            optionally batch; other columns are carried into predictions.

            Models (\(FitModel.definitions)):
            \(FitModel.allCases.map { "  \($0.rawValue): T = \($0.formula)" }.joined(separator: "\n"))
            Solver: Levenberg–Marquardt with box bounds (default [0, 2]; [0, 1000] for delta, eta), \
            from the paper's start (beta 0.01, gamma 0.8, final 0.3; delta = eta = 0) plus --starts \
            seeded starts, keeping the lowest sum of squares (data-movement and tensor-bytes: [0, 10⁵] ms per GFLOP and \
            per GB, [0, 1000] ms; gemm-work: one start, its register tiles, cache levels and small-matrix limit chosen, \
            what no layer tells held at 0 with the reason, the cache sizes from the inputs' manifests \
            or --caches). --cross-validate N fits every model on the same N folds \
            (stratified by K; each fold's fit starts from the fit to all rows) and prints their \
            held-out RMSE, nRMSE, MAPE, RMSPE and ±5/10/25% accuracy per group, and the noise floor \
            (what a perfect model reaches given the rows' between-round spread); --ceiling adds \
            gradient-boosted trees (scikit-learn in the figure virtualenv).

            The original study's data fits as it is:
              convsweep fit data/asperti2021/measurements.csv --exclude-plot increasing_batch --out fit.json

            Bad input (missing column, non-positive time, empty group, a bound excluding the start) \
            prints one message naming input, row and column, writes nothing and exits 65. \
            See docs/fit-format.md.
            """)

    @Argument(help: "Run directories or CSV files of measured times.")
    var inputs: [String]

    @Option(help: "Where to write the fit (JSON).")
    var out: String

    @Option(help: "Groups fitted separately: k1-rest (K = 1 and K > 1) or per-k.")
    var groups: FitGrouping = .k1Rest

    @Option(help: "absolute: Σ(pred − meas)², as curve_fit; relative: Σ((pred − meas)/meas)².")
    var loss: FitLoss = .absolute

    @Option(help: "standard: FLOPs = 2·K·Cin·Cout·H·W·batch; asperti: K·Cin·Cout·H·W / 10⁶ (the authors' code).")
    var flopsConvention: FlopsConvention = .standard

    @Option(
        help:
            "How the data-movement and tensor-bytes models count bytes moved: algorithm (an im2col matrix only where the layer's algorithm lowers; depthwise layers none) or every-kxk (every K×K layer, depthwise included: convsweep before 2026-12-04 night)."
    )
    var bytesConvention: BytesConvention = .algorithm

    @Option(
        help:
            "alpha (beta, gamma, final), alpha-channels (adds delta, eta: a channel term), data-movement (msPerGflop, msPerGB, fixedMs), tensor-bytes (a rate per tensor: msPerGBInput, msPerGBWeights, msPerGBOutput, msPerGBLowered), gemm-work (the kernels' work: padded FLOPs, each GEMM operand's bytes by cache level, the lowering, calls; needs the cache sizes) or flops (msPerGflop)."
    )
    var model: FitModel = .alpha

    @Option(help: "Seeded random starts inside the bounds, besides the paper's start.")
    var starts: Int = 16

    @OptionGroup var caches: CachesOption

    @Option(help: "Seed of the random starts and of the cross-validation folds.")
    var seed: UInt64 = 1

    @Option(
        parsing: .singleValue,
        help: ArgumentHelp(
            "Lower and upper bound of one parameter, in the model's parameter order (alpha: beta, gamma, final[, delta, eta]; the others as --model lists them); repeat for each, e.g. --bound 0,2.",
            valueName: "LOW,HIGH"))
    var bound: [String] = []

    @Option(help: ArgumentHelp("The deterministic start, comma separated in parameter order.", valueName: "V,V,V"))
    var start: String?

    @OptionGroup var filtering: RowFilterOptions

    @Option(
        help: ArgumentHelp(
            "Also report every model's held-out RMSE, nRMSE, MAPE, RMSPE and ±5/10/25% accuracy on the same N folds, with the noise floor (gemm-work where the cache sizes are known).",
            valueName: "N"))
    var crossValidate: Int?

    @Flag(help: "With --cross-validate: add gradient-boosted trees (python/ceiling.py, scikit-learn) as the ceiling.")
    var ceiling = false

    @Option(
        help: ArgumentHelp(
            "With --cross-validate: write every row's fold and held-out predictions here (CSV).", valueName: "FILE"))
    var cvPredictions: String?

    func validate() throws {
        guard crossValidate != nil || (!ceiling && cvPredictions == nil) else {
            throw ValidationError("--ceiling and --cv-predictions need --cross-validate N")
        }
        if let crossValidate, crossValidate < 2 {
            throw ValidationError("--cross-validate needs at least 2 folds, got \(crossValidate)")
        }
    }

    func run() throws {
        var timing = ""
        var table: ModelTable?
        var cvTable: Table?
        let report = try reportingErrors { () -> FitReport in
            let filters = try filtering.filters()
            var options = FitOptions(
                model: model, grouping: groups, loss: loss, flopsConvention: flopsConvention,
                bytesConvention: bytesConvention,
                starts: starts, seed: seed)
            if !bound.isEmpty { options.bounds = try bound.map { try numbers($0, option: "--bound") } }
            if let start { options.start = try numbers(start, option: "--start") }
            options.workSetting = try caches.setting(inputs: inputs)
            let loadStart = Date()
            let dataset = try FitDataset.load(paths: inputs, excluding: filters)
            let fitStart = Date()
            let fitter = AlphaFitter(options: options)
            var report = try fitter.fit(dataset, excluded: filters)
            timing = String(
                format: "loaded %d rows in %.3f s, fitted in %.3f s", dataset.rows.count,
                fitStart.timeIntervalSince(loadStart), Date().timeIntervalSince(fitStart))
            if let folds = crossValidate {
                let cvStart = Date()
                let built = try ModelTable.build(
                    dataset: dataset, options: options, folds: folds,
                    shippedFiles: ceiling ? ShippedFiles.forFigures() : nil)
                if ceiling && !built.table.hasCeiling {
                    throw fail("the ceiling cannot be computed: \(built.table.ceiling)", code: ExitStatus.failure)
                }
                report.crossValidation = built.report
                table = built.table
                cvTable = built.predictions.table
                timing += String(format: ", cross-validated in %.3f s", Date().timeIntervalSince(cvStart))
            }
            return report
        }
        try write(report.jsonData(), to: out)
        if let cvPredictions, let cvTable { try write(Data(cvTable.csvText().utf8), to: cvPredictions) }
        print(FitSummary(report).text)
        if let table {
            print("")
            print(table.text)
        }
        print("")
        print(timing)
        print("wrote \(out)")
    }
}

/// Parses comma-separated numbers for an option.
func numbers(_ text: String, option: String) throws -> [Double] {
    let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    return try parts.map { part in
        guard let value = Double(part), value.isFinite else {
            throw FitInputError(input: option, "expected comma-separated numbers, got '\(text)'")
        }
        return value
    }
}

/// The readable summary `fit` prints.
struct FitSummary {
    var text: String

    init(_ report: FitReport) {
        var lines: [String] = []
        let options = report.options
        lines.append(
            "model \(report.model.rawValue), groups \(report.grouping.rawValue), loss \(options?.loss.rawValue ?? "?"), FLOPs \(report.flopsConvention.rawValue)"
        )
        if report.model == .gemmWork, let setting = options?.workSetting { lines.append("work setting: \(setting)") }
        for input in report.inputs ?? [] {
            lines.append(
                "input \(input.path): \(input.rowsUsed) rows used, \(input.rowsExcluded) left out, sha256 \(input.sha256.prefix(16))…"
            )
        }
        for fit in report.fits {
            lines.append("")
            lines.append("group \(fit.group)  n = \(fit.n.map(String.init) ?? "?")")
            let width = max(6, report.model.parameterNames.map(\.count).max() ?? 0)
            for name in report.model.parameterNames {
                var line =
                    "  " + name.padding(toLength: width, withPad: " ", startingAt: 0)
                    + String(format: " %.8g", fit.parameters[name] ?? .nan)
                if let se = fit.diagnostics?.standardErrors?[name], let ci = fit.diagnostics?.confidence95?[name] {
                    line += String(format: "  ± %.3g (se)  95%% [%.6g, %.6g]", se, ci[0], ci[1])
                } else if fit.fixed?.contains(name) == true {
                    switch report.model {
                    case .alpha, .alphaChannels:
                        line +=
                            "  held fixed: every layer of the group has S = S_K, where the spatial term is 1 whatever it is"
                    case .tensorBytes: line += "  held at 0: no layer of the group is lowered"
                    default: line += "  held: see the warning below"
                    }
                } else if report.model == .gemmWork, name.hasSuffix("Tile") {
                    line += "  chosen: the candidate tile with the lowest sum of squares"
                } else if report.model == .gemmWork, name == "smallCallLimit" {
                    line += "  chosen: the candidate limit (0: no small-matrix kernel) with the lowest sum of squares"
                } else if report.model.formConstantNames.contains(name) {
                    line += "  the model's form (--help), held"
                }
                lines.append(line)
            }
            if let d = fit.diagnostics {
                lines.append(
                    String(
                        format: "  SSE %.10g  RMSE %.4g ms  R² %.4f  MAPE %.2f%%", d.sse, d.rmseMs, d.rSquared,
                        d.mapePercent))
                lines.append(
                    "  \(d.iterations) iterations, stopped: \(d.stopReason.rawValue); \(d.startsReachingBest) of \(d.startsTried) starts reached the best"
                )
                for warning in d.warnings { lines.append("  warning: \(warning)") }
            }
        }
        text = lines.joined(separator: "\n")
    }
}
