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
    public func flops(of shape: LayerShape) -> Double {
        let k = Double(shape.k1 * shape.k2)
        let c = Double(shape.cin) * Double(shape.cout)
        let s = Double(shape.h) * Double(shape.w)
        switch self {
        case .standard: return 2 * k * c * s * Double(shape.batch)
        case .asperti: return k * c * s / 1e6
        }
    }
}

/// The shape of one convolution layer, as far as the models see it.
public struct LayerShape: Codable, Hashable, Sendable {
    public var h: Int
    public var w: Int
    public var cin: Int
    public var cout: Int
    public var k1: Int
    public var k2: Int
    public var batch: Int

    /// A layer with an `h`×`w` input, `cin` → `cout` channels, a `k1`×`k2` kernel, `batch` images.
    public init(h: Int, w: Int, cin: Int, cout: Int, k1: Int, k2: Int, batch: Int = 1) {
        self.h = h; self.w = w; self.cin = cin; self.cout = cout
        self.k1 = k1; self.k2 = k2; self.batch = batch
    }

    /// K = K1·K2, the number of kernel taps.
    public var kernelArea: Int { k1 * k2 }
}

/// The execution-time models convsweep fits.
///
/// Both share the alpha-FLOPs spatial term of Asperti et al. (2021), with K = K1·K2,
/// S = H·W, S_K = ln(K) + 1:
///
///     T = final · ((S_K + beta·(S − S_K)) / S)^gamma · FLOPs
///
/// `alphaChannels` multiplies a channel term of the same saturating form, with C = Cin·Cout:
///
///     T = final · ((S_K + beta·(S − S_K)) / S)^gamma · ((1 + delta·(C − 1)) / C)^eta · FLOPs
///
/// so that eta = 0 (or delta = 1) gives back the alpha model.
public enum FitModel: String, Codable, CaseIterable, Sendable {
    case alpha
    case alphaChannels = "alpha-channels"

    /// The parameter names, in the order of every parameter vector.
    public var parameterNames: [String] {
        switch self {
        case .alpha: return ["beta", "gamma", "final"]
        case .alphaChannels: return ["beta", "gamma", "final", "delta", "eta"]
        }
    }

    /// The number of parameters.
    public var parameterCount: Int { parameterNames.count }

    /// The default start: the replication's (beta 0.01, gamma 0.8, final 0.3), and for the
    /// channel term delta 0.01, eta 0 (the alpha model).
    public var defaultStart: [Double] {
        switch self {
        case .alpha: return [0.01, 0.8, 0.3]
        case .alphaChannels: return [0.01, 0.8, 0.3, 0.01, 0]
        }
    }

    /// The default box: [0, 2] for every parameter, as the replication.
    public var defaultBounds: [ClosedRange<Double>] {
        Array(repeating: 0...2, count: parameterCount)
    }
}

/// One point as the models evaluate it: its FLOPs and the quantities the formulas use.
struct ModelPoint: Sendable {
    /// FLOPs under the fit's convention.
    var flops: Double
    /// S = H·W.
    var s: Double
    /// S_K = ln(K) + 1.
    var sk: Double
    /// C = Cin·Cout.
    var c: Double

    init(shape: LayerShape, convention: FlopsConvention) {
        flops = convention.flops(of: shape)
        s = Double(shape.h) * Double(shape.w)
        sk = log(Double(shape.kernelArea)) + 1
        c = Double(shape.cin) * Double(shape.cout)
    }
}

extension FitModel {
    /// The predicted time of `point` under `p`, computed exactly as the original authors'
    /// predictor writes it (`final * ((S_K + beta*(S - S_K)) / S) ** gamma * FLOPs`);
    /// NaN where the formula is undefined (a non-positive ratio raised to a power).
    func predict(_ point: ModelPoint, _ p: [Double]) -> Double {
        let u = (point.sk + p[0] * (point.s - point.sk)) / point.s
        guard u > 0 else { return .nan }
        var alpha = p[2] * pow(u, p[1])
        if self == .alphaChannels {
            let v = (1 + p[3] * (point.c - 1)) / point.c
            guard v > 0 else { return .nan }
            alpha *= pow(v, p[4])
        }
        return alpha * point.flops
    }

    /// The predicted time, with its gradient with respect to the parameters written into `gradient`
    /// (one entry per parameter).
    func predict(_ point: ModelPoint, _ p: [Double], gradient: UnsafeMutablePointer<Double>) -> Double {
        let u = (point.sk + p[0] * (point.s - point.sk)) / point.s
        guard u > 0 else { return .nan }
        var shape = pow(u, p[1])
        var v = 1.0
        if self == .alphaChannels {
            v = (1 + p[3] * (point.c - 1)) / point.c
            guard v > 0 else { return .nan }
            shape *= pow(v, p[4])
        }
        let t = p[2] * shape * point.flops
        gradient[0] = t * p[1] * ((point.s - point.sk) / point.s) / u
        gradient[1] = t * log(u)
        gradient[2] = shape * point.flops
        if self == .alphaChannels {
            gradient[3] = t * p[4] * ((point.c - 1) / point.c) / v
            gradient[4] = t * log(v)
        }
        return t
    }
}
