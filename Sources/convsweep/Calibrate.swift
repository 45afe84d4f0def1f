import AlphaFit
import ArgumentParser
import ConvKernels
import Foundation
import Sweeps

/// `convsweep calibrate`: a fit made on one machine, recalibrated for another from a few
/// configurations measured there.
struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recalibrate a fit for new hardware from a few configurations measured there.",
        discussion: """
            1. `calibrate design --fit A/fit.json --count 30 --out calibration.yaml` writes a sweep \
            of 30 configurations of a regression sweep (default: the shipped one), spread over FLOPs \
            and kernel sizes in every group of the fit. 2. Run it on the new machine with \
            `convsweep run calibration.yaml --out B`. 3. `calibrate fit --from A/fit.json B --out \
            B-fit.json` keeps the fit's shape parameters (beta, gamma; delta, eta) and refits \
            `final` of every group (a rate model's fit, as gemm-work's: one factor on all its rates, \
            its bytes charged against the new machine's caches). When the new machine runs other \
            kernels, `--refit all --anchor auto` refits every parameter pulled toward A's values, \
            the pull chosen by leave-one-out (from 30 Intel rows an AMD gemm-work fit's error \
            fell from 22% to 7.7%). `calibrate evaluate --from A/fit.json DATA --counts 10,30,100` \
            judges the method on a new machine's full regression data: the design's choice of it \
            as the calibration, errors on the rest against a full refit. See docs/fit-format.md.
            """,
        subcommands: [CalibrateDesign.self, CalibrateFit.self, CalibrateEvaluate.self])
}

struct CalibrateDesign: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "design", abstract: "Write the sweep of configurations to measure on the new machine.")

    @Option(help: ArgumentHelp("The fit to recalibrate (its groups are covered).", valueName: "fit.json"))
    var fit: String
    @Option(help: "How many configurations.")
    var count: Int = 30
    @Option(help: ArgumentHelp("The sweep to choose from (default: the shipped regression sweep).", valueName: "file"))
    var sweep: String?
    @OptionGroup var sweepsDirectory: SweepsDirectoryOption
    @Option(help: ArgumentHelp("The sweep file to write.", valueName: "file"))
    var out: String

    func run() throws {
        let report = try reportingErrors { try FitReport.load(path: fit) }
        let path =
            try sweep
            ?? (sweepsDirectory.shippedFiles().sweepsDirectory as NSString).appendingPathComponent("regression.yaml")
        let candidates = try reportingErrors { try Sweep.load(path: path) }.configurations.filter(\.isMeasured)
        guard (1...candidates.count).contains(count) else {
            throw fail(
                "--count \(count) is more than the \(candidates.count) configurations \(path) measures (or below 1)",
                code: ExitStatus.usage)
        }
        let chosen = Recalibration.Design.choose(count, from: candidates.map(\.shape), grouping: report.grouping)
        var text = """
            # Calibration sweep written by `convsweep calibrate design --count \(count)` from \(path):
            # configurations spread over FLOPs and K in every group of \(fit) (docs/fit-format.md).
            name: calibration
            description: \(count) configurations of \(path) to recalibrate \(fit).
            series:

            """
        for index in chosen {
            let c = candidates[index]
            let s = c.shape
            text += """
                  - label: \(c.id.replacingOccurrences(of: "/", with: "_"))
                    H: \(s.height)
                    W: \(s.width)
                    Cin: \(s.inputChannels)
                    Cout: \(s.outputChannels)
                    K1: \(s.kernelHeight)
                    K2: \(s.kernelWidth)
                    batch: \(s.batch)

                """
        }
        try write(Data(text.utf8), to: out)
        print("\(out): \(chosen.count) configurations; measure them with `convsweep run \(out) --out DIR`")
    }
}

struct CalibrateFit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract:
            "Refit `final` (a rate model: the scale of its rates), or the parameters --refit names, of every group of a fit to rows measured on the new machine."
    )

    @Option(help: ArgumentHelp("The fit made on the other machine.", valueName: "fit.json"))
    var from: String
    @Argument(help: "Run directories or CSV files measured on the new machine.")
    var inputs: [String]
    @Option(help: ArgumentHelp("The recalibrated fit to write.", valueName: "fit.json"))
    var out: String
    @OptionGroup var recalibration: RecalibrationOptions
    @OptionGroup var caches: CachesOption

    func run() throws {
        for input in inputs { try requireIntactPackage(input) }
        let recalibrated = try reportingErrors { () -> FitReport in
            let base = try FitReport.load(path: from)
            return try Recalibration.refit(
                base, parameters: recalibration.parameters(of: base.model),
                to: try FitDataset.load(paths: inputs).rows, setting: try caches.setting(inputs: inputs),
                anchoring: recalibration.anchor.anchoring)
        }
        try write(try recalibrated.jsonData(), to: out)
        for group in recalibrated.fits {
            let scale =
                group.parameters["final"].map { "final = " + String(format: "%.6g", $0) }
                ?? "msPerGflop = " + String(format: "%.6g", group.parameters["msPerGflop"] ?? .nan)
            let anchor = group.anchorStrength.map { ", anchored with strength " + String(format: "%.4g", $0) } ?? ""
            print("\(group.group): \(scale) from \(group.n ?? 0) rows\(anchor)")
        }
        print("wrote \(out)")
    }
}

struct CalibrateEvaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Judge recalibration on a new machine's full regression data against a full refit.",
        discussion: """
            For each N of --counts, N configurations of the data (spread over FLOPs and kernel sizes \
            in every group) recalibrate the fit; the other rows are predicted by the fit unchanged \
            ("base"), the recalibrated fit, and a full refit on every row of the data with the \
            fit's options, judged twice: in sample (it was fitted to those rows too) and held out \
            (each row predicted by the fit of the \(Recalibration.refitFolds) folds of the data \
            that do not hold it, as `fit --cross-validate`; "–" when a group has fewer rows than \
            folds). The ratios are the recalibrated fit's RMSE and MAPE over the refit's.
            """)

    @Option(help: ArgumentHelp("The fit made on the other machine.", valueName: "fit.json"))
    var from: String
    @Argument(help: "The new machine's regression data: run directories or CSV files.")
    var inputs: [String]
    @Option(help: ArgumentHelp("Calibration sizes, comma separated.", valueName: "N,N,…"))
    var counts: String = "10,30,100"
    @OptionGroup var recalibration: RecalibrationOptions
    @OptionGroup var caches: CachesOption

    func run() throws {
        let sizes = counts.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 >= 1 }) else {
            throw fail(
                "--counts takes positive whole numbers, comma separated (got '\(counts)')", code: ExitStatus.usage)
        }
        for input in inputs { try requireIntactPackage(input) }
        let evaluations = try reportingErrors { () -> [Recalibration.Evaluation] in
            let base = try FitReport.load(path: from)
            return try Recalibration.evaluate(
                base: base, data: try FitDataset.load(paths: inputs), counts: sizes,
                parameters: recalibration.parameters(of: base.model), setting: try caches.setting(inputs: inputs),
                anchoring: recalibration.anchor.anchoring)
        }
        print(
            "    N  held out  base RMSE ms  recalibrated RMSE ms  full refit RMSE ms  ratio  recalibrated MAPE  full MAPE  ratio  full MAPE held out  ratio"
        )
        for e in evaluations {
            let heldOut =
                e.fullRefitHeldOut.map {
                    String(format: "  %17.2f%%  %5.3f", $0.mapePercent, e.recalibrated.mapePercent / $0.mapePercent)
                } ?? "                  –      –"
            print(
                String(
                    format: "%5d  %8d  %12.4g  %20.4g  %18.4g  %5.3f  %16.2f%%  %8.2f%%  %5.3f", e.count,
                    e.recalibrated.n, e.base.rmseMs, e.recalibrated.rmseMs, e.fullRefit.rmseMs, e.rmseRatio,
                    e.recalibrated.mapePercent, e.fullRefit.mapePercent,
                    e.recalibrated.mapePercent / e.fullRefit.mapePercent) + heldOut)
        }
        print(
            "full refit: fitted to every row, so it predicts the held-out rows in sample; held out: each predicted by the fit of the \(Recalibration.refitFolds) folds without it"
        )
    }
}

/// What a recalibration refits, and how far from the base fit (`calibrate fit`, `calibrate evaluate`).
struct RecalibrationOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The parameters to refit, comma separated: final (an alpha model's scale; a rate model's one factor on all its rates), others by name (gamma,final when the new machine's kernels differ), or all (every parameter but gemm-work's tiles, cache levels and small-matrix limit; with --anchor).",
            valueName: "names"))
    var refit: String = "final"
    @Option(
        help: ArgumentHelp(
            "Pull the refitted parameters toward the base fit's values: none, auto (each group's strength chosen by leave-one-out on its calibration rows among 0, 1e-4 … 100) or a strength λ ≥ 0 (docs/fit-format.md).",
            valueName: "none|auto|λ"))
    var anchor: AnchorArgument = AnchorArgument(anchoring: .free)

    /// The names `--refit` gives, `all` read for `model`.
    func parameters(of model: FitModel) -> Set<String> {
        let names = refit.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        return Set(names.flatMap { $0 == "all" ? Recalibration.refittable(model) : [$0] })
    }
}

/// `--anchor`: none, auto or a strength.
struct AnchorArgument: ExpressibleByArgument {
    var anchoring: Recalibration.Anchoring

    init(anchoring: Recalibration.Anchoring) { self.anchoring = anchoring }

    init?(argument: String) {
        switch argument {
        case "none": anchoring = .free
        case "auto": anchoring = .chosen
        default:
            guard let strength = Double(argument), strength >= 0, strength.isFinite else { return nil }
            anchoring = .strength(strength)
        }
    }

    var defaultValueDescription: String { "none" }
}
