import ConvKernels
import Foundation

/// Recalibrating a fit for new hardware from a few configurations measured there.
///
/// A fit made on machine A keeps its shape parameters (beta, gamma and, for `alpha-channels`,
/// delta and eta): they describe how time depends on the layer's shape, which the papers find
/// largely shared across devices (rank transfer); the scale `final` (time per FLOP) is what a new
/// machine changes first, and it is refitted per group from the new machine's rows, in closed form
/// under the fit's loss. ``Design`` chooses which configurations to measure.
public enum Recalibration {
    /// The configurations to measure on the new machine: spread over log FLOPs and kernel sizes,
    /// in every group.
    public enum Design {
        /// Chooses `count` of `shapes` (indexes into it), for a fit grouped by `grouping`.
        ///
        /// Each group gets a share of the count proportional to its candidates, at least 2 (K = 1
        /// layers are few but must be covered). Within a group the candidates are sorted by FLOPs
        /// and cut into as many strata of equal size as the group's share; from each stratum the
        /// one whose K is least represented so far is taken (ties: nearest the stratum's median
        /// log FLOPs, then the first), so that FLOPs and K are both spread. Deterministic.
        public static func choose(_ count: Int, from shapes: [ConvShape], grouping: FitGrouping) -> [Int] {
            var groups: [String: [Int]] = [:]
            for (i, shape) in shapes.enumerated() {
                groups[grouping.groupName(for: shape), default: []].append(i)
            }
            let names = groups.keys.sorted()
            var shares: [String: Int] = [:]
            for name in names {
                let proportional = Int((Double(count) * Double(groups[name]!.count) / Double(shapes.count)).rounded())
                shares[name] = min(groups[name]!.count, max(2, proportional))
            }
            // Fit the total to `count`, taking from or giving to the largest group.
            if let largest = names.max(by: { groups[$0]!.count < groups[$1]!.count }) {
                let total = shares.values.reduce(0, +)
                shares[largest] = max(1, min(groups[largest]!.count, shares[largest]! + count - total))
            }
            var chosen: [Int] = []
            for name in names {
                let members = groups[name]!.sorted {
                    Accounting(shape: shapes[$0]).flops < Accounting(shape: shapes[$1]).flops
                }
                let strata = shares[name]!
                var usedK: [Int: Int] = [:]
                for s in 0..<strata {
                    let lower = s * members.count / strata
                    let upper = max(lower + 1, (s + 1) * members.count / strata)
                    let stratum = Array(members[lower..<upper])
                    let middle = log(Accounting(shape: shapes[stratum[stratum.count / 2]]).flops)
                    let pick = stratum.min { a, b in
                        let ka = usedK[shapes[a].kernelSize, default: 0]
                        let kb = usedK[shapes[b].kernelSize, default: 0]
                        if ka != kb { return ka < kb }
                        return abs(log(Accounting(shape: shapes[a]).flops) - middle)
                            < abs(log(Accounting(shape: shapes[b]).flops) - middle)
                    }!
                    usedK[shapes[pick].kernelSize, default: 0] += 1
                    chosen.append(pick)
                }
            }
            return chosen.sorted()
        }
    }

    /// `base` with its scale refitted per group to `rows` (the shape parameters kept), under
    /// the base fit's loss: Σ(t − f·x)² gives f = Σtx / Σx², Σ((f·x − t)/t)² gives
    /// f = Σ(x/t) / Σ(x/t)², x the base model's prediction with final = 1. The scale is `final`
    /// for the alpha models; the models that charge rates (data-movement, tensor-bytes,
    /// gemm-work, flops) have every rate multiplied by f (gemm-work's discrete parameters kept).
    ///
    /// - Parameter setting: for gemm-work, the new machine's caches and workspace limit (the fit
    ///   then charges bytes against them); nil keeps the base fit's.
    /// - Throws: ``FitInputError`` when a group of the base fit has no row.
    public static func refitFinal(_ base: FitReport, to rows: [FitRow], setting: WorkSetting? = nil) throws
        -> FitReport
    {
        var base = base
        if base.model == .gemmWork, let setting { base.options?.workSetting = setting }
        var result = base
        let loss = base.options?.loss ?? .absolute
        let hasFinal = base.model.scaleIndex != nil
        for (index, group) in base.fits.enumerated() {
            let members = rows.filter { base.grouping.groupName(for: $0.shape) == group.group }
            guard !members.isEmpty else {
                throw FitInputError(input: "calibration", "group \(group.group) has no calibration row")
            }
            var unit = group.parameters
            if hasFinal { unit["final"] = 1 }
            let p = base.model.parameterNames.map { unit[$0] ?? .nan }
            var numerator = 0.0
            var denominator = 0.0
            for row in members {
                let x = base.model.predict(base.point(row.shape), p)
                switch loss {
                case .absolute:
                    numerator += row.timeMs * x
                    denominator += x * x
                case .relative:
                    numerator += x / row.timeMs
                    denominator += (x / row.timeMs) * (x / row.timeMs)
                }
            }
            let f = numerator / denominator
            if hasFinal {
                result.fits[index].parameters["final"] = f
            } else {
                for name in refittable(base.model) {
                    result.fits[index].parameters[name]! *= f
                }
            }
            result.fits[index].n = members.count
            result.fits[index].diagnostics = nil
        }
        result.crossValidation = nil
        return result
    }

    /// How far the parameters a recalibration refits may move from the base fit's values.
    public enum Anchoring: Sendable, Hashable {
        /// As far as the rows take them.
        case free
        /// Pulled toward the base fit's values (its scale refitted first) with this strength λ:
        /// the refit minimises its loss plus λ·E·Σ (relative move of a parameter)², E the loss of
        /// predicting every row as 0 (the row count under the relative loss).
        case strength(Double)
        /// Each group's strength chosen from ``candidateStrengths`` by leave-one-out on the
        /// group's calibration rows: each row predicted by a refit of the others, the strength
        /// whose predictions have the least mean loss taken (ties: the stronger).
        case chosen
    }

    /// The strengths ``Anchoring/chosen`` chooses from: 0 (free) and 10⁻⁴ … 10², a decade apart.
    public static let candidateStrengths: [Double] = [0, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100]

    /// The parameters of `model` a recalibration can refit: all but the discrete ones
    /// (``FitModel/discreteParameterNames``: gemm-work's tiles, cache levels and small-matrix limit).
    public static func refittable(_ model: FitModel) -> [String] {
        model.parameterNames.filter { !model.discreteParameterNames.contains($0) }
    }

    /// `base` with the parameters named in `free` refitted per group to `rows` (the others kept)
    /// by the bounded Levenberg–Marquardt from the base fit's values (and 4 seeded starts), under
    /// the base fit's loss and bounds, pulled toward the base fit's values as `anchoring` says;
    /// `final` alone (for the rate models: their common scale) is refitted in closed form
    /// (``refitFinal(_:to:setting:)``). Without an anchor, a group with no more rows than free
    /// parameters keeps all but the scale; with one, the anchor makes every group's fit
    /// determined. The strength used is recorded per group (``GroupFit/anchorStrength``).
    ///
    /// - Throws: ``FitInputError`` for an unknown parameter name, a negative strength or a group
    ///   without rows.
    public static func refit(
        _ base: FitReport, parameters free: Set<String>, to rows: [FitRow], setting: WorkSetting? = nil,
        anchoring: Anchoring = .free
    ) throws -> FitReport {
        let names = base.model.parameterNames
        if let unknown = free.first(where: { !names.contains($0) && $0 != "final" }) {
            throw FitInputError(
                input: "calibration",
                "\(unknown) is not a parameter of the \(base.model.rawValue) model (\(names.joined(separator: ", ")))")
        }
        if case .strength(let strength) = anchoring, !(strength >= 0 && strength.isFinite) {
            throw FitInputError(input: "calibration", "the anchor's strength must be 0 or more (got \(strength))")
        }
        var result = try refitFinal(base, to: rows, setting: setting)
        // For the rate models "final" names the scale, refitted above in closed form.
        let free = names.contains("final") ? free : free.subtracting(["final"])
        guard !free.isEmpty, free != ["final"] else { return result }
        var options =
            result.options ?? FitOptions(model: base.model, grouping: base.grouping, gemmWorkForm: base.gemmWorkForm)
        options.flopsConvention = base.flopsConvention
        options.bytesConvention = base.bytesConvention
        let relative = options.loss == .relative
        for (index, group) in result.fits.enumerated() {
            let members = rows.filter { base.grouping.groupName(for: $0.shape) == group.group }
            if anchoring == .free || anchoring == .strength(0), members.count <= free.count { continue }
            let start = names.map { group.parameters[$0] ?? .nan }
            /// The refit of `rows` anchored with `strength` (0: the free refit).
            func fitted(_ strength: Double, _ rows: [FitRow]) throws -> GroupFit {
                var groupOptions = options
                groupOptions.start = start
                groupOptions.starts = 4
                // Anchored, a parameter the base fit holds at 0 (no layer there did that work)
                // stays 0: there is no value to pull toward, and a few rows would set it alone.
                groupOptions.bounds = zip(names, options.effectiveBounds).enumerated().map { i, pair in
                    free.contains(pair.0) && !(strength > 0 && start[i] == 0)
                        ? [pair.1.lowerBound, pair.1.upperBound] : [start[i], start[i]]
                }
                var fitter = AlphaFitter(options: groupOptions)
                if strength > 0 { fitter.anchor = AlphaFitter.Anchor(center: start, strength: strength) }
                return try fitter.fitGroup(name: group.group, rows: rows, inputName: "calibration")
            }
            let strength: Double
            switch anchoring {
            case .free: strength = 0
            case .strength(let given): strength = given
            case .chosen:
                // Leave-one-out: each row predicted by the refit of the others.
                var best = (strength: candidateStrengths.last!, loss: Double.infinity)
                for candidate in candidateStrengths {
                    if candidate == 0 && members.count - 1 <= free.count { continue }
                    var loss = 0.0
                    for left in members.indices {
                        var others = members
                        let row = others.remove(at: left)
                        // A strength whose refit the rows left cannot determine is not chosen.
                        guard let parameters = try? fitted(candidate, others).parameters else {
                            loss = .infinity
                            break
                        }
                        let predicted = base.model.predict(
                            result.point(row.shape), names.map { parameters[$0] ?? .nan })
                        let miss = relative ? (predicted - row.timeMs) / row.timeMs : predicted - row.timeMs
                        loss += miss * miss
                    }
                    if loss.isFinite, loss <= best.loss { best = (candidate, loss) }
                }
                strength = best.strength
            }
            let fit = try fitted(strength, members)
            result.fits[index].parameters = fit.parameters
            result.fits[index].n = members.count
            result.fits[index].anchorStrength = anchoring == .free ? nil : strength
        }
        return result
    }

    /// Errors of a fit's predictions of `rows`.
    public struct Errors: Codable, Hashable, Sendable {
        /// Rows predicted.
        public var n: Int
        /// Root mean square error, milliseconds.
        public var rmseMs: Double
        /// Mean absolute percentage error, percent.
        public var mapePercent: Double
    }

    /// The errors of `fit`'s predictions of `rows`.
    public static func errors(_ fit: FitReport, on rows: [FitRow]) throws -> Errors {
        errors(predicted: try rows.map { try fit.predict($0.shape) }, measured: rows.map(\.timeMs))
    }

    /// The errors of `predicted` against `measured` (ms, the same order).
    static func errors(predicted: [Double], measured: [Double]) -> Errors {
        var squares = 0.0
        var percents = 0.0
        for (p, t) in zip(predicted, measured) {
            squares += (p - t) * (p - t)
            percents += abs(p - t) / t
        }
        let n = Double(max(measured.count, 1))
        return Errors(n: measured.count, rmseMs: (squares / n).squareRoot(), mapePercent: 100 * percents / n)
    }

    /// One calibration size judged on a new machine's data.
    public struct Evaluation: Codable, Hashable, Sendable {
        /// Configurations measured for the calibration.
        public var count: Int
        /// The base fit, unchanged, on the held-out rows.
        public var base: Errors
        /// The base fit with `final` refitted to the `count` rows, on the held-out rows.
        public var recalibrated: Errors
        /// A full refit on every row of the new machine, on the same held-out rows (rows it was
        /// fitted on: in sample).
        public var fullRefit: Errors
        /// A full refit judged held out: each of the same rows predicted by the fit of the
        /// ``refitFolds`` folds of the new machine's rows that do not hold it (the folds of
        /// `fit --cross-validate`); nil when a group has fewer rows than folds.
        public var fullRefitHeldOut: Errors?
        /// recalibrated RMSE / full refit RMSE.
        public var rmseRatio: Double
    }

    /// The folds of the held-out full refit (``Evaluation/fullRefitHeldOut``): 5, as the
    /// packages' cross-validation.
    public static let refitFolds = 5

    /// For each count: the design's choice of `data`'s rows as the calibration set, the base fit
    /// recalibrated on it (the parameters in `free` refitted), and its errors on the other rows
    /// against a full refit (with the base fit's options) on all of them, in sample and held out
    /// (``refitFolds`` folds).
    public static func evaluate(
        base: FitReport, data: FitDataset, counts: [Int], parameters free: Set<String> = ["final"],
        setting: WorkSetting? = nil, anchoring: Anchoring = .free
    ) throws -> [Evaluation] {
        var options =
            base.options ?? FitOptions(model: base.model, grouping: base.grouping, gemmWorkForm: base.gemmWorkForm)
        if base.model == .gemmWork, let setting { options.workSetting = setting }
        options.flopsConvention = base.flopsConvention
        options.bytesConvention = base.bytesConvention
        if let problem = data.threadCountProblem { throw problem }
        // Each row predicted by the refit of the folds without it (none if a group is too small),
        // and the full refit the cross-validation starts from, which it returns.
        let crossValidation = try? AlphaFitter(options: options).crossValidate(
            data, folds: refitFolds, models: [base.model])
        let full = try crossValidation?.fits[0] ?? AlphaFitter(options: options).fit(data)
        return try counts.map { count in
            guard count < data.rows.count else {
                throw FitInputError(
                    input: "calibration",
                    "\(count) calibration configurations asked, the data has \(data.rows.count): at least one must be held out"
                )
            }
            let chosen = Set(Design.choose(count, from: data.rows.map(\.shape), grouping: base.grouping))
            let calibration = data.rows.indices.filter { chosen.contains($0) }.map { data.rows[$0] }
            let heldOutIndices = data.rows.indices.filter { !chosen.contains($0) }
            let heldOut = heldOutIndices.map { data.rows[$0] }
            let recalibrated = try refit(
                base, parameters: free, to: calibration, setting: setting, anchoring: anchoring)
            let mine = try errors(recalibrated, on: heldOut)
            let theirs = try errors(full, on: heldOut)
            let theirsHeldOut = crossValidation.map { run in
                errors(predicted: heldOutIndices.map { run.predictions[0][$0] }, measured: heldOut.map(\.timeMs))
            }
            return Evaluation(
                count: count, base: try errors(base, on: heldOut), recalibrated: mine, fullRefit: theirs,
                fullRefitHeldOut: theirsHeldOut, rmseRatio: mine.rmseMs / theirs.rmseMs)
        }
    }
}
