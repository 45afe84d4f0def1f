import Basics
import ConvKernels
import Foundation
import Sweeps

/// A model fitted across thread counts (``SerialShareFitter``): a base model's time at one thread,
/// of which a share σ stays serial at p threads and the rest divides by p (Amdahl's law), the
/// share depending on where the layer's work sits:
///
///     T(p) = base(layer) · (σ + (1 − σ) / p)
///     σ = 1 / (1 + exp(−(logOdds + perLnPositions · (ln(Hₒ·Wₒ) − c_S) + perLnTaps · (ln(K1·K2) − c_K)
///                        + perLnChannels · (ln(Cin/groups · Cout) − c_C))))
///
/// `logOdds` is the log-odds of the serial share of the group's geometric-mean layer (the centres
/// c are the means of the logs over the group's rows); each slope says how the log-odds move per
/// e-fold of the output positions, the kernel's taps or the channel product — the papers'
/// question (do spatial FLOPs parallelise better?) read as a sign. At p = 1 the factor is 1: the
/// one-thread rows pin the base model, the rows at more threads the share.
public struct SerialShareFit: Codable, Equatable, Sendable {
    /// What the serial share depends on.
    public enum Form: String, Codable, CaseIterable, Sendable {
        /// One share per layer, a logistic function of where its work sits (any base model).
        case dimensions
        /// One share per kind of work (a rate model's rates): T(p) = Σ_k rate_k · work_k ·
        /// (σ_k + (1 − σ_k)/p) — the FLOPs, each operand's bytes, the lowering, the calls
        /// divide among the threads each as far as its own share says.
        case work
        /// As `work`, the part that divides divided as the kernels divide the layer, and a cost per
        /// fork and join of its threads: T(p) = Σ_k rate_k · work_k · (σ_k + (1 − σ_k) · d(p)) +
        /// usPerForkJoin · forkJoins(p), d(p) the share of the layer's work its busiest thread does
        /// (``ConvKernels/KernelWork/busiestShare(threads:smallCallLimit:)``: tiles taken in turn,
        /// calls OpenBLAS runs on one thread), 1/p at best, and forkJoins(p)
        /// (``ConvKernels/KernelWork/forkJoins(threads:smallCallLimit:)``). gemm-work only (its
        /// points know the kernels' work).
        case team

        /// Whether the share is one per kind of work (`work`, `team`).
        public var perWork: Bool { self != .dimensions }

        /// The form for `model`: `team` for gemm-work, `work` for the other models linear in their
        /// rates, `dimensions` for alpha's.
        public static func of(_ model: FitModel) -> Form {
            model == .gemmWork ? .team : model.scaleIndex == nil ? .work : .dimensions
        }
    }

    /// The formula of `form`, as the package README and `docs/analysis.md` print it.
    public static func formula(_ form: Form) -> String {
        switch form {
        case .dimensions: return formula
        case .work:
            return
                "T(p) = Σ over the base model's rates of rate · work · (σ_rate + (1 − σ_rate) / p): each kind of work with a serial share of its own"
        case .team:
            return
                "T(p) = Σ over the base model's rates of rate · work · (σ_rate + (1 − σ_rate) · d(p)) + usPerForkJoin · forkJoins(p): each kind of work with a serial share of its own, d(p) the share of the layer's work its busiest thread does as the kernels share it (tiles taken in turn; a call OpenBLAS runs on one thread: 1), forkJoins(p) how often its threads fork and join"
        }
    }

    /// The formula of the `dimensions` form.
    public static let formula =
        "T(p) = base(layer) · (σ + (1 − σ) / p), σ = logistic(logOdds + perLnPositions · (ln(Hₒ·Wₒ) − c_S) "
        + "+ perLnTaps · (ln(K1·K2) − c_K) + perLnChannels · (ln(Cin/groups · Cout) − c_C))"
    /// The share's parameter names, in vector order after the base model's.
    public static let shareNames = ["logOdds", "perLnPositions", "perLnTaps", "perLnChannels"]
    /// The names of the centres, in the order of the slopes.
    public static let centreNames = ["lnPositions", "lnTaps", "lnChannels"]

    /// One group's fit.
    public struct Group: Codable, Equatable, Sendable {
        /// The group (as the base model's grouping names it).
        public var group: String
        /// The base model's parameters (its discrete ones and those it held, as the one-thread
        /// fit chose them).
        public var parameters: [String: Double]
        /// The share's parameters: ``SerialShareFit/shareNames`` (`dimensions`), or each rate's
        /// serial share by the rate's name (`work`; 0 for a rate that is 0).
        public var share: [String: Double]
        /// The centres of the logs (``SerialShareFit/centreNames``).
        public var centres: [String: Double]
        /// The parameters held instead of fitted (the base's held and discrete ones, a slope whose
        /// dimension does not vary), with the reasons in ``notes``.
        public var fixed: [String]
        /// Why a share parameter was held, or that it ended on its bound (the base model's own
        /// notes are its one-thread fit's).
        public var notes: [String]
        /// Rows fitted.
        public var n: Int
        /// Of those, the rows at more than one thread.
        public var nParallel: Int
        /// The sum of squared (relative or absolute, as the options say) residuals.
        public var sse: Double
        /// Under the `team` form, what one fork and join of the layer's threads costs, µs
        /// (``ConvKernels/KernelWork/forkJoins(threads:smallCallLimit:)``); nil in a fit of
        /// another form or written before 0.15.
        public var usPerForkJoin: Double? = nil

        /// Under the `dimensions` form, the serial share of the group's geometric-mean layer (the
        /// logistic of `logOdds`: every log at its centre).
        public var centreShare: Double { SerialShareFit.logistic(share["logOdds"] ?? 0) }

        /// Under the `work` and `team` forms, `rate σ` for each of `model`'s rates above 0, in its
        /// order, then the fork-join's cost where the fit has one.
        public func workShares(of model: FitModel) -> String {
            let shares = model.parameterNames.compactMap { name -> String? in
                guard let share = share[name], (parameters[name] ?? 0) > 0 else { return nil }
                return "\(name) \(String(format: "%.2f", share))"
            }
            return (shares + (usPerForkJoin.map { ["fork-join \(String(format: "%.1f", $0)) µs"] } ?? []))
                .joined(separator: ", ")
        }
    }

    /// The base model's options (model, grouping, loss, conventions, work setting).
    public var options: FitOptions
    /// What the serial share depends on.
    public var form: Form
    /// The thread counts of the rows fitted.
    public var counts: [Int]
    /// One fit per group.
    public var groups: [Group]

    /// The base model.
    public var base: FitModel { options.model }

    /// The one-thread fit the groups' base parameters make.
    public var baseReport: FitReport {
        FitReport(
            model: options.model, grouping: options.grouping, flopsConvention: options.flopsConvention,
            fits: groups.map { GroupFit(group: $0.group, parameters: $0.parameters) }, options: options)
    }

    /// The group `shape` belongs to.
    func group(of shape: ConvShape) throws -> Group {
        let name = options.grouping.groupName(for: shape)
        guard let group = groups.first(where: { $0.group == name }) else {
            throw FitInputError(
                input: "serial-share fit", column: "K",
                "no fitted group \(name) (groups: \(groups.map(\.group).joined(separator: ", ")))")
        }
        return group
    }

    /// The serial share σ of `shape` (0 … 1): the share of its one-thread time that does not
    /// divide among threads (under the `work` form, its kinds of work's shares weighted by their
    /// one-thread times).
    public func serialShare(_ shape: ConvShape) throws -> Double {
        try time(shape, threads: .infinity) / time(shape, threads: 1)
    }

    /// The predicted time in milliseconds of `shape` on `threads` threads.
    public func predict(_ shape: ConvShape, threads: Int) throws -> Double {
        try time(shape, threads: Double(threads))
    }

    /// The time of `shape` on `p` threads (∞: the serial part alone).
    func time(_ shape: ConvShape, threads p: Double) throws -> Double {
        let group = try group(of: shape)
        switch form {
        case .dimensions:
            let one = try baseReport.predict(shape)
            let c = SerialShareFit.shareNames.map { group.share[$0] ?? 0 }
            let centres = SerialShareFit.centreNames.map { group.centres[$0] ?? 0 }
            let sigma = SerialShareFit.share(c, logs: SerialShareFit.logs(shape), centres: centres)
            return one * (sigma + (1 - sigma) / p)
        case .work, .team:
            let names = base.parameterNames
            let x = try names.map { name in
                guard let value = group.parameters[name] else {
                    throw FitInputError(
                        input: "serial-share fit", column: "groups[\(group.group)].parameters.\(name)", "missing")
                }
                return value
            }
            var work = [Double](repeating: 0, count: names.count)
            let point = baseReport.point(shape)
            let one = work.withUnsafeMutableBufferPointer { base.predict(point, x, gradient: $0.baseAddress!) }
            guard one.isFinite else {
                throw FitInputError(input: "serial-share fit", "the model is undefined for \(shape)")
            }
            let divided = p.isInfinite ? 0 : SerialShareFit.divided(point, threads: Int(p), parameters: x, form: form)
            var time = 0.0
            for (k, name) in names.enumerated() where SerialShareFit.isRate(base, k) {
                let sigma = group.share[name] ?? 0
                time += x[k] * work[k] * (sigma + (1 - sigma) * divided)
            }
            if let cost = group.usPerForkJoin, p.isFinite {
                time += cost * 1e-3 * SerialShareFit.forkJoins(point, threads: Int(p), parameters: x)
            }
            return time
        }
    }

    /// What the part that divides is multiplied by at `threads` threads: 1/p under the `work`
    /// form; under `team`, the share of the layer's work its busiest thread does
    /// (``ConvKernels/KernelWork/busiestShare(threads:smallCallLimit:)``, the small-matrix limit
    /// from gemm-work's `parameters`).
    static func divided(_ point: ModelPoint, threads: Int, parameters: [Double], form: Form) -> Double {
        guard form == .team, let work = point.work else { return 1 / Double(max(1, threads)) }
        return work.busiestShare(
            threads: threads, smallCallLimit: GemmWorkModel.limit(parameters[GemmWorkModel.smallCallLimit]))
    }

    /// The forks and joins of `point`'s threads at `threads` threads
    /// (``ConvKernels/KernelWork/forkJoins(threads:smallCallLimit:)``, the small-matrix limit from
    /// gemm-work's `parameters`); 0 for a point without the kernels' work.
    static func forkJoins(_ point: ModelPoint, threads: Int, parameters: [Double]) -> Double {
        point.work?.forkJoins(
            threads: threads, smallCallLimit: GemmWorkModel.limit(parameters[GemmWorkModel.smallCallLimit])) ?? 0
    }

    /// Whether parameter `k` of the rate model `model` is a rate (its work times it): every
    /// parameter of a rate model but gemm-work's tiles and levels.
    static func isRate(_ model: FitModel, _ k: Int) -> Bool {
        model != .gemmWork || k < GemmWorkModel.positionsTile
    }

    /// ln(Hₒ·Wₒ), ln(K1·K2), ln(Cin/groups · Cout) of `shape`.
    static func logs(_ shape: ConvShape) -> [Double] {
        [
            log(Double(shape.spatialSize)), log(Double(shape.kernelSize)),
            log(Double(shape.inputChannelsPerGroup) * Double(shape.outputChannels)),
        ]
    }

    /// σ for the share parameters `c` at `logs` with `centres`.
    static func share(_ c: [Double], logs: [Double], centres: [Double]) -> Double {
        var z = c[0]
        for k in 0..<3 { z += c[k + 1] * (logs[k] - centres[k]) }
        return logistic(z)
    }

    /// 1 / (1 + e^−z).
    static func logistic(_ z: Double) -> Double {
        1 / (1 + exp(-z))
    }

    /// Checks every group: the base model's parameters and the share's, finite.
    public func validate(source: String) throws {
        try baseReport.validate(source: source)
        if form.perWork, base.scaleIndex != nil {
            throw FitInputError(
                input: source, column: "form",
                "the \(form.rawValue) form needs a rate model; \(base.rawValue) is not one")
        }
        if form == .team, base != .gemmWork {
            throw FitInputError(
                input: source, column: "form",
                "the team form needs gemm-work (the kernels' work); \(base.rawValue) has none")
        }
        for group in groups {
            let names =
                form == .dimensions
                ? SerialShareFit.shareNames
                : base.parameterNames.indices.filter { SerialShareFit.isRate(base, $0) }.map { base.parameterNames[$0] }
            for name in names {
                guard let value = group.share[name], value.isFinite, form == .dimensions || (0...1).contains(value)
                else {
                    throw FitInputError(
                        input: source, column: "groups[\(group.group)].share.\(name)",
                        "missing, non-finite or (a rate's share) outside 0 … 1")
                }
            }
            for name in SerialShareFit.centreNames where form == .dimensions {
                guard let value = group.centres[name], value.isFinite else {
                    throw FitInputError(
                        input: source, column: "groups[\(group.group)].centres.\(name)", "missing or non-finite")
                }
            }
            if let cost = group.usPerForkJoin, !(cost.isFinite && cost >= 0) {
                throw FitInputError(
                    input: source, column: "groups[\(group.group)].usPerForkJoin", "negative or non-finite (\(cost))")
            }
        }
    }
}

/// Fits ``SerialShareFit`` to rows of several thread counts: the base model first on the
/// one-thread rows (its tiles, levels and held parameters chosen there), then its continuous
/// parameters and the share's together on every row, bounded Levenberg–Marquardt from the
/// one-thread fit and the share the rows' median speedup implies.
public struct SerialShareFitter: Sendable {
    /// The base model's options.
    public var options: FitOptions

    /// What the share depends on.
    public var form: SerialShareFit.Form

    /// A fitter of the base model `options.model` whose share has `form` (by default the
    /// base model's: ``SerialShareFit/Form/of(_:)``).
    public init(options: FitOptions, form: SerialShareFit.Form? = nil) {
        self.options = options
        self.form = form ?? .of(options.model)
    }

    /// The fewest rows at more than one thread a group needs for the share's slopes (10 per share
    /// parameter); with fewer, one share for the group.
    public static let rowsForSlopes = 40

    /// The thread count of `row` (its `threads` column; 1 without one).
    public static func threads(of row: FitRow) -> Int { row.carried["threads"].flatMap { Int($0) } ?? 1 }

    /// The configuration of `row` whatever its count: its `config_id` without `@threads=p` (the
    /// row's position when it has no id).
    static func configuration(of row: FitRow) -> String {
        guard let id = row.carried["config_id"] else { return "#\(row.input):\(row.row)" }
        return SweepConfiguration.splitThreads(id).base
    }

    /// Fits `rows` (named `inputName` in errors).
    ///
    /// - Throws: `FitInputError` when the rows have no one-thread row, or anything the base
    ///   model's fit throws.
    public func fit(_ rows: [FitRow], inputName: String) throws -> SerialShareFit {
        if form.perWork, options.model.scaleIndex != nil {
            throw FitInputError(
                input: inputName, column: "model",
                "the \(form.rawValue) form gives each rate a serial share; \(options.model.rawValue) is not a rate model (use the dimensions form)"
            )
        }
        if form == .team, options.model != .gemmWork {
            throw FitInputError(
                input: inputName, column: "model",
                "the team form divides the kernels' work as they share it; \(options.model.rawValue) does not know it (use the work form)"
            )
        }
        let one = rows.filter { SerialShareFitter.threads(of: $0) == 1 }
        guard !one.isEmpty else {
            throw FitInputError(
                input: inputName, column: "threads",
                "no rows at one thread: the serial-share model fits its base model on them")
        }
        let baseFits = try AlphaFitter(options: options).fitGroups(one, inputName: inputName)
        var byGroup: [String: [FitRow]] = [:]
        for row in rows { byGroup[options.grouping.groupName(for: row.shape), default: []].append(row) }
        var groups: [SerialShareFit.Group] = []
        for base in baseFits {
            let members = byGroup[base.group] ?? []
            groups.append(try form.perWork ? fitGroupWork(base, rows: members) : fitGroup(base, rows: members))
        }
        if let stray = byGroup.keys.sorted().first(where: { name in !baseFits.contains { $0.group == name } }) {
            throw FitInputError(
                input: inputName, column: "threads",
                "the group \(stray) has no rows at one thread: its base model cannot be fitted")
        }
        let counts = Set(rows.map(SerialShareFitter.threads(of:))).sorted()
        return SerialShareFit(options: options, form: form, counts: counts, groups: groups)
    }

    /// One group: the base parameters of `base` (its one-thread fit) and the share, on `rows`.
    func fitGroup(_ base: GroupFit, rows: [FitRow]) throws -> SerialShareFit.Group {
        let model = options.model
        let names = model.parameterNames
        let baseCount = names.count
        let start = names.map { base.parameters[$0]! }
        var fixed: [Int: Double] = [:]
        var notes: [String] = []
        let heldNames = Set(base.fixed ?? []).union(model.discreteParameterNames)
        for (index, name) in names.enumerated() where heldNames.contains(name) { fixed[index] = start[index] }

        let points = rows.map { options.point($0.shape) }
        let logs = rows.map { SerialShareFit.logs($0.shape) }
        let counts = rows.map { Double(SerialShareFitter.threads(of: $0)) }
        let weights = rows.map { options.loss == .relative ? 1 / $0.timeMs : 1 }
        let times = rows.map(\.timeMs)
        let centres = (0..<3).map { k in logs.map { $0[k] }.reduce(0, +) / Double(max(1, logs.count)) }
        let parallel = rows.indices.filter { counts[$0] > 1 }

        // The share's start: the median σ the rows at more threads imply against the base.
        var implied: [Double] = []
        for i in parallel {
            let b = model.predict(points[i], start)
            let p = counts[i]
            implied.append((times[i] / b - 1 / p) / (1 - 1 / p))
        }
        let median = implied.isEmpty ? 0.5 : Statistics.median(implied)
        let sigma0 = min(max(median, 0.01), 0.99)
        var shareStart = [log(sigma0 / (1 - sigma0)), 0, 0, 0]
        if parallel.isEmpty {
            for k in 0..<4 { fixed[baseCount + k] = k == 0 ? shareStart[0] : 0 }
            notes.append("the share held: the group has no rows at more than one thread")
        } else if parallel.count < SerialShareFitter.rowsForSlopes {
            for k in 1...3 { fixed[baseCount + k] = 0 }
            notes.append(
                "the share's slopes held at 0: the group has \(parallel.count) row(s) at more than one thread, fewer than \(SerialShareFitter.rowsForSlopes) (10 per share parameter); one share for the group"
            )
        } else {
            let dimensions = ["Hₒ·Wₒ", "K1·K2", "Cin/groups · Cout"]
            for k in 0..<3 {
                let values = parallel.map { logs[$0][k] }
                if values.max()! - values.min()! < 1e-9 {
                    fixed[baseCount + 1 + k] = 0
                    shareStart[k + 1] = 0
                    notes.append(
                        "\(SerialShareFit.shareNames[k + 1]) held at 0: every layer of the group at more than one thread has the same \(dimensions[k])"
                    )
                }
            }
        }

        let bounds = options.effectiveBounds + [-20...20, -10...10, -10...10, -10...10]
        let total = baseCount + 4
        let m = rows.count
        let problem = LeastSquaresProblem(
            residualCount: m, lower: bounds.map(\.lowerBound), upper: bounds.map(\.upperBound),
            residuals: { x, r in
                var sse = 0.0
                let b = Array(x[0..<baseCount])
                let c = Array(x[baseCount...])
                for i in 0..<m {
                    let sigma = SerialShareFit.share(c, logs: logs[i], centres: centres)
                    let f = sigma + (1 - sigma) / counts[i]
                    let ri = weights[i] * (model.predict(points[i], b) * f - times[i])
                    r[i] = ri
                    sse += ri * ri
                }
                return sse
            },
            jacobian: { x, r, jac in
                var sse = 0.0
                let b = Array(x[0..<baseCount])
                let c = Array(x[baseCount...])
                var gradient = [Double](repeating: 0, count: baseCount)
                gradient.withUnsafeMutableBufferPointer { g in
                    for i in 0..<m {
                        let sigma = SerialShareFit.share(c, logs: logs[i], centres: centres)
                        let f = sigma + (1 - sigma) / counts[i]
                        let t = model.predict(points[i], b, gradient: g.baseAddress!)
                        let ri = weights[i] * (t * f - times[i])
                        r[i] = ri
                        sse += ri * ri
                        for k in 0..<baseCount { jac[i + k * m] = weights[i] * f * g[k] }
                        let dShare = weights[i] * t * (1 - 1 / counts[i]) * sigma * (1 - sigma)
                        jac[i + baseCount * m] = dShare
                        for k in 0..<3 { jac[i + (baseCount + 1 + k) * m] = dShare * (logs[i][k] - centres[k]) }
                    }
                }
                return sse
            })
        let (x, sse) = try solve(problem, from: start + shareStart, holding: fixed, group: base.group)
        let allNames = names + SerialShareFit.shareNames
        // An optimum on a bound is the box's, not the data's: said, never silent.
        for index in baseCount..<total where fixed[index] == nil {
            if x[index] <= bounds[index].lowerBound || x[index] >= bounds[index].upperBound {
                notes.append(
                    "\(allNames[index]) = \(x[index]) ends on its bound [\(bounds[index].lowerBound), \(bounds[index].upperBound)]: the data do not determine it"
                )
            }
        }
        return SerialShareFit.Group(
            group: base.group,
            parameters: Dictionary(uniqueKeysWithValues: zip(names, x[0..<baseCount])),
            share: Dictionary(uniqueKeysWithValues: zip(SerialShareFit.shareNames, x[baseCount...])),
            centres: Dictionary(uniqueKeysWithValues: zip(SerialShareFit.centreNames, centres)),
            fixed: fixed.keys.sorted().map { allNames[$0] }, notes: notes,
            n: m, nParallel: parallel.count, sse: sse)
    }

    /// One group under the `work` or `team` form: each free rate split into a serial part a and a
    /// part b that divides, T(p) = Σ work_k · (a_k + b_k · d(p)) (+ c · forkJoins(p) under `team`),
    /// a, b, c ≥ 0 (linear: one optimum), d(p) = 1/p or the busiest thread's share
    /// (``SerialShareFit/divided(_:threads:parameters:form:)``), from the one-thread fit `base`
    /// (its tiles, levels and held rates kept) on `rows`.
    func fitGroupWork(_ base: GroupFit, rows: [FitRow]) throws -> SerialShareFit.Group {
        let model = options.model
        let names = model.parameterNames
        let start = names.map { base.parameters[$0]! }
        let held = Set(base.fixed ?? [])
        let rates = names.indices.filter { SerialShareFit.isRate(model, $0) && !held.contains(names[$0]) }
        let points = rows.map { options.point($0.shape) }
        let counts = rows.map(SerialShareFitter.threads(of:))
        // What the part that divides is multiplied by, row by row (1 at one thread).
        let divided = rows.indices.map {
            SerialShareFit.divided(points[$0], threads: counts[$0], parameters: start, form: form)
        }
        let weights = rows.map { options.loss == .relative ? 1 / $0.timeMs : 1 }
        let times = rows.map(\.timeMs)
        let m = rows.count
        // Each row's work (the model's features) and the time of the rates held, which divides.
        var work: [[Double]] = []
        var heldTime: [Double] = []
        for i in 0..<m {
            var g = [Double](repeating: 0, count: names.count)
            _ = g.withUnsafeMutableBufferPointer { model.predict(points[i], start, gradient: $0.baseAddress!) }
            work.append(rates.map { g[$0] })
            heldTime.append(
                names.indices.filter { SerialShareFit.isRate(model, $0) && held.contains(names[$0]) }
                    .map { start[$0] * g[$0] }.reduce(0, +) * divided[i])
        }
        let parallel = rows.indices.filter { counts[$0] > 1 }
        var notes: [String] = []
        var fixed: [Int: Double] = [:]
        let q = rates.count
        // The team form's last parameter: µs per fork and join, on each row's forks and joins (ms).
        let joins = rows.indices.map {
            form == .team ? 1e-3 * SerialShareFit.forkJoins(points[$0], threads: counts[$0], parameters: start) : 0
        }
        let extra = form == .team ? 1 : 0
        if parallel.isEmpty {
            for k in 0..<q { fixed[k] = 0 }
            if extra > 0 { fixed[2 * q] = 0 }
            notes.append("every rate's share held at 0: the group has no rows at more than one thread")
        } else if extra > 0, !joins.contains(where: { $0 > 0 }) {
            fixed[2 * q] = 0
            notes.append("usPerForkJoin held at 0: no layer of the group forks its threads")
        }
        let bounds = options.effectiveBounds
        let lower =
            rates.map { bounds[$0].lowerBound } + rates.map { bounds[$0].lowerBound }
            + [Double](repeating: 0, count: extra)
        let upper =
            rates.map { bounds[$0].upperBound } + rates.map { bounds[$0].upperBound }
            + [Double](repeating: 1e5, count: extra)
        let problem = LeastSquaresProblem(
            residualCount: m, lower: lower, upper: upper,
            residuals: { x, r in
                var sse = 0.0
                for i in 0..<m {
                    var t = heldTime[i] + (extra > 0 ? x[2 * q] * joins[i] : 0)
                    for k in 0..<q { t += work[i][k] * (x[k] + x[q + k] * divided[i]) }
                    r[i] = weights[i] * (t - times[i])
                    sse += r[i] * r[i]
                }
                return sse
            },
            jacobian: { x, r, jac in
                var sse = 0.0
                for i in 0..<m {
                    var t = heldTime[i]
                    if extra > 0 {
                        t += x[2 * q] * joins[i]
                        jac[i + 2 * q * m] = weights[i] * joins[i]
                    }
                    for k in 0..<q {
                        t += work[i][k] * (x[k] + x[q + k] * divided[i])
                        jac[i + k * m] = weights[i] * work[i][k]
                        jac[i + (q + k) * m] = weights[i] * work[i][k] * divided[i]
                    }
                    r[i] = weights[i] * (t - times[i])
                    sse += r[i] * r[i]
                }
                return sse
            })
        let (x, sse) = try solve(
            problem,
            from: rates.map { 0.3 * start[$0] } + rates.map { 0.7 * start[$0] } + [Double](repeating: 10, count: extra),
            holding: fixed, group: base.group)
        var parameters = Dictionary(uniqueKeysWithValues: zip(names, start))
        var share: [String: Double] = [:]
        for (k, index) in rates.enumerated() {
            let rate = x[k] + x[q + k]
            parameters[names[index]] = rate
            share[names[index]] = rate > 0 ? x[k] / rate : 0
        }
        for index in names.indices where SerialShareFit.isRate(model, index) && held.contains(names[index]) {
            share[names[index]] = 0
        }
        let zero = rates.filter { parameters[names[$0]]! == 0 }.map { names[$0] }
        if !zero.isEmpty {
            notes.append("no share for \(zero.joined(separator: ", ")): the rate is 0 across counts (written 0)")
        }
        return SerialShareFit.Group(
            group: base.group, parameters: parameters, share: share, centres: [:],
            fixed: names.indices.filter { !rates.contains($0) }.map { names[$0] }, notes: notes, n: m,
            nParallel: parallel.count, sse: sse, usPerForkJoin: extra > 0 ? x[2 * q] : nil)
    }

    /// Minimises `problem` from `start` with the parameters `fixed` holds, bounded
    /// Levenberg–Marquardt; returns every parameter and the sum of squares.
    private func solve(
        _ problem: LeastSquaresProblem, from start: [Double], holding fixed: [Int: Double], group: String
    ) throws -> (x: [Double], sse: Double) {
        let free = start.indices.filter { fixed[$0] == nil }
        guard
            let solution = LevenbergMarquardt().minimize(problem.holding(fixed), from: free.map { start[$0] }),
            solution.sumOfSquares.isFinite
        else {
            throw FitInputError(
                input: "serial-share", column: "K1,K2", "group \(group): the model is undefined at its start")
        }
        return (
            LeastSquaresProblem.expand(solution.parameters, holding: fixed, count: start.count), solution.sumOfSquares
        )
    }
}

extension SerialShareFit.Group {
    /// Reads a group as a file holds it. A gemm-work group written before the model gained
    /// parameters reads as it was (``GemmWorkModel/completed(_:)``), each added rate with a
    /// serial share of 0 under a per-rate form (its rate is 0).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        group = try container.decode(String.self, forKey: .group)
        let (parameters, added) = GemmWorkModel.completed(
            try container.decode([String: Double].self, forKey: .parameters))
        self.parameters = parameters
        share = try container.decode([String: Double].self, forKey: .share)
        if share[GemmWorkModel.parameterNames[0]] != nil {
            for name in added where GemmWorkModel.parameterNames.firstIndex(of: name)! < GemmWorkModel.fixed {
                share[name] = share[name] ?? 0
            }
        }
        centres = try container.decode([String: Double].self, forKey: .centres)
        fixed = try container.decode([String].self, forKey: .fixed)
        notes = try container.decode([String].self, forKey: .notes)
        n = try container.decode(Int.self, forKey: .n)
        nParallel = try container.decode(Int.self, forKey: .nParallel)
        sse = try container.decode(Double.self, forKey: .sse)
        usPerForkJoin = try container.decodeIfPresent(Double.self, forKey: .usPerForkJoin)
    }
}
