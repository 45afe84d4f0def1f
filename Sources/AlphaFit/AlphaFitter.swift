import Basics
import Foundation

/// Fits a model to a dataset, group by group: bounded Levenberg–Marquardt from several starts,
/// keeping the lowest sum of squares, with diagnostics.
public struct AlphaFitter: Sendable {
    /// How to fit.
    public var options: FitOptions
    /// A pull toward another fit's values (a recalibration's base fit), or nil.
    var anchor: Anchor?

    /// A fitter with `options`.
    public init(options: FitOptions = FitOptions()) { self.options = options }

    /// The other fit's parameters as a prior: the fit minimises its loss plus
    /// `strength` · E · Σₖ ((xₖ − cₖ)/cₖ)² over the parameters free to move whose center cₖ is
    /// neither 0 nor undefined, but the discrete ones (tiles the rows choose alone), E the loss of predicting every row as 0 (Σ wᵢ²yᵢ²: the number of
    /// rows under the relative loss), so that the strength weighs a parameter's squared relative
    /// move against the mean squared (relative) error of the rows, whatever the loss. Ridge
    /// regression toward the other machine's values, in their own units.
    struct Anchor: Sendable {
        /// Every parameter's center, in the model's order.
        var center: [Double]
        /// λ ≥ 0.
        var strength: Double
    }

    /// Fits every group of `dataset`.
    ///
    /// - Throws: `FitInputError` for invalid options (a bound excluding the start), no rows,
    ///   an empty K = 1 or K > 1 group under `k1-rest`, a group with fewer rows than parameters,
    ///   or a group where no start gives a finite sum of squares.
    public func fit(_ dataset: FitDataset, excluded: [RowFilter]? = nil) throws -> FitReport {
        if let problem = dataset.threadCountProblem { throw problem }
        let inputName = dataset.inputs.map(\.path).joined(separator: ", ")
        let fits = try fitGroups(dataset.rows, inputName: inputName.isEmpty ? "data" : inputName)
        return FitReport(
            model: options.model, grouping: options.grouping,
            flopsConvention: options.flopsConvention, fits: fits, options: options,
            inputs: dataset.inputs, excluded: excluded)
    }

    /// Splits rows into groups by K, in ascending K.
    func groups(_ rows: [FitRow], inputName: String) throws -> [(name: String, rows: [FitRow])] {
        guard !rows.isEmpty else { throw FitInputError(input: inputName, "no rows to fit (after filters)") }
        var byName: [String: [FitRow]] = [:]
        var order: [(Int, String)] = []
        for row in rows {
            let name = options.grouping.groupName(for: row.shape)
            if byName[name] == nil { order.append((options.grouping.groupOrder(for: row.shape), name)) }
            byName[name, default: []].append(row)
        }
        // k1-rest fits dense K = 1 and K > 1 apart: data with dense layers needs both (grouped and
        // fully-connected layers are groups of their own, present or not).
        if options.grouping == .k1Rest, byName["K=1"] != nil || byName["K>1"] != nil {
            for name in ["K=1", "K>1"] where byName[name] == nil {
                throw FitInputError(
                    input: inputName, column: "K1,K2",
                    "the group \(name) is empty: k1-rest fits K = 1 and K > 1 separately (group per-k for data with one kind)"
                )
            }
        }
        for (name, members) in byName {
            let points = members.map { options.point($0.shape) }
            let p = options.model.parameterCount - options.model.heldFixed(over: points).count
            guard members.count < p else { continue }
            throw FitInputError(
                input: inputName, row: members[0].row, column: "K1,K2",
                "the group \(name) has \(members.count) row(s), fewer than the \(p) parameters of the \(options.model.rawValue) model"
            )
        }
        return order.sorted { $0.0 < $1.0 }.map { ($0.1, byName[$0.1]!) }
    }

    /// Fits every group of `rows`; a group named in `starts` is fitted from that start alone.
    func fitGroups(_ rows: [FitRow], inputName: String, starts: [String: [Double]] = [:]) throws -> [GroupFit] {
        try options.validate()
        return try groups(rows, inputName: inputName).map {
            try fitGroup(name: $0.name, rows: $0.rows, inputName: inputName, start: starts[$0.name])
        }
    }

    /// The rows of one group reduced to sufficient statistics.
    ///
    /// Every model is T = c(x; point) · FLOPs, where c depends on a point only through S, S_K,
    /// (alpha-channels) 1/Cout and 1/(K·Cin), (data-movement) bytes/FLOPs and 1/FLOPs, or
    /// (tensor-bytes) each tensor's bytes/FLOPs and 1/FLOPs. Rows sharing those ("a class" j) share c_j, so with
    /// weights w (1, or 1/measured for the relative loss)
    ///   Σ_class wᵢ²(c_j·Fᵢ − yᵢ)² = A_j·(c_j − B_j/A_j)² + (C_j − B_j²/A_j),
    ///   A_j = Σwᵢ²Fᵢ², B_j = Σwᵢ²Fᵢyᵢ, C_j = Σwᵢ²yᵢ².
    /// The solver therefore minimises the exactly equivalent problem with one residual per class,
    /// √A_j·c_j − B_j/√A_j, plus the constant offset Σ(C_j − B_j²/A_j): same minimiser, same JᵀJ,
    /// same gradient, at a cost per iteration proportional to the number of classes instead of
    /// rows (a measured grid repeats few (S, K) pairs).
    struct Classes {
        var points: [ModelPoint] = []  // flops = 1
        var a: [Double] = [], b: [Double] = []
        var offset = 0.0
        /// Σ wᵢ²yᵢ²: the loss of predicting every row as 0 (the anchor's unit).
        var energy = 0.0
    }

    func classes(_ rows: [FitRow]) -> Classes {
        var index: [[Double]: Int] = [:]
        var result = Classes()
        var c: [Double] = []
        for row in rows {
            var point = options.point(row.shape)
            let flops = point.flops
            point.flops = 1
            let key = options.model.classFeatures(of: point)
            let j: Int
            if let existing = index[key] {
                j = existing
            } else {
                j = result.points.count
                index[key] = j
                result.points.append(point)
                result.a.append(0)
                result.b.append(0)
                c.append(0)
            }
            let w = options.loss == .relative ? 1 / row.timeMs : 1
            result.a[j] += w * w * flops * flops
            result.b[j] += w * w * flops * row.timeMs
            c[j] += w * w * row.timeMs * row.timeMs
        }
        for j in c.indices { result.offset += max(0, c[j] - result.b[j] * result.b[j] / result.a[j]) }
        result.energy = c.reduce(0, +)
        return result
    }

    /// The least-squares problem of one group, on its classes (see `Classes`), with one more
    /// residual per anchored parameter (see ``Anchor``).
    func problem(_ classes: Classes) -> LeastSquaresProblem {
        let model = options.model
        let p = model.parameterCount
        let points = classes.points
        let root = classes.a.map { $0.squareRoot() }
        let target = zip(classes.b, root).map { $0 / $1 }
        let m = points.count
        let bounds = options.effectiveBounds
        // The anchored parameters (index, center, weight of a relative move); a discrete one (a
        // tile) is chosen by the rows alone, never pulled.
        let discrete = Set(model.discreteParameterNames)
        let anchored: [(k: Int, center: Double, weight: Double)] =
            anchor.map { anchor in
                let weight = (anchor.strength * classes.energy).squareRoot()
                return (0..<p).compactMap { k in
                    let c = anchor.center[k]
                    guard c.isFinite, c != 0, bounds[k].lowerBound < bounds[k].upperBound, weight > 0,
                        !discrete.contains(model.parameterNames[k])
                    else { return nil }
                    return (k, c, weight / abs(c))
                }
            } ?? []
        let rows = m + anchored.count
        return LeastSquaresProblem(
            residualCount: rows, offset: classes.offset,
            lower: bounds.map(\.lowerBound), upper: bounds.map(\.upperBound),
            residuals: { x, r in
                var sse = 0.0
                // Through a buffer: an array's subscript would copy each point (and retain what
                // it holds) at every evaluation.
                points.withUnsafeBufferPointer { points in
                    for j in 0..<m {
                        let rj = root[j] * model.predict(points[j], x) - target[j]
                        r[j] = rj
                        sse += rj * rj
                    }
                }
                for (i, a) in anchored.enumerated() {
                    r[m + i] = a.weight * (x[a.k] - a.center)
                    sse += r[m + i] * r[m + i]
                }
                return sse
            },
            jacobian: { x, r, jac in
                var sse = 0.0
                var gradient = [Double](repeating: 0, count: p)
                gradient.withUnsafeMutableBufferPointer { g in
                    points.withUnsafeBufferPointer { points in
                        for j in 0..<m {
                            let c = model.predict(points[j], x, gradient: g.baseAddress!)
                            let rj = root[j] * c - target[j]
                            r[j] = rj
                            sse += rj * rj
                            for k in 0..<p { jac[j + k * rows] = g[k] * root[j] }
                        }
                    }
                }
                for (i, a) in anchored.enumerated() {
                    r[m + i] = a.weight * (x[a.k] - a.center)
                    sse += r[m + i] * r[m + i]
                    for k in 0..<p { jac[m + i + k * rows] = k == a.k ? a.weight : 0 }
                }
                return sse
            })
    }

    /// The starts: the deterministic one as given, then `options.starts` seeded uniform draws in
    /// the box (the same draws for every group). In a drawn start, `final`, which the model is
    /// linear in, is replaced by its least-squares value given the other drawn parameters
    /// (clamped to its bounds): a uniform draw of a scale factor over [0, 2] is mostly orders of
    /// magnitude off, and would only cost iterations to undo.
    func startingPoints(_ classes: Classes) -> [[Double]] {
        var generator = SeededGenerator(seed: options.seed)
        let bounds = options.effectiveBounds
        var starts = [options.effectiveStart]
        for _ in 0..<options.starts {
            var x = bounds.map { Double.random(in: $0, using: &generator) }
            guard let finalIndex = options.model.scaleIndex else {
                starts.append(x)
                continue
            }
            var unit = x
            unit[finalIndex] = 1
            var num = 0.0
            var den = 0.0
            for j in classes.points.indices {
                let c = options.model.predict(classes.points[j], unit)
                num += c * classes.b[j]
                den += c * c * classes.a[j]
            }
            if num.isFinite && den > 0 {
                x[finalIndex] = min(max(num / den, bounds[finalIndex].lowerBound), bounds[finalIndex].upperBound)
            }
            starts.append(x)
        }
        return starts
    }

    func fitGroup(name: String, rows: [FitRow], inputName: String, start: [Double]? = nil) throws -> GroupFit {
        let classes = classes(rows)
        // gemm-work's held rates come with their reasons, which the notes carry.
        let held =
            options.model == .gemmWork
            ? GemmWorkModel.heldFixed(over: classes.points, form: options.gemmWorkForm) : nil
        var fixed = held?.mapValues(\.value) ?? options.model.heldFixed(over: classes.points)
        // A parameter pinned by its bounds (a recalibration keeping it) keeps the caller's value,
        // whatever the rows would hold it at (a few rows would hold gemm-work's levels at 1).
        let bounds = options.effectiveBounds
        for (k, range) in bounds.enumerated() where range.lowerBound == range.upperBound {
            fixed[k] = range.lowerBound
        }
        // A gemm-work group of fewer distinct layers than rates holds its second-order rates (the
        // small-matrix kernel's dot path, the exposed output, the packed weights from memory) at 0
        // before it is refused.
        var tooFewNotes: [String] = []
        if options.model == .gemmWork, anchor == nil {
            let free = (0..<options.model.parameterCount).filter { fixed[$0] == nil }
            if classes.points.count < free.count {
                for index in [GemmWorkModel.smallDot, GemmWorkModel.outputExposed, GemmWorkModel.packedWeightsMemory]
                where fixed[index] == nil {
                    fixed[index] = 0
                    tooFewNotes.append(
                        "\(options.model.parameterNames[index]) held at 0: the group has \(classes.points.count) distinct layers, fewer than its \(free.count) free rates"
                    )
                }
            }
        }
        // An anchor determines every parameter it pulls, whatever the rows.
        let fitted = (0..<options.model.parameterCount).filter { fixed[$0] == nil }
        guard anchor != nil || classes.points.count >= fitted.count else {
            throw FitInputError(
                input: inputName, row: rows[0].row, column: "K1,K2",
                "the group \(name) has \(classes.points.count) distinct point(s) of the \(options.model.rawValue) model's features, fewer than its \(fitted.count) parameters: a feature is constant over the group, so the model cannot be fitted there"
            )
        }
        var notes: [String] = []
        var chosen: Set<String> = []
        if let held {
            notes = held.keys.sorted().compactMap { held[$0]!.reason } + tooFewNotes
            let search = try chooseTiles(classes, fixed: fixed, start: start, group: name, inputName: inputName)
            for (index, tile) in search.tiles { fixed[index] = tile }
            notes += search.notes
            var chosenTiles = options.effectiveStart
            for (index, tile) in search.tiles { chosenTiles[index] = tile }
            for (index, reason) in GemmWorkModel.ratesWithoutWork(classes.points, chosenTiles) where fixed[index] == nil
            {
                fixed[index] = 0
                notes.append(reason)
            }
            chosen = Set(search.chosen.map { options.model.parameterNames[$0] })
            // Three cache levels are the model as written, not a value held for want of data.
            if fixed[GemmWorkModel.cacheLevels] == 3 { chosen.insert("cacheLevels") }
            // So are the form's constants.
            chosen.formUnion(options.model.formConstantNames)
        }
        // Anchored (a recalibration from few rows), what the rows cannot tell keeps the anchor's
        // value: a rate no calibration row exercises is the other machine's, scaled, not 0. A tile
        // the rows chose is theirs.
        if let anchor {
            let names = options.model.parameterNames
            for k in fixed.keys
            where bounds[k].lowerBound < bounds[k].upperBound && anchor.center[k].isFinite && !chosen.contains(names[k])
            {
                fixed[k] = anchor.center[k]
            }
        }
        let free = (0..<options.model.parameterCount).filter { fixed[$0] == nil }
        let problem = problem(classes).holding(fixed)
        let solver = LevenbergMarquardt()
        // gemm-work is linear in its free parameters: one start reaches its unique optimum.
        let starts =
            start.map { [$0] } ?? (options.model == .gemmWork ? [options.effectiveStart] : startingPoints(classes))
        let solutions = starts.compactMap { full in
            solver.minimize(problem, from: free.map { full[$0] })
        }
        guard let best = solutions.min(by: { $0.sumOfSquares < $1.sumOfSquares }) else {
            throw FitInputError(
                input: inputName, column: "K1,K2", "group \(name): the model is undefined at every start")
        }
        let reaching = solutions.filter {
            abs($0.sumOfSquares - best.sumOfSquares) <= 1e-9 * max(best.sumOfSquares, .leastNormalMagnitude)
        }.count
        var diagnostics = diagnose(problem, rows: rows, best: best, fixed: fixed)
        diagnostics.startsTried = solutions.count
        diagnostics.startsReachingBest = reaching
        diagnostics.warnings += notes
        let names = options.model.parameterNames
        let parameters = LeastSquaresProblem.expand(best.parameters, holding: fixed, count: names.count)
        let heldNames = fixed.keys.sorted().map { names[$0] }.filter { !chosen.contains($0) }
        return GroupFit(
            group: name, parameters: Dictionary(uniqueKeysWithValues: zip(names, parameters)),
            n: rows.count, diagnostics: diagnostics, fixed: heldNames.isEmpty ? nil : heldNames)
    }

    /// The gemm-work model's discrete parameters for one group (its register tiles and the
    /// small-matrix kernel's limit): every combination of their candidates is tried, the rates
    /// solved for each from the deterministic start (or `start`), and the one of the lowest sum
    /// of squares kept — an exhaustive search, so the choice does not depend on an order. A
    /// parameter whose every candidate fits alike at that choice cannot be told from the data: it
    /// is held at ``GemmWorkModel/undeterminedValue(_:)`` and a note says so. A parameter pinned
    /// by its bounds (a recalibration that keeps it) is not searched. Returns the values
    /// (parameter index → value), the indices the data chose and the notes.
    func chooseTiles(
        _ classes: Classes, fixed: [Int: Double], start: [Double]?, group: String, inputName: String
    ) throws -> (tiles: [Int: Double], chosen: [Int], notes: [String]) {
        var held = fixed
        let solver = LevenbergMarquardt()
        let from = start ?? options.effectiveStart
        let whole = problem(classes)  // every candidate holds other parameters of the same problem
        func sse(_ values: [Int: Double]) -> Double {
            var trial = held
            for (k, v) in values { trial[k] = v }
            var p = from
            for (k, v) in trial { p[k] = v }
            for (index, _) in GemmWorkModel.ratesWithoutWork(classes.points, p) { trial[index] = 0 }
            let free = (0..<options.model.parameterCount).filter { trial[$0] == nil }
            // Linear in the rates once the discrete parameters are held: each layer's features
            // computed once, not at every step of the solver.
            let x0 = free.map { from[$0] }
            guard let linear = whole.holding(trial).linearised(at: x0) else { return .infinity }
            return solver.minimize(linear, from: x0)?.sumOfSquares ?? .infinity
        }
        let order = [GemmWorkModel.positionsTile, GemmWorkModel.channelsTile, GemmWorkModel.smallCallLimit]
        // A parameter pinned by its bounds is already held at its value (see `fitGroup`).
        let searched = order.filter {
            let bounds = options.effectiveBounds[$0]
            return bounds.lowerBound < bounds.upperBound
        }
        // Every combination of the searched parameters' candidates.
        var combinations: [[Int: Double]] = [[:]]
        for index in searched {
            combinations = combinations.flatMap { partial in
                GemmWorkModel.candidates[index]!.map { partial.merging([index: Double($0)]) { $1 } }
            }
        }
        let sums = combinations.map(sse)
        guard let best = sums.indices.min(by: { sums[$0] < sums[$1] }), sums[best].isFinite else {
            throw FitInputError(
                input: inputName, column: "K1,K2", "group \(group): the model is undefined at every tile")
        }
        let choice = combinations[best]
        for (index, value) in choice { held[index] = value }
        // A parameter every candidate of which fits alike, the others at the choice, is undetermined.
        var undetermined: Set<Int> = []
        for index in searched {
            let alike = GemmWorkModel.candidates[index]!.map { candidate in
                sse(choice.merging([index: Double(candidate)]) { $1 })
            }
            if alike.max()! - alike.min()! <= 1e-12 * max(sums[best], .leastNormalMagnitude) {
                undetermined.insert(index)
                held[index] = GemmWorkModel.undeterminedValue(index)
            }
        }
        let names = options.model.parameterNames
        let notes = order.filter(undetermined.contains).map { index in
            if index == GemmWorkModel.smallCallLimit {
                return
                    "\(names[index]) could not be determined and is held at 0 (no small-matrix kernel): no call of the group's layers is small enough for one, or every candidate fits alike"
            }
            let dimension = index == GemmWorkModel.positionsTile ? "output positions (m)" : "output channels (n)"
            let list = GemmWorkModel.candidates[index]!.map(String.init).joined(separator: ", ")
            return
                "\(names[index]) could not be determined and is held at 1: every candidate (\(list)) fits the group's layers alike (their \(dimension) pad alike, e.g. all multiples of the largest)"
        }
        return (
            Dictionary(uniqueKeysWithValues: order.map { ($0, held[$0]!) }),
            searched.filter { !undetermined.contains($0) }, notes
        )
    }

    /// The diagnostics of `best`, a solution of `problem` (whose parameters are the model's
    /// without those `fixed` holds).
    func diagnose(
        _ problem: LeastSquaresProblem, rows: [FitRow], best: LeastSquaresSolution, fixed: [Int: Double] = [:]
    ) -> FitDiagnostics {
        let n = rows.count
        let p = problem.parameterCount
        let all = options.model.parameterNames
        let free = all.indices.filter { fixed[$0] == nil }
        let names = free.map { all[$0] }
        let m = problem.residualCount
        var r = [Double](repeating: 0, count: m)
        var jac = [Double](repeating: 0, count: m * p)
        _ = problem.jacobian(best.parameters, &r, &jac)
        let points = rows.map { options.point($0.shape) }
        let parameters = LeastSquaresProblem.expand(best.parameters, holding: fixed, count: all.count)
        let predicted = points.map { options.model.predict($0, parameters) }
        let measured = rows.map(\.timeMs)
        let mean = measured.reduce(0, +) / Double(n)
        var sse = 0.0
        var sseAbs = 0.0
        var sst = 0.0
        var ape = 0.0
        for i in 0..<n {
            let e = predicted[i] - measured[i]
            let weighted = options.loss == .relative ? e / measured[i] : e
            sse += weighted * weighted
            sseAbs += e * e
            sst += (measured[i] - mean) * (measured[i] - mean)
            ape += abs(e) / measured[i]
        }
        let gram = LinearAlgebra.normalEquations(jac, rows: m, columns: p, r).gram
        let uncertainty = Self.uncertainty(
            gram: gram, rows: n, sse: sse, parameters: best.parameters, names: names)
        var warnings = uncertainty.warnings
        let bounds = free.map { options.effectiveBounds[$0] }
        for j in 0..<p where best.parameters[j] == bounds[j].lowerBound || best.parameters[j] == bounds[j].upperBound {
            warnings.append(
                "\(names[j]) = \(best.parameters[j]) is on a bound: its standard error and interval assume an unconstrained optimum and are not reliable"
            )
        }
        if best.stopReason == .iterationLimit {
            warnings.append("the best start hit the iteration limit")
        }
        return FitDiagnostics(
            standardErrors: uncertainty.standardErrors, confidence95: uncertainty.intervals, sse: sse,
            rmseMs: (sseAbs / Double(n)).squareRoot(), rSquared: sst > 0 ? 1 - sseAbs / sst : .nan,
            mapePercent: 100 * ape / Double(n), iterations: best.iterations,
            stopReason: best.stopReason, startsTried: 0, startsReachingBest: 0, warnings: warnings)
    }

    /// The standard errors and 95% intervals of `parameters` (named `names`) from the Gram
    /// matrix JᵀJ at the optimum of `rows` residuals summing to `sse`, with the warnings of a
    /// fit the data identify weakly or not at all.
    static func uncertainty(
        gram: [Double], rows n: Int, sse: Double, parameters: [Double], names: [String]
    ) -> (standardErrors: [String: Double]?, intervals: [String: [Double]]?, warnings: [String]) {
        let p = parameters.count
        let d = (0..<p).map { gram[$0 * p + $0].squareRoot() }
        if n <= p {
            return (
                nil, nil, ["not identifiable: \(n) rows for \(p) parameters, no degrees of freedom for the covariance"]
            )
        }
        if d.contains(where: { !($0 > 0) }) {
            let flat = (0..<p).filter { !(d[$0] > 0) }.map { names[$0] }
            return (
                nil, nil,
                [
                    "singular covariance: the data do not depend on \(flat.joined(separator: ", ")) at the optimum (not identifiable)"
                ]
            )
        }
        // Correlation-scaled JᵀJ: its condition number says how well the data identify the model.
        var scaled = gram
        for i in 0..<p { for j in 0..<p { scaled[i + j * p] /= d[i] * d[j] } }
        let eigen = LinearAlgebra.symmetricEigenvalues(scaled, order: p) ?? [0]
        let condition = eigen.last! / max(eigen.first!, 0)
        if !(eigen.first! > 1e-13 * eigen.last!) {
            return (
                nil, nil,
                [
                    "singular covariance: JᵀJ is singular at the optimum (condition number \(condition)); the data cannot identify the model"
                ]
            )
        }
        guard let inverse = LinearAlgebra.invertPositiveDefinite(scaled, order: p) else {
            return (nil, nil, ["singular covariance: Cholesky factorisation of JᵀJ failed"])
        }
        var warnings: [String] = []
        if condition > 1e8 {
            warnings.append(
                String(
                    format:
                        "weakly identifiable: condition number of the scaled JᵀJ is %.3g, parameters are strongly correlated",
                    condition))
        }
        let s2 = sse / Double(n - p)
        let t = Statistics.studentT975(degreesOfFreedom: n - p)
        var se: [String: Double] = [:]
        var ci: [String: [Double]] = [:]
        for j in 0..<p {
            let e = (s2 * inverse[j * p + j]).squareRoot() / d[j]
            se[names[j]] = e
            ci[names[j]] = [parameters[j] - t * e, parameters[j] + t * e]
        }
        return (se, ci, warnings)
    }
}

/// Fits `options.model` to `dataset`: shorthand for `AlphaFitter(options:).fit(_:)`.
public func fit(_ dataset: FitDataset, options: FitOptions = FitOptions()) throws -> FitReport {
    try AlphaFitter(options: options).fit(dataset)
}
