import AlphaFit
import Basics
import ConvKernels
import Foundation
import Rows
import Runner
import Sweeps

/// The non-parametric ceiling of the model table: gradient-boosted trees trained on the same
/// folds as the parametric models (`python/ceiling.py`, scikit-learn in the figure script's
/// virtualenv). It shows how much structure of the times the parametric models leave unexplained.
public enum TreeCeiling {
    /// The model's name in tables and files.
    public static let name = "trees"

    /// What the ceiling gave.
    public enum Outcome: Sendable {
        /// One held-out prediction per row (ms), and the script's description of its model.
        case predictions([Double], model: String)
        /// Why there is no ceiling (no virtualenv, no scikit-learn, the script failed).
        case unavailable(String)
    }

    /// Trains and predicts `rows` fold by fold (`folds[i]` the fold of row i).
    public static func predict(rows: [FitRow], folds: [Int], shippedFiles: ShippedFiles) -> Outcome {
        let outcome = run(rows: rows, folds: folds, shippedFiles: shippedFiles)
        if case .predictions(let values, _) = outcome, !values.allSatisfy({ $0.isFinite && $0 > 0 }) {
            return .unavailable("\(shippedFiles.ceilingScript) wrote a prediction that is not a positive number")
        }
        return outcome
    }

    /// Trains one model on every row of `training` and predicts the layers `query` (a network's),
    /// none of which it sees.
    public static func predict(training: [FitRow], query: [ConvShape], shippedFiles: ShippedFiles) -> Outcome {
        // The query's times are never read: fold -1 is predicted, not trained on.
        let rows = training + query.map { FitRow(shape: $0, timeMs: 1, row: 0) }
        let folds = [Int](repeating: 0, count: training.count) + [Int](repeating: -1, count: query.count)
        switch run(rows: rows, folds: folds, shippedFiles: shippedFiles) {
        case .predictions(let values, let model):
            let predicted = Array(values.suffix(query.count))
            guard predicted.allSatisfy({ $0.isFinite && $0 > 0 }) else {
                return .unavailable("\(shippedFiles.ceilingScript) wrote a prediction that is not a positive number")
            }
            return .predictions(predicted, model: model)
        case .unavailable(let reason): return .unavailable(reason)
        }
    }

    /// Runs the script on `rows` with `folds`; its predictions as written (nan where it gave none).
    static func run(rows: [FitRow], folds: [Int], shippedFiles: ShippedFiles) -> Outcome {
        let python = shippedFiles.python
        let script = shippedFiles.ceilingScript
        if let problem = shippedFiles.problemRunning(script) { return .unavailable(problem) }
        let directory: URL
        do { directory = try SafeFile.makeTemporaryDirectory(prefix: "convsweep-ceiling-") } catch {
            return .unavailable("\(error)")
        }
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            // The layer columns only when a layer needs them: the trees of grid data are unchanged.
            let layer = MeasurementRow.needsLayerColumns(rows.map(\.shape))
            var lines = [
                CSVText.line(
                    ["fold", "H", "W", "Cin", "Cout", "K1", "K2", "batch", "flops", "bytes", "measured_ms"]
                        + (layer ? ConvShape.geometryColumns : []))
            ]
            for (row, fold) in zip(rows, folds) {
                let s = row.shape
                let a = Accounting(shape: s)
                lines.append(
                    CSVText.line(
                        [
                            fold, s.height, s.width, s.inputChannels, s.outputChannels, s.kernelHeight, s.kernelWidth,
                            s.batch,
                        ]
                        .map(String.init) + ["\(a.flops)", "\(a.movedBytes)", "\(row.timeMs)"]
                            + (layer ? s.geometryFields : [])))
            }
            let input = directory.appendingPathComponent("in.csv")
            let output = directory.appendingPathComponent("out.csv")
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: input)
            let (status, text) = try Subprocess.run(python, [script, input.path, output.path])
            guard status == 0 else {
                let reason = text.trimmingCharacters(in: .whitespacesAndNewlines)
                return .unavailable(reason.isEmpty ? "\(script) exited \(status)" : reason)
            }
            let written = try String(contentsOf: output, encoding: .utf8).split(separator: "\n")
            guard written.count == rows.count + 2, written[0].hasPrefix("# ") else {
                return .unavailable("\(script) wrote \(written.count) lines for \(rows.count) rows")
            }
            let values = written.dropFirst(2).map { Double($0) ?? .nan }
            return .predictions(Array(values), model: String(written[0].dropFirst(2)))
        } catch {
            return .unavailable("cannot run \(script): \(error)")
        }
    }
}

/// The model table of a package (`fit/models.json`, `fit/cv-predictions.csv`): every parametric
/// model and the trees, cross-validated on the same folds of the regression sample, with the
/// noise floor.
public struct ModelTable: Codable, Equatable, Sendable {
    /// One model's held-out metrics.
    public struct Entry: Codable, Equatable, Sendable {
        /// `alpha`, `alpha-channels`, `data-movement` or `trees`.
        public var model: String
        /// Parameters per group (nil for the trees).
        public var parametersPerGroup: Int?
        /// Over all rows.
        public var metrics: PredictionMetrics
        /// Per group of the fit's grouping.
        public var groups: [GroupMetrics]
    }

    /// Folds and their seed.
    public var folds: Int
    /// The seed of the folds.
    public var seed: UInt64
    /// The options every parametric model was fitted with (its model aside): loss, grouping,
    /// FLOPs convention, starts, seed.
    public var options: FitOptions
    /// The loss the parametric models were fitted with.
    public var loss: FitLoss { options.loss }
    /// The models, parametric ones first.
    public var entries: [Entry]
    /// What a perfect model would reach (nil: the data carry no between-round spread).
    public var noiseFloor: NoiseFloor?
    /// The range of the sample the table was computed on.
    public var coverage: Coverage
    /// Rows of `data/regression.csv` left out of the table (the oneDNN rows of a package of
    /// several backends); nil for none.
    public var excluded: [RowFilter]?
    /// The trees' model and library, or why there is no ceiling.
    public var ceiling: String

    /// The folds of the package's model table.
    public static let defaultFolds = 5

    /// Cross-validates every parametric model with `options` (its loss and grouping) on
    /// `dataset`, and the trees when the virtualenv allows; returns the table, every row's
    /// held-out predictions (`cv-predictions.csv`), the report and each parametric model's fit to
    /// the whole dataset (what `fit/model-predictions.csv` predicts with).
    public static func build(
        dataset: FitDataset, options: FitOptions, folds: Int = defaultFolds, shippedFiles: ShippedFiles?
    ) throws -> (
        table: ModelTable, predictions: HeldOutPredictions, report: CrossValidationReport, fits: [FitReport]
    ) {
        let fitter = AlphaFitter(options: options)
        let run = try fitter.crossValidate(dataset, folds: folds)
        var entries = run.report.results.map { result in
            Entry(
                model: result.model.rawValue,
                parametersPerGroup: result.model.parameterCount(form: options.gemmWorkForm),
                metrics: result.metrics!, groups: result.groups ?? [])
        }
        var columns = run.predictions
        var ceiling = "not asked for"
        if let shippedFiles {
            switch TreeCeiling.predict(rows: dataset.rows, folds: run.folds, shippedFiles: shippedFiles) {
            case .predictions(let predicted, let model):
                let measured = dataset.rows.map(\.timeMs)
                let names = dataset.rows.map { options.grouping.groupName(for: $0.shape) }
                entries.append(
                    Entry(
                        model: TreeCeiling.name, parametersPerGroup: nil,
                        metrics: PredictionMetrics(measured: measured, predicted: predicted),
                        groups: GroupMetrics.of(
                            measured: measured, predicted: predicted, groupOfRow: names,
                            groups: entries.first?.groups.map(\.group) ?? [])))
                columns.append(predicted)
                ceiling = model
            case .unavailable(let reason):
                ceiling = "unavailable: \(reason)"
            }
        }
        let predictions = HeldOutPredictions(
            models: entries.map(\.model),
            rows: dataset.rows.enumerated().map { i, row in
                HeldOutPredictions.Row(
                    configID: row.carried["config_id"] ?? "", experiment: row.carried["experiment"] ?? "",
                    series: row.carried["series"] ?? "", group: options.grouping.groupName(for: row.shape),
                    k1: row.shape.kernelHeight, k2: row.shape.kernelWidth, flops: Accounting(shape: row.shape).flops,
                    fold: run.folds[i], measuredMs: row.timeMs, predictedMs: columns.map { $0[i] })
            })
        let table = ModelTable(
            folds: folds, seed: run.report.seed, options: options, entries: entries,
            noiseFloor: run.report.noiseFloor, coverage: Coverage(rows: dataset.rows), ceiling: ceiling)
        return (table, predictions, run.report, run.fits)
    }

    /// The range of the regression sample, which bounds what the table says: a layer beyond it is
    /// an extrapolation the held-out errors do not cover.
    public struct Coverage: Codable, Equatable, Sendable {
        /// FLOPs, smallest and largest.
        public var flops: [Double]
        /// H·W, smallest and largest.
        public var spatial: [Int]
        /// Cin and Cout together, smallest and largest.
        public var channels: [Int]
        /// K1·K2, smallest and largest.
        public var taps: [Int]
        /// Rows with K1·K2 = 1 and with K1·K2 > 1.
        public var kernelOneRows: Int, largerKernelRows: Int

        /// The coverage of `rows` (at least one).
        public init(rows: [FitRow]) {
            let shapes = rows.map(\.shape)
            let flops = shapes.map { Accounting(shape: $0).flops }
            let channels = shapes.flatMap { [$0.inputChannels, $0.outputChannels] }
            self.flops = [flops.min()!, flops.max()!]
            spatial = [shapes.map(\.spatialSize).min()!, shapes.map(\.spatialSize).max()!]
            self.channels = [channels.min()!, channels.max()!]
            taps = [shapes.map(\.kernelSize).min()!, shapes.map(\.kernelSize).max()!]
            kernelOneRows = shapes.filter { $0.kernelSize == 1 }.count
            largerKernelRows = shapes.count - kernelOneRows
        }
    }

    /// Whether the trees' row is in the table.
    public var hasCeiling: Bool { entries.contains { $0.model == TreeCeiling.name } }

    /// The table as text, one line a model and group (the terminal's and `fit`'s form).
    public var text: String {
        var lines = [
            "\(folds)-fold cross-validation (seed \(seed), folds stratified by K, \(loss.rawValue) loss), held-out:",
            "  model            group      n   RMSE ms    nRMSE    MAPE   RMSPE   ±5%    ±10%   ±25%",
        ]
        func line(_ model: String, _ group: String, _ m: PredictionMetrics) -> String {
            "  " + model.padding(toLength: 16, withPad: " ", startingAt: 0) + " "
                + group.padding(toLength: 6, withPad: " ", startingAt: 0)
                + String(format: " %6d %9.4g ", m.n, m.rmseMs)
                + (m.nrmse.map { String(format: "%8.4f", $0) } ?? "       –")
                + String(
                    format: " %6.1f%% %6.1f%% %5.1f%% %5.1f%% %5.1f%%", m.mapePercent, m.rmspePercent, m.within5Percent,
                    m.within10Percent, m.within25Percent)
        }
        for entry in entries {
            lines.append(line(entry.model, "all", entry.metrics))
            for group in entry.groups { lines.append(line("", group.group, group.metrics)) }
        }
        if let floor = noiseFloor {
            lines.append(
                String(
                    format:
                        "  noise floor (a perfect model, %d of %d rows with rounds, median noise %.2f%%): MAPE %.1f%%, RMSPE %.1f%%, ±5%% %.1f%%, ±10%% %.1f%%, ±25%% %.1f%%",
                    floor.rowsWithRounds, floor.rows, floor.medianNoisePercent, floor.mapePercent, floor.rmspePercent,
                    floor.within5Percent, floor.within10Percent, floor.within25Percent))
        } else {
            lines.append("  noise floor: unavailable (the rows were measured in one round: no between-round spread)")
        }
        lines.append("  ceiling: \(ceiling)")
        return lines.joined(separator: "\n")
    }

    /// The model table of the package at `root`, with its predictions file, or nil when it has none.
    public static func load(package root: URL) throws -> (table: ModelTable, predictions: HeldOutPredictions)? {
        let path = root.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path.path) else { return nil }
        let table = try PackageLayout.decode(ModelTable.self, fileName, in: root)
        return (
            table,
            try HeldOutPredictions.read(
                from: root.appendingPathComponent(predictionsFileName), name: predictionsFileName)
        )
    }

    /// Where a package keeps the table, and the held-out predictions.
    public static let fileName = "fit/models.json"
    /// The held-out predictions of every model, one row per configuration.
    public static let predictionsFileName = "fit/cv-predictions.csv"

    /// The JSON text (sorted keys, pretty printed).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
