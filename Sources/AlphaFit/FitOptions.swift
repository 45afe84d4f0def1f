import Basics
import ConvKernels

/// How rows are split into separately fitted groups by K = K1·K2.
public enum FitGrouping: String, Codable, CaseIterable, Sendable {
    /// One fit for K = 1 and one for K > 1 (both papers).
    case k1Rest = "k1-rest"
    /// One fit per distinct number of kernel taps K1·K2.
    case perK = "per-k"

    /// The group a layer falls into. Dense convolutions (groups 1) of any stride and dilation by
    /// their kernel: `K=1` and `K>1`, or per-k `taps=<n>` (a 3×3 kernel is `taps=9`: in sweeps
    /// and figures K is the kernel's side); grouped and depthwise convolutions apart, `grouped`
    /// (per-k `grouped taps=<n>`); fully-connected layers apart, `FC`. A model of dense
    /// convolutions does not carry over to depthwise or fully-connected layers.
    public func groupName(for shape: ConvShape) -> String {
        if shape.kind == .fullyConnected { return "FC" }
        let k = shape.kernelSize
        let dense: String
        switch self {
        case .k1Rest: dense = k == 1 ? "K=1" : "K>1"
        case .perK: dense = "taps=\(k)"
        }
        guard shape.groups > 1 else { return dense }
        return self == .k1Rest ? "grouped" : "grouped \(dense)"
    }

    /// Where a layer's group comes in the order of groups: dense by kernel taps (K = 1 first),
    /// then grouped, then fully connected.
    public func groupOrder(for shape: ConvShape) -> Int {
        let k = self == .k1Rest ? min(shape.kernelSize, 2) : shape.kernelSize
        if shape.kind == .fullyConnected { return 1 << 40 }
        return shape.groups > 1 ? (1 << 30) + k : k
    }
}

/// What the fit minimises.
public enum FitLoss: String, Codable, CaseIterable, Sendable {
    /// Σ (predicted − measured)², as SciPy's curve_fit.
    case absolute
    /// Σ ((predicted − measured) / measured)²: every point counts alike whatever its scale.
    case relative
}

/// Everything that determines a fit besides the data.
public struct FitOptions: Codable, Hashable, Sendable {
    /// The model to fit.
    public var model: FitModel
    /// How rows are split into groups.
    public var grouping: FitGrouping
    /// What is minimised.
    public var loss: FitLoss
    /// How FLOPs are counted.
    public var flopsConvention: FlopsConvention
    /// How the bytes a layer moves are counted (the data-movement model's memory term).
    public var bytesConvention: BytesConvention
    /// Box bounds, one `[lower, upper]` per parameter; nil = [0, 2] for all.
    public var bounds: [[Double]]?
    /// The deterministic start (always tried); nil = the model's default start.
    public var start: [Double]?
    /// Additional starts drawn uniformly inside the bounds (at most ``maximumStarts``).
    public var starts: Int
    /// The most additional starts a fit may ask for: a fit's cost grows with them, and a hostile
    /// fit.json's `1e9` must be refused, not run for days.
    public static let maximumStarts = 256
    /// Seed of those draws.
    public var seed: UInt64
    /// The measuring machine's cache sizes and the run's workspace limit, which the gemm-work
    /// model's work depends on; nil for the other models (and gemm-work cannot be fitted without).
    public var workSetting: WorkSetting?
    /// The gemm-work model's form (``GemmWorkForm``): ``GemmWorkForm/current`` for a new fit,
    /// ``GemmWorkForm/smallFlops`` for options written before 0.16.0, which lack it.
    public var gemmWorkForm: GemmWorkForm

    /// Options with the replication's defaults unless given.
    public init(
        model: FitModel = .alpha, grouping: FitGrouping = .k1Rest, loss: FitLoss = .absolute,
        flopsConvention: FlopsConvention = .standard, bytesConvention: BytesConvention = .algorithm,
        bounds: [[Double]]? = nil, start: [Double]? = nil, starts: Int = 16, seed: UInt64 = 1,
        workSetting: WorkSetting? = nil, gemmWorkForm: GemmWorkForm = .current
    ) {
        self.workSetting = workSetting
        self.gemmWorkForm = gemmWorkForm
        self.model = model
        self.grouping = grouping
        self.loss = loss
        self.flopsConvention = flopsConvention
        self.bytesConvention = bytesConvention
        self.bounds = bounds
        self.start = start
        self.starts = starts
        self.seed = seed
    }

    /// Reads options as fit.json holds them; options written before the bytes convention was
    /// recorded were fitted under ``BytesConvention/everyKxK``, those before the gemm-work form was
    /// recorded under ``GemmWorkForm/smallFlops``.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decode(FitModel.self, forKey: .model)
        grouping = try container.decode(FitGrouping.self, forKey: .grouping)
        loss = try container.decode(FitLoss.self, forKey: .loss)
        flopsConvention = try container.decode(FlopsConvention.self, forKey: .flopsConvention)
        bytesConvention = try container.decodeIfPresent(BytesConvention.self, forKey: .bytesConvention) ?? .everyKxK
        bounds = try container.decodeIfPresent([[Double]].self, forKey: .bounds)
        start = try container.decodeIfPresent([Double].self, forKey: .start)
        starts = try container.decode(Int.self, forKey: .starts)
        seed = try container.decode(UInt64.self, forKey: .seed)
        workSetting = try container.decodeIfPresent(WorkSetting.self, forKey: .workSetting)
        gemmWorkForm = try container.decodeIfPresent(GemmWorkForm.self, forKey: .gemmWorkForm) ?? .smallFlops
    }

    /// `shape` as the model evaluates it under these options (its work computed for gemm-work).
    func point(_ shape: ConvShape) -> ModelPoint {
        ModelPoint(
            shape: shape, convention: flopsConvention, bytes: bytesConvention,
            setting: model == .gemmWork ? workSetting : nil)
    }

    /// Whether `model` can be fitted under these options: gemm-work needs ``workSetting``.
    public func canFit(_ model: FitModel) -> Bool { model != .gemmWork || workSetting != nil }

    /// Why gemm-work cannot be fitted without a setting, as the error and the notes say it.
    public static let missingWorkSetting =
        "the gemm-work model needs the measuring machine's cache sizes: fit a run directory or package (its manifest records them) or give --caches L2,LLC"

    /// The bounds in effect.
    public var effectiveBounds: [ClosedRange<Double>] {
        bounds.map { $0.map { $0[0]...$0[1] } } ?? model.defaultBounds
    }

    /// The start in effect.
    public var effectiveStart: [Double] { start ?? model.defaultStart }

    /// Checks sizes, bounds and start; throws a `FitInputError` naming the parameter.
    public func validate() throws {
        let names = model.parameterNames
        if model == .gemmWork {
            guard let workSetting else { throw FitInputError(input: "caches", Self.missingWorkSetting) }
            if let problem = workSetting.problem { throw FitInputError(input: "caches", problem) }
        }
        if let bounds {
            guard bounds.count == names.count else {
                throw FitInputError(
                    input: "bounds",
                    "the \(model.rawValue) model has \(names.count) parameters (\(names.joined(separator: ", "))), \(bounds.count) bounds were given"
                )
            }
            for (i, b) in bounds.enumerated() {
                guard b.count == 2, b[0].isFinite, b[1].isFinite, b[0] < b[1] else {
                    throw FitInputError(
                        input: "bounds", column: names[i], "a bound needs finite lower < upper, got \(b)")
                }
            }
        }
        let start = effectiveStart
        guard start.count == names.count else {
            throw FitInputError(
                input: "start",
                "the \(model.rawValue) model has \(names.count) parameters (\(names.joined(separator: ", "))), \(start.count) start values were given"
            )
        }
        for (i, range) in effectiveBounds.enumerated() where !range.contains(start[i]) || !start[i].isFinite {
            throw FitInputError(
                input: "start", column: names[i],
                "the start \(start[i]) lies outside the bounds [\(range.lowerBound), \(range.upperBound)]")
        }
        guard starts >= 0, starts <= FitOptions.maximumStarts else {
            throw FitInputError(
                input: "starts", "the number of starts must be from 0 to \(FitOptions.maximumStarts), got \(starts)")
        }
    }
}

/// The seeded generator of the starts: ConvKernels' SplitMix64, the same on every platform.
typealias SeededGenerator = SplitMix64
