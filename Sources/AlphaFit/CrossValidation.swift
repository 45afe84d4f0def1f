import Foundation

/// How close predictions come to measured times: the metrics of every model table.
///
/// With eᵢ = predictedᵢ − measuredᵢ and rᵢ = eᵢ / measuredᵢ over n rows: RMSE = √(Σeᵢ²/n) in ms,
/// nRMSE = RMSE / (max − min of the measured times), MAPE = 100·Σ|rᵢ|/n, RMSPE = 100·√(Σrᵢ²/n),
/// and the ±5%, ±10% and ±25% accuracies, the percentage of rows with |rᵢ| ≤ 0.05, 0.10, 0.25
/// (nn-Meter's "±10% accuracy").
public struct PredictionMetrics: Codable, Hashable, Sendable {
    /// Rows compared.
    public var n: Int
    /// Root mean squared error, milliseconds.
    public var rmseMs: Double
    /// RMSE over the range of the measured times; nil when they are all equal.
    public var nrmse: Double?
    /// Mean absolute percentage error, percent.
    public var mapePercent: Double
    /// Root mean squared percentage error, percent.
    public var rmspePercent: Double
    /// Percentage of rows predicted within ±5%.
    public var within5Percent: Double
    /// Percentage of rows predicted within ±10%.
    public var within10Percent: Double
    /// Percentage of rows predicted within ±25%.
    public var within25Percent: Double

    /// Whether `other` states the same metrics: the same rows, each figure within `relative` of
    /// the larger or, for a share of rows (±5/10/25%), within `shareSlack` percentage points (a
    /// refit on another CPU's kernels may move a row across a limit).
    public func agrees(with other: PredictionMetrics, relative: Double, shareSlack: Double = 0) -> Bool {
        func same(_ a: Double, _ b: Double, slack: Double = 0) -> Bool {
            a == b || a.isFinite && b.isFinite && abs(a - b) <= max(slack, relative * max(abs(a), abs(b)))
        }
        return n == other.n && same(rmseMs, other.rmseMs) && (nrmse == nil) == (other.nrmse == nil)
            && same(nrmse ?? 0, other.nrmse ?? 0) && same(mapePercent, other.mapePercent)
            && same(rmspePercent, other.rmspePercent) && same(within5Percent, other.within5Percent, slack: shareSlack)
            && same(within10Percent, other.within10Percent, slack: shareSlack)
            && same(within25Percent, other.within25Percent, slack: shareSlack)
    }

    /// The metrics of `predicted` against `measured` (same length, at least one row).
    public init(measured: [Double], predicted: [Double]) {
        precondition(measured.count == predicted.count && !measured.isEmpty)
        var squares = 0.0
        var ape = 0.0
        var spe = 0.0
        var within = [0, 0, 0]
        for (m, p) in zip(measured, predicted) {
            let e = p - m
            let r = e / m
            squares += e * e
            ape += abs(r)
            spe += r * r
            for (k, limit) in [0.05, 0.10, 0.25].enumerated() where abs(r) <= limit { within[k] += 1 }
        }
        let count = Double(measured.count)
        n = measured.count
        rmseMs = (squares / count).squareRoot()
        let range = measured.max()! - measured.min()!
        nrmse = range > 0 ? rmseMs / range : nil
        mapePercent = 100 * ape / count
        rmspePercent = 100 * (spe / count).squareRoot()
        within5Percent = 100 * Double(within[0]) / count
        within10Percent = 100 * Double(within[1]) / count
        within25Percent = 100 * Double(within[2]) / count
    }
}

/// The held-out metrics of one group (or of all rows, `group` = `all`).
public struct GroupMetrics: Codable, Hashable, Sendable {
    /// `all`, `K=1`, `K>1` or `taps=<n>`.
    public var group: String
    /// The metrics over the group's rows.
    public var metrics: PredictionMetrics

    /// The metrics `metrics` of group `group`.
    public init(group: String, metrics: PredictionMetrics) {
        self.group = group
        self.metrics = metrics
    }

    /// The metrics of each group of `groups`, in that order: row i belongs to `groupOfRow[i]`.
    public static func of(
        measured: [Double], predicted: [Double], groupOfRow: [String], groups: [String]
    ) -> [GroupMetrics] {
        groups.map { name in
            let members = groupOfRow.indices.filter { groupOfRow[$0] == name }
            return GroupMetrics(
                group: name,
                metrics: PredictionMetrics(
                    measured: members.map { measured[$0] }, predicted: members.map { predicted[$0] }))
        }
    }
}

/// The accuracy a perfect model would reach, given how much the measured times themselves vary.
///
/// A row measured in n ≥ 2 rounds states the fastest and slowest of the medians it was chosen
/// from (`round_min_ms`, `round_max_ms`). Its relative noise is estimated as
/// σᵢ = (max − min) / d₂(n) / time, d₂ the expected range of n standard normal draws (1.128,
/// 1.693, 2.059, … the control-chart constant). A model that predicts each row's true time exactly
/// still misses the measurement by a relative error of about N(0, σᵢ), so it reaches
/// MAPE = 100·mean(σᵢ·√(2/π)), RMSPE = 100·√mean(σᵢ²) and a ±x accuracy of 100·mean(erf(x/(σᵢ√2))).
/// Rows measured in one round carry no between-round spread; a floor from the spread of runs
/// within one window would be too optimistic (slow phases of a shared machine last longer than a
/// window), so such rows are left out and a dataset without rounds has no floor.
public struct NoiseFloor: Codable, Hashable, Sendable {
    /// Rows with two rounds or more, of all rows.
    public var rowsWithRounds: Int
    /// All rows.
    public var rows: Int
    /// The median of σᵢ, percent.
    public var medianNoisePercent: Double
    /// The perfect model's metrics (RMSE and nRMSE not stated: the floor is relative).
    public var mapePercent: Double
    /// The perfect model's RMSPE, percent.
    public var rmspePercent: Double
    /// The perfect model's ±5% accuracy, percent.
    public var within5Percent: Double
    /// The perfect model's ±10% accuracy, percent.
    public var within10Percent: Double
    /// The perfect model's ±25% accuracy, percent.
    public var within25Percent: Double

    /// d₂(n): the expected range of n independent standard normal draws, n = 2 … 10.
    static let rangeConstants: [Int: Double] = [
        2: 1.128, 3: 1.693, 4: 2.059, 5: 2.326, 6: 2.534, 7: 2.704, 8: 2.847, 9: 2.970, 10: 3.078,
    ]

    /// The floor of `rows`, or nil when none of them carries a between-round spread.
    public init?(rows: [FitRow]) {
        var sigmas: [Double] = []
        for row in rows {
            guard let low = Double(row.carried["round_min_ms"] ?? ""),
                let high = Double(row.carried["round_max_ms"] ?? ""),
                let clean = Int(row.carried["clean_rounds"] ?? ""), let all = Int(row.carried["rounds"] ?? "")
            else { continue }
            // The range is from the fastest round to the slowest clean one, or over all rounds when
            // none was clean (counted as the clean rounds: one fewer where the fastest was not clean).
            let n = min(clean > 0 ? clean : all, 10)
            guard n >= 2, let d2 = NoiseFloor.rangeConstants[n], high >= low else { continue }
            sigmas.append((high - low) / d2 / row.timeMs)
        }
        guard !sigmas.isEmpty else { return nil }
        let count = Double(sigmas.count)
        rowsWithRounds = sigmas.count
        self.rows = rows.count
        medianNoisePercent = 100 * sigmas.sorted()[sigmas.count / 2]
        mapePercent = 100 * sigmas.reduce(0, +) / count * (2 / Double.pi).squareRoot()
        rmspePercent = 100 * (sigmas.map { $0 * $0 }.reduce(0, +) / count).squareRoot()
        func within(_ x: Double) -> Double {
            100 * sigmas.map { $0 > 0 ? erf(x / ($0 * 2.0.squareRoot())) : 1 }.reduce(0, +) / count
        }
        within5Percent = within(0.05)
        within10Percent = within(0.10)
        within25Percent = within(0.25)
    }
}

/// What a cross-validation computed besides its report: each row's fold and, per model, its
/// held-out prediction (the package writes them to `fit/cv-predictions.csv`).
public struct CrossValidationRun: Sendable {
    /// The report (held-out metrics per model and group, the noise floor).
    public var report: CrossValidationReport
    /// The fold of each row of the dataset, 0 ..< folds.
    public var folds: [Int]
    /// Per model, in `report.results` order, the held-out prediction of each row (ms).
    public var predictions: [[Double]]
    /// Per model, in the same order, its fit to every row (the start of the folds' fits).
    public var fits: [FitReport]
}

/// k-fold cross-validation of models on the same folds.
extension AlphaFitter {
    /// The fold of each row: rows are stratified by group and, within a group, by the number of
    /// kernel taps K1·K2 (each stratum shuffled with `seed` and dealt round-robin, the deal
    /// continuing from one K to the next), so every fold holds every K that has at least `folds`
    /// rows and every training set every group.
    ///
    /// - Throws: `FitInputError` for fewer than 2 folds, or a group with fewer rows than folds
    ///   (a training set would lose it).
    public func foldAssignment(_ dataset: FitDataset, folds: Int, seed: UInt64) throws -> [Int] {
        let inputName = dataset.inputs.map(\.path).joined(separator: ", ")
        guard folds >= 2, folds <= 100 else {
            throw FitInputError(input: "cross-validate", "needs from 2 to 100 folds, got \(folds)")
        }
        var generator = SeededGenerator(seed: seed)
        var byGroup: [String: [Int: [Int]]] = [:]
        var groupOrder: [String] = []
        for (i, row) in dataset.rows.enumerated() {
            let name = options.grouping.groupName(for: row.shape)
            if byGroup[name] == nil { groupOrder.append(name) }
            byGroup[name, default: [:]][row.shape.kernelSize, default: []].append(i)
        }
        var fold = [Int](repeating: 0, count: dataset.rows.count)
        for name in groupOrder {
            let strata = byGroup[name]!
            let size = strata.values.map(\.count).reduce(0, +)
            guard size >= folds else {
                throw FitInputError(
                    input: inputName, column: "K1,K2", "group \(name) has \(size) rows, fewer than \(folds) folds")
            }
            var next = 0
            for taps in strata.keys.sorted() {
                for i in strata[taps]!.shuffled(using: &generator) {
                    fold[i] = next % folds
                    next += 1
                }
            }
        }
        return fold
    }

    /// Fits each of `models` (default: every model these options can fit; gemm-work needs their
    /// work setting) on k − 1 folds with these options and predicts the held-out fold, on the
    /// folds of ``foldAssignment(_:folds:seed:)``.
    ///
    /// Each model is first fitted to all rows from every start; each fold's fit then starts from
    /// that optimum alone (a warm start: the training objective is the fold's own, only the
    /// search begins near its likely optimum), which makes the cross-validation of every model
    /// cost about one multi-start fit.
    ///
    /// - Throws: `FitInputError` for too few rows or folds, or anything a fit throws.
    public func crossValidate(
        _ dataset: FitDataset, folds: Int, models: [FitModel]? = nil, seed: UInt64? = nil
    ) throws -> CrossValidationRun {
        let models = models ?? FitModel.allCases.filter(options.canFit)
        let inputName = dataset.inputs.map(\.path).joined(separator: ", ")
        let seed = seed ?? options.seed
        let fold = try foldAssignment(dataset, folds: folds, seed: seed)
        let measured = dataset.rows.map(\.timeMs)
        let groupNames = dataset.rows.map { options.grouping.groupName(for: $0.shape) }
        var results: [CrossValidationResult] = []
        var allPredictions: [[Double]] = []
        var wholeFits: [FitReport] = []
        for model in models {
            var options = self.options
            options.model = model
            if model != self.options.model {
                options.start = nil
                options.bounds = nil
            }
            let whole = try AlphaFitter(options: options).fitGroups(dataset.rows, inputName: inputName)
            wholeFits.append(
                FitReport(
                    model: model, grouping: options.grouping, flopsConvention: options.flopsConvention, fits: whole,
                    options: options))
            var warm = options
            warm.starts = 0
            var predicted = [Double](repeating: .nan, count: dataset.rows.count)
            var foldRmse: [Double] = []
            for k in 0..<folds {
                let training = dataset.rows.indices.filter { fold[$0] != k }.map { dataset.rows[$0] }
                let heldOut = dataset.rows.indices.filter { fold[$0] == k }
                let fits = try AlphaFitter(options: warm).fitGroups(
                    training, inputName: inputName,
                    starts: Dictionary(
                        uniqueKeysWithValues: whole.map { fit in
                            (fit.group, model.parameterNames.map { fit.parameters[$0]! })
                        }))
                let report = FitReport(
                    model: model, grouping: options.grouping, flopsConvention: options.flopsConvention, fits: fits,
                    options: warm)
                var squares = 0.0
                for i in heldOut {
                    predicted[i] = try report.predict(dataset.rows[i].shape)
                    let e = predicted[i] - measured[i]
                    squares += e * e
                }
                foldRmse.append(heldOut.isEmpty ? .nan : (squares / Double(heldOut.count)).squareRoot())
            }
            let overall = PredictionMetrics(measured: measured, predicted: predicted)
            let groups = GroupMetrics.of(
                measured: measured, predicted: predicted, groupOfRow: groupNames, groups: whole.map(\.group))
            results.append(
                CrossValidationResult(
                    model: model, foldRmseMs: foldRmse, rmseMs: overall.rmseMs, mapePercent: overall.mapePercent,
                    metrics: overall, groups: groups))
            allPredictions.append(predicted)
        }
        let report = CrossValidationReport(
            folds: folds, seed: seed, loss: options.loss, results: results, noiseFloor: NoiseFloor(rows: dataset.rows))
        return CrossValidationRun(report: report, folds: fold, predictions: allPredictions, fits: wholeFits)
    }
}
