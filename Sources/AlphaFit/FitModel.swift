import ConvKernels
import Foundation

/// How the FLOPs of a convolution are counted. Recorded with every fit, because the fitted
/// `final` parameter is only meaningful together with the convention it was fitted under.
public enum FlopsConvention: String, Codable, CaseIterable, Sendable {
    /// 2·K·Cin·Cout·H·W·batch: one multiply and one add per multiply–accumulate.
    case standard
    /// K·Cin·Cout·H·W / 10⁶, as in the original authors' plotting script (no factor 2, no batch,
    /// in millions), for comparing with their published constants.
    case asperti

    /// The FLOPs of `shape` under this convention.
    public func flops(of shape: ConvShape) -> Double {
        let flops = Accounting(shape: shape).flops
        switch self {
        case .standard: return flops
        case .asperti: return flops / 2 / Double(shape.batch) / 1e6
        }
    }
}

/// The execution-time models convsweep fits.
///
/// Both share the alpha-FLOPs spatial term of Asperti et al. (2021), with K = K1·K2,
/// S = H·W, S_K = ln(K) + 1:
///
///     T = final · ((S_K + beta·(S − S_K)) / S)^gamma · FLOPs
///
/// `alphaChannels` adds a channel term, the per-FLOP overhead of the two memory streams of an
/// im2col convolution that do not scale with both channel counts:
///
///     T = final · ((S_K + beta·(S − S_K)) / S)^gamma · (1 + delta / Cout + eta / (K·Cin)) · FLOPs
///
/// The im2col copy moves K·Cin·S values for 2·K·Cin·Cout·S FLOPs (a share ∝ 1/Cout); the output
/// moves Cout·S values (a share ∝ 1/(K·Cin)). delta and eta are those costs in FLOP-equivalents
/// per value; delta = eta = 0 gives back the alpha model. The term is linear in delta and eta, so it
/// adds no ill-conditioning of its own.
///
/// `dataMovement` charges the work and the data a layer moves instead of correcting FLOPs:
///
///     T = msPerGflop · FLOPs / 10⁹ + msPerGB · bytes / 10⁹ + fixedMs,
///     bytes = 4 · (input + weights + output + lowered matrix)
///
/// FLOPs at a compute rate (1000 / msPerGflop GFLOP/s), the bytes an im2col convolution must move
/// at least once at a bandwidth (1000 / msPerGB GB/s; the lowered K·Cin × H·W matrix is written
/// and read, 0 for K = 1) and a fixed cost per call. It is linear in its three parameters, so the
/// bounded Levenberg–Marquardt solves it in a step or two and its optimum is unique.
///
/// `tensorBytes` charges each tensor's bytes at a rate of its own, because the tensors are not
/// moved alike: the weights are packed and re-read for every tile of the output, the input is read
/// through the lowering (or with a stride), the output is written, and the lowered matrix is
/// written and read:
///
///     T = msPerGflop · FLOPs / 10⁹ + (msPerGBInput · input + msPerGBWeights · weights
///         + msPerGBOutput · output + msPerGBLowered · lowered) / 10⁹ + fixedMs
///
/// (each tensor in bytes). It is the data-movement model with its one bandwidth split four ways
/// (equal rates give it back), and linear in its six parameters too. Where no layer of a group is
/// lowered (pointwise, depthwise and fully-connected groups) the lowered rate is held at 0.
///
/// `gemmWork` charges the work of the layer as convsweep's kernels do it (``KernelWork``), each
/// part at a rate a performance engineer reads directly: FLOPs, the GEMM micro-kernel's edge passes
/// over the remainders below its register tile, each GEMM operand's bytes at the rate of the cache level its working set fits,
/// the lowering's row and block operations, a cost per `cblas_sgemm` call and per layer (see
/// docs/fit-format.md and `GemmWorkModel.swift`). The tile sizes are discrete parameters chosen
/// by the fit; it needs the measuring machine's cache sizes (``FitOptions/workSetting``).
///
/// `flops` is the proxy alpha-FLOPs corrects, FLOPs at the machine's fitted rate:
///
///     T = msPerGflop · FLOPs / 10⁹
///
/// the baseline every other model must beat.
///
/// Where every layer of a group has S = S_K (a fully-connected layer: S = 1, K = 1) the spatial
/// term is 1 whatever beta and gamma are, so the alpha models hold them at 1 there
/// (``GroupFit/fixed``) and fit the rest: alpha-FLOPs is then FLOPs at a fitted rate.
public enum FitModel: String, Codable, CaseIterable, Sendable {
    case alpha
    case alphaChannels = "alpha-channels"
    case dataMovement = "data-movement"
    case tensorBytes = "tensor-bytes"
    case gemmWork = "gemm-work"
    case flops

    /// The model's formula, the one text of it that `fit --help` and the package README print:
    /// the time T it predicts (the right-hand side of `T = …`), with the bytes it uses defined.
    public var formula: String {
        let spatial = "final · ((S_K + beta·(S − S_K)) / S)^gamma"
        switch self {
        case .alpha: return "\(spatial) · FLOPs"
        case .alphaChannels: return "\(spatial) · (1 + delta / Cout + eta / (K·Cin)) · FLOPs"
        case .dataMovement:
            return "msPerGflop · FLOPs / 10⁹ + msPerGB · bytes / 10⁹ + fixedMs, "
                + "bytes = 4 · (input + weights + output + the lowered K·Cin × Hₒ·Wₒ matrix; none when pointwise)"
        case .tensorBytes:
            return "msPerGflop · FLOPs / 10⁹ + (msPerGBInput · input + msPerGBWeights · weights "
                + "+ msPerGBOutput · output + msPerGBLowered · lowered) / 10⁹ + fixedMs, each tensor in bytes "
                + "(lowered: the K·Cin × Hₒ·Wₒ matrix; none when pointwise or depthwise)"
        case .gemmWork: return GemmWorkModel.formula
        case .flops: return "msPerGflop · FLOPs / 10⁹ (FLOPs at a fitted rate)"
        }
    }

    /// What the formulas' symbols are.
    public static let definitions = "K = K1·K2, S = Hₒ·Wₒ (the output's positions), S_K = ln(K) + 1"

    /// The parameter names, in the order of every parameter vector.
    public var parameterNames: [String] {
        switch self {
        case .alpha: return ["beta", "gamma", "final"]
        case .alphaChannels: return ["beta", "gamma", "final", "delta", "eta"]
        case .dataMovement: return ["msPerGflop", "msPerGB", "fixedMs"]
        case .tensorBytes:
            return ["msPerGflop", "msPerGBInput", "msPerGBWeights", "msPerGBOutput", "msPerGBLowered", "fixedMs"]
        case .gemmWork: return GemmWorkModel.parameterNames
        case .flops: return ["msPerGflop"]
        }
    }

    /// The discrete parameters: gemm-work's register tiles, cache levels, small-matrix limit and
    /// its form's constants (lanes, exposure depth), which describe the kernels and the model's
    /// form, not a rate (chosen by search or held, never scaled or refitted by a recalibration);
    /// none for the other models.
    public var discreteParameterNames: [String] {
        self == .gemmWork
            ? [
                GemmWorkModel.positionsTile, GemmWorkModel.channelsTile, GemmWorkModel.cacheLevels,
                GemmWorkModel.smallCallLimit,
            ]
            .map { GemmWorkModel.parameterNames[$0] } + formConstantNames : []
    }

    /// gemm-work's form constants (``GemmWorkForm``: lanes, exposure depth, level and width), held
    /// at its form's values; none for the other models.
    public var formConstantNames: [String] {
        self == .gemmWork ? GemmWorkModel.formConstants.map { GemmWorkModel.parameterNames[$0] } : []
    }

    /// Parameters the model gained after its first version, by the version that added them, with
    /// the values that make it the model it was before: gemm-work's small-matrix kernel (0.14.0),
    /// whose limit 0 and rate 0 are the model of a fit written before; its vectors, dot path and
    /// exposed output (0.16.0), whose lanes 1, depth 0 and rates 0 are the model of 0.14–0.15
    /// (``GemmWorkForm/smallFlops``); the packed path's weights from memory (0.17.0), whose rate 0
    /// and exposure level 0 are the model of 0.16 (``GemmWorkForm/vectors``); the exposed
    /// activations (0.18.0), whose width 0 is the model of 0.17 (``GemmWorkForm/packedWeights``). A fit file lacking all of one addition
    /// reads as that. Form f has the additions before index f.
    public var parametersAddedLater: [[String: Double]] {
        guard self == .gemmWork else { return [] }
        let names = GemmWorkModel.parameterNames
        return [
            [names[GemmWorkModel.small]: 0, names[GemmWorkModel.smallCallLimit]: 0],
            [
                names[GemmWorkModel.smallDot]: 0, names[GemmWorkModel.outputExposed]: 0,
                names[GemmWorkModel.smallKernelLanes]: 1, names[GemmWorkModel.outputExposureDepth]: 0,
            ],
            [names[GemmWorkModel.packedWeightsMemory]: 0, names[GemmWorkModel.outputExposureLevel]: 0],
            [names[GemmWorkModel.activationExposureWidth]: 0],
        ]
    }

    /// The parameter the model is proportional to, whose least-squares value a drawn start
    /// profiles out (`final`); nil for a model linear in all of its parameters.
    var scaleIndex: Int? { self == .alpha || self == .alphaChannels ? 2 : nil }

    /// The parameters (index → value) the model holds fixed over `points`: beta = gamma = 1 for
    /// the alpha models where every point has S = S_K, which makes the spatial term 1 whatever
    /// they are (the data cannot tell them); the lowered rate = 0 for the tensor-bytes model where
    /// no point is lowered; none otherwise.
    func heldFixed(over points: [ModelPoint]) -> [Int: Double] {
        if self == .gemmWork { return GemmWorkModel.heldFixed(over: points).mapValues(\.value) }
        if self == .tensorBytes {
            return points.allSatisfy({ $0.loweredBytesPerFlop == 0 }) ? [4: 0] : [:]
        }
        guard self == .alpha || self == .alphaChannels, points.allSatisfy({ $0.s == $0.sk }) else { return [:] }
        return [0: 1, 1: 1]
    }

    /// The number of parameters.
    public var parameterCount: Int { parameterNames.count }

    /// The parameters the model has in gemm-work's `form` (the others' whatever it is): a form
    /// lacks the additions of the forms after it (``parametersAddedLater``), which it holds: 0.14–0.15's
    /// (``GemmWorkForm/smallFlops``) the four of 0.16.0, the two of 0.17.0 and the one of 0.18.0, …
    public func parameterCount(form: GemmWorkForm) -> Int {
        guard self == .gemmWork else { return parameterCount }
        return parameterCount - parametersAddedLater.dropFirst(form.rawValue).reduce(0) { $0 + $1.count }
    }

    /// The default start: the replication's (beta 0.01, gamma 0.8, final 0.3), and for the
    /// channel term delta = eta = 0 (the alpha model).
    public var defaultStart: [Double] {
        switch self {
        case .alpha: return [0.01, 0.8, 0.3]
        case .alphaChannels: return [0.01, 0.8, 0.3, 0, 0]
        case .dataMovement: return [20, 50, 0]
        case .tensorBytes: return [20, 50, 50, 50, 50, 0]
        case .gemmWork: return GemmWorkModel.defaultStart
        case .flops: return [20]
        }
    }

    /// The default box: [0, 2] for beta, gamma and final, as the replication; [0, 1000]
    /// FLOP-equivalents per value for delta and eta; for the data-movement model [0, 10⁵] ms per
    /// GFLOP and per GB (rates down to 0.01 GFLOP/s and GB/s) and [0, 1000] ms of fixed cost, and
    /// the same for each rate of the tensor-bytes model; for the FLOPs model [0, 10⁵] ms per GFLOP.
    public var defaultBounds: [ClosedRange<Double>] {
        switch self {
        case .alpha: return [0...2, 0...2, 0...2]
        case .alphaChannels: return [0...2, 0...2, 0...2, 0...1000, 0...1000]
        case .dataMovement: return [0...1e5, 0...1e5, 0...1000]
        case .tensorBytes: return [0...1e5, 0...1e5, 0...1e5, 0...1e5, 0...1e5, 0...1000]
        case .gemmWork: return GemmWorkModel.defaultBounds
        case .flops: return [0...1e5]
        }
    }
}

/// One point as the models evaluate it: its FLOPs and the quantities the formulas use.
struct ModelPoint: Sendable {
    /// FLOPs under the fit's convention.
    var flops: Double
    /// S = Hₒ·Wₒ, the output's positions (H·W for the grid's layers).
    var s: Double
    /// S_K = ln(K) + 1.
    var sk: Double
    /// 1 / Cout and 1 / ((Cin/groups)·K1·K2), the channel term's shares.
    var perOutputChannel: Double
    var perInputTap: Double
    /// Bytes moved per FLOP and 1 / FLOPs, the data-movement model's shares.
    var bytesPerFlop: Double
    var perFlop: Double
    /// Each tensor's bytes per FLOP, the tensor-bytes model's shares: input, weights, output and
    /// the lowered matrix (0 where the layer is not lowered).
    var inputBytesPerFlop: Double
    var weightBytesPerFlop: Double
    var outputBytesPerFlop: Double
    var loweredBytesPerFlop: Double
    /// The gemm-work model's view of the layer and the FLOPs (under the fit's convention) its
    /// times are divided by; nil unless the point was made for that model.
    var work: KernelWork?
    var workFlops: Double
    /// gemm-work's features of ``work`` that the tiles do not change (empty without it).
    var workFeatures: [Double] = []

    init(shape: ConvShape, convention: FlopsConvention, bytes: BytesConvention, setting: WorkSetting? = nil) {
        flops = convention.flops(of: shape)
        workFlops = flops
        work = setting.map { KernelWork(shape: shape, setting: $0) }
        workFeatures = work.map(GemmWorkModel.baseFeatures) ?? []
        let accounting = Accounting(shape: shape, bytes: bytes)
        bytesPerFlop = Double(accounting.movedBytes) / flops
        inputBytesPerFlop = Double(accounting.inputBytes) / flops
        weightBytesPerFlop = Double(accounting.weightBytes) / flops
        outputBytesPerFlop = Double(accounting.outputBytes) / flops
        loweredBytesPerFlop = Double(accounting.loweredBytes) / flops
        perFlop = 1 / flops
        s = Double(shape.spatialSize)
        sk = log(Double(shape.kernelSize)) + 1
        perOutputChannel = 1 / Double(shape.outputChannels)
        perInputTap = 1 / Double(shape.depth)
    }
}

extension FitModel {
    /// The predicted time of `point` under `p`, computed exactly as the original authors'
    /// predictor writes it (`final * ((S_K + beta*(S - S_K)) / S) ** gamma * FLOPs`);
    /// NaN where the formula is undefined (a non-positive ratio raised to a power).
    func predict(_ point: ModelPoint, _ p: [Double]) -> Double {
        if self == .dataMovement { return dataMovementCost(point, p) * point.flops }
        if self == .tensorBytes { return tensorBytesCost(point, p) * point.flops }
        if self == .flops { return p[0] * 1e-9 * point.flops }
        if self == .gemmWork { return GemmWorkModel.timeMs(point, p) * (point.flops / point.workFlops) }
        let u = (point.sk + p[0] * (point.s - point.sk)) / point.s
        guard u > 0 else { return .nan }
        var alpha = p[2] * pow(u, p[1])
        if self == .alphaChannels {
            let q = 1 + p[3] * point.perOutputChannel + p[4] * point.perInputTap
            guard q > 0 else { return .nan }
            alpha *= q
        }
        return alpha * point.flops
    }

    /// The predicted time, with its gradient with respect to the parameters written into `gradient`
    /// (one entry per parameter).
    func predict(_ point: ModelPoint, _ p: [Double], gradient: UnsafeMutablePointer<Double>) -> Double {
        if self == .dataMovement {
            gradient[0] = 1e-9 * point.flops
            gradient[1] = 1e-9 * point.bytesPerFlop * point.flops
            gradient[2] = point.perFlop * point.flops
            return dataMovementCost(point, p) * point.flops
        }
        if self == .tensorBytes {
            gradient[0] = 1e-9 * point.flops
            gradient[1] = 1e-9 * point.inputBytesPerFlop * point.flops
            gradient[2] = 1e-9 * point.weightBytesPerFlop * point.flops
            gradient[3] = 1e-9 * point.outputBytesPerFlop * point.flops
            gradient[4] = 1e-9 * point.loweredBytesPerFlop * point.flops
            gradient[5] = point.perFlop * point.flops
            return tensorBytesCost(point, p) * point.flops
        }
        if self == .flops {
            gradient[0] = 1e-9 * point.flops
            return p[0] * 1e-9 * point.flops
        }
        if self == .gemmWork {
            let scale = point.flops / point.workFlops
            let t = GemmWorkModel.timeMs(point, p, gradient: gradient)
            for k in 0..<parameterCount { gradient[k] *= scale }
            return t * scale
        }
        let u = (point.sk + p[0] * (point.s - point.sk)) / point.s
        guard u > 0 else { return .nan }
        let spatial = pow(u, p[1])
        var alpha = p[2] * spatial
        var shape = spatial
        if self == .alphaChannels {
            let q = 1 + p[3] * point.perOutputChannel + p[4] * point.perInputTap
            guard q > 0 else { return .nan }
            alpha *= q
            shape *= q
        }
        let t = alpha * point.flops
        gradient[0] = t * p[1] * ((point.s - point.sk) / point.s) / u
        gradient[1] = t * log(u)
        gradient[2] = shape * point.flops
        if self == .alphaChannels {
            gradient[3] = p[2] * spatial * point.flops * point.perOutputChannel
            gradient[4] = p[2] * spatial * point.flops * point.perInputTap
        }
        return t
    }

    /// The data-movement model's time per FLOP of `point`.
    private func dataMovementCost(_ point: ModelPoint, _ p: [Double]) -> Double {
        (p[0] + p[1] * point.bytesPerFlop) * 1e-9 + p[2] * point.perFlop
    }

    /// What the model's time per FLOP depends on at `point`: points with equal features share it,
    /// which is what lets a fit reduce its rows to classes (``AlphaFitter/classes(_:)``).
    func classFeatures(of point: ModelPoint) -> [Double] {
        switch self {
        case .alpha: return [point.s, point.sk]
        case .alphaChannels: return [point.s, point.sk, point.perOutputChannel, point.perInputTap]
        case .dataMovement: return [point.bytesPerFlop, point.perFlop]
        case .tensorBytes:
            return [
                point.inputBytesPerFlop, point.weightBytesPerFlop, point.outputBytesPerFlop, point.loweredBytesPerFlop,
                point.perFlop,
            ]
        case .gemmWork: return GemmWorkModel.classFeatures(of: point)
        case .flops: return []
        }
    }

    /// The tensor-bytes model's time per FLOP of `point`.
    private func tensorBytesCost(_ point: ModelPoint, _ p: [Double]) -> Double {
        let bytes =
            p[1] * point.inputBytesPerFlop + p[2] * point.weightBytesPerFlop + p[3] * point.outputBytesPerFlop
            + p[4] * point.loweredBytesPerFlop
        return (p[0] + bytes) * 1e-9 + p[5] * point.perFlop
    }
}
