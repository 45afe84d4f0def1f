/// How a conv2d forward pass is computed.
public enum ConvAlgorithm: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
    /// `gemm-1x1` for K = 1, else `im2col-gemm`. The default.
    case auto
    /// im2col lowering, then one `cblas_sgemm` per tile of output rows.
    case im2colGemm = "im2col-gemm"
    /// One `cblas_sgemm` on the input as it is; only for 1×1 kernels.
    case gemm1x1 = "gemm-1x1"
    /// A direct loop convolution with double accumulation; slow, used to check the others.
    case reference
    /// oneDNN's direct convolution, every layout left to oneDNN (what it prefers: blocked or NHWC
    /// activations, blocked weights); the activations are reordered from and to NCHW every call,
    /// timed as the lowering phase.
    case dnnlDirect = "dnnl-direct"
    /// oneDNN's direct convolution with NCHW activations and OIHW weights kept (oneDNN then runs
    /// its own im2col + GEMM).
    case dnnlDirectNCHW = "dnnl-direct-nchw"
    /// oneDNN's Winograd convolution where oneDNN provides one (3×3 kernels on AVX-512 machines);
    /// refused with the reason elsewhere, never replaced by another implementation.
    case dnnlWinograd = "dnnl-winograd"

    /// The raw value, as flags and files write it.
    public var description: String { rawValue }

    /// The concrete algorithm `self` stands for on `shape` (`auto` resolved).
    public func resolved(for shape: ConvShape) -> ConvAlgorithm {
        guard self == .auto else { return self }
        return shape.kernelHeight == 1 && shape.kernelWidth == 1 ? .gemm1x1 : .im2colGemm
    }

    /// Whether the algorithm can compute `shape`.
    public func supports(_ shape: ConvShape) -> Bool {
        switch self {
        case .gemm1x1: return shape.kernelHeight == 1 && shape.kernelWidth == 1
        default: return true
        }
    }

    /// The library that computes it.
    public var backend: ConvBackend {
        switch self {
        case .dnnlDirect, .dnnlDirectNCHW, .dnnlWinograd: return .onednn
        case .reference: return .reference
        case .auto, .im2colGemm, .gemm1x1: return .openblas
        }
    }

    /// The concrete algorithms (everything but `auto`), those of oneDNN only when this build has it.
    public static var concrete: [ConvAlgorithm] {
        [.im2colGemm, .gemm1x1, .reference] + (OneDNN.isAvailable ? [.dnnlDirect, .dnnlDirectNCHW, .dnnlWinograd] : [])
    }
}

/// The library a ``ConvAlgorithm`` runs on.
public enum ConvBackend: String, CaseIterable, Codable, Sendable {
    /// im2col lowering (convsweep's) and OpenBLAS `sgemm`.
    case openblas
    /// oneDNN's convolution primitives.
    case onednn
    /// convsweep's direct double-precision loops.
    case reference
}
