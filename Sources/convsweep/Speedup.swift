import AlphaFit
import Analysis
import ArgumentParser
import Basics
import Foundation
import Rows

/// `convsweep speedup`: how each configuration's time scales with threads, in a run of several
/// thread counts.
struct Speedup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "How each configuration's time scales with threads: speedup T(1)/T(p) and parallel efficiency.",
        discussion: """
            Reads a run directory, a replication package or a measurements CSV holding rows at one \
            thread and at more (a run with --threads 1,2,…). Per series and thread count: the \
            configurations, their median, smallest and largest speedup and the median efficiency \
            (speedup/p); then, per count, Spearman's rho of the speedup against the output's H·W, \
            Cin·Cout, K1·K2 and the FLOPs: where a layer's FLOPs sit and how it scales. Each \
            configuration's speedup has an interval from the two rows' 95% intervals of the median \
            (--csv). With --model M: M fitted across the thread counts (the serial-share model, \
            T(p) = M(layer) · (σ + (1 − σ)/p): for alpha and alpha-channels the serial share σ a \
            logistic function of ln H·W, ln K1·K2 and ln Cin/groups·Cout; for a rate model a share \
            per rate, each kind of work dividing among the threads as far as its own share says; \
            for gemm-work the part that divides divided as the kernels share the layer (tiles taken \
            in turn, calls OpenBLAS runs on one thread) plus a cost per fork and join of its \
            threads; fitted with M's own parameters on every row the filters leave, --exclude \
            backend=onednn for OpenBLAS's alone) and \
            judged held out against each count's own fit of M, on --folds folds of configurations \
            (every count of a configuration in the same fold); with three counts or more, also on \
            each count left out. Exit status: 0; 65 for an input that does not read or holds no \
            configuration measured at one thread and at more, or rows a model cannot be fitted to.
            """)

    @Argument(help: ArgumentHelp("A run directory, a replication package or a measurements CSV.", valueName: "run"))
    var input: String
    @Option(help: ArgumentHelp("Write every configuration's speedup as CSV.", valueName: "file"))
    var csv: String?
    @Option(help: ArgumentHelp("Write the per-series summary as CSV.", valueName: "file"))
    var seriesCSV: String?
    @Option(
        name: .customLong("model"),
        help: ArgumentHelp(
            "Also fit this model across the thread counts and judge it held out against each count's own fit (alpha, alpha-channels, data-movement, tensor-bytes, gemm-work, flops); repeat for several.",
            valueName: "model"))
    var models: [FitModel] = []
    @Option(help: "With --model: folds of configurations.")
    var folds: Int = 5
    @Option(help: "With --model: the seed of the folds.")
    var seed: UInt64 = 1
    @OptionGroup var caches: CachesOption
    @OptionGroup var filtering: RowFilterOptions

    func validate() throws {
        guard folds >= 2 else { throw ValidationError("--folds needs at least 2, got \(folds)") }
    }

    func run() throws {
        try requireIntactPackage(input)
        let scaling = try reportingErrors {
            let rows: [MeasurementRow]
            do { rows = try MeasurementSource.rows(at: input) } catch { throw InputError(description: "\(error)") }
            let scaling = ThreadScaling(rows: rows)
            guard !scaling.points.isEmpty else {
                throw InputError(
                    description:
                        "\(input): no configuration measured at one thread and at more (run with --threads 1,2)")
            }
            return scaling
        }
        print(Self.report(scaling))
        if !models.isEmpty {
            let judgements = try reportingErrors { () -> [ThreadCountJudgement] in
                let dataset = try FitDataset.load(paths: [input], excluding: try filtering.filters())
                let setting = try caches.setting(inputs: [input])
                return try models.map { model in
                    var options = FitOptions(model: model, loss: .relative, seed: seed)
                    options.workSetting = setting
                    return try SerialShareFitter(options: options).judge(dataset, folds: folds, seed: seed)
                }
            }
            for judgement in judgements { print("\n" + Self.report(judgement)) }
        }
        if let csv { try write(Data(scaling.csv.utf8), to: csv) }
        if let seriesCSV { try write(Data(scaling.seriesCSV.utf8), to: seriesCSV) }
    }

    /// A model fitted across counts against each count's own fit, and its serial shares, as text.
    static func report(_ judgement: ThreadCountJudgement) -> String {
        func number(_ x: Double) -> String { String(format: "%.1f", x) }
        func right(_ text: String, _ width: Int) -> String { column(text, width, right: true) }
        var lines = [
            "\(judgement.model.rawValue) across thread counts (\(formName(judgement.fit.form))), \(judgement.configurations) configurations, \(judgement.folds) folds of configurations:",
            right("p", 5) + right("n", 7) + right("own fit: MAPE", 16) + right("±10%", 7)
                + right("across counts: MAPE", 22)
                + right("±10%", 7) + right("floor ±10%", 12) + "   better",
        ]
        for count in judgement.heldOut {
            lines.append(
                right("\(count.threads)", 5) + right("\(count.perCount.n)", 7)
                    + right(number(count.perCount.mapePercent), 16) + right(number(count.perCount.within10Percent), 7)
                    + right(number(count.acrossCounts.mapePercent), 22)
                    + right(number(count.acrossCounts.within10Percent), 7)
                    + right(count.noiseFloor.map { number($0.within10Percent) } ?? "–", 12) + "   \(count.better)")
        }
        for left in judgement.countLeftOut {
            lines.append(
                "  \(left.threads) threads left out (fitted on \(left.fittedOn.map(String.init).joined(separator: ", "))): MAPE \(number(left.acrossCounts.mapePercent))%, \(number(left.acrossCounts.within10Percent))% within ±10%"
            )
        }
        if judgement.countLeftOut.isEmpty {
            lines.append("  (no count left out: that needs three counts or more)")
        }
        lines.append(
            "  (floor: what a perfect model reaches given the rows' between-round spread at that count)")
        for group in judgement.fit.groups {
            switch judgement.fit.form {
            case .dimensions:
                let slopes = SerialShareFit.shareNames.dropFirst().map {
                    "\($0) \(String(format: "%+.3f", group.share[$0] ?? 0))"
                }
                lines.append(
                    "  \(group.group): serial share of the geometric-mean layer \(String(format: "%.3f", group.centreShare)); \(slopes.joined(separator: ", "))"
                )
            case .work, .team:
                lines.append(
                    "  \(group.group): serial share of each kind of work (rates above 0): \(group.workShares(of: judgement.model))"
                )
            }
            for note in group.notes {
                lines.append("    \(note)")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// `text` in `width` characters (clipped), padded on the left when `right`, else on the right.
    static func column(_ text: String, _ width: Int, right: Bool = false) -> String {
        let clipped = String(text.prefix(width))
        let pad = String(repeating: " ", count: max(0, width - clipped.count))
        return right ? pad + clipped : clipped + pad
    }

    /// The summary and dependence tables as text.
    static func report(_ scaling: ThreadScaling) -> String {
        func number(_ x: Double) -> String { x.isNaN ? "–" : String(format: "%.2f", x) }
        var lines = [
            column("experiment", 20) + column("series", 24) + column("p", 4, right: true) + column("n", 6, right: true)
                + column("median", 8, right: true) + column("min", 7, right: true) + column("max", 7, right: true)
                + column("efficiency", 12, right: true)
        ]
        for s in scaling.seriesSummaries {
            lines.append(
                column(s.experiment, 20) + column(s.series, 24) + column("\(s.threads)", 4, right: true)
                    + column("\(s.configurations)", 6, right: true) + column(number(s.medianSpeedup), 8, right: true)
                    + column(number(s.minSpeedup), 7, right: true) + column(number(s.maxSpeedup), 7, right: true)
                    + column(number(s.medianEfficiency), 12, right: true))
        }
        lines.append("")
        lines.append("Spearman's rho of the speedup against where the FLOPs sit:")
        lines.append(
            column("p", 4, right: true) + column("dimension", 11, right: true) + column("n", 6, right: true)
                + column("rho", 8, right: true))
        for d in scaling.dependence() {
            lines.append(
                column("\(d.threads)", 4, right: true) + column(d.dimension, 11, right: true)
                    + column("\(d.configurations)", 6, right: true) + column(number(d.rho), 8, right: true))
        }
        if scaling.unpaired > 0 {
            lines.append("\(scaling.unpaired) row(s) at more than one thread have no one-thread row and are left out.")
        }
        return lines.joined(separator: "\n")
    }
}

/// How `speedup` names a serial-share form.
private func formName(_ form: SerialShareFit.Form) -> String {
    switch form {
    case .dimensions: return "serial share by dimensions"
    case .work: return "serial share by kind of work"
    case .team: return "serial share by kind of work, the rest divided as the kernels share the layer"
    }
}
