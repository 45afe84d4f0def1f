/// How a conv2d forward pass is computed.
public enum ConvAlgorithm: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
    /// The algorithm convsweep picks for the layer: `fc-gemm` for a fully-connected layer,
    /// `depthwise-direct` for a depthwise convolution, `gemm-1x1` for a pointwise one (1×1 kernel,
    /// stride 1, no padding), else `im2col-gemm`. The default.
    case auto
    /// im2col lowering, then one `cblas_sgemm` per tile of output rows.
    case im2colGemm = "im2col-gemm"
    /// One `cblas_sgemm` per image and group on the input as it is; only for pointwise layers
    /// (1×1 kernel, stride 1, no padding).
    case gemm1x1 = "gemm-1x1"
    /// A direct depthwise convolution (groups = Cin, Cout = m·Cin), channel-blocked: blocks of 8
    /// output channels, their input packed [row][column][channel], every output position 8
    /// channels wide (docs/kernels.md). Only for depthwise layers.
    case depthwiseDirect = "depthwise-direct"
    /// A fully-connected layer as one `cblas_sgemm` (M × in times in × out), `cblas_sgemv` when
    /// M = 1. Only for fully-connected layers.
    case fullyConnectedGemm = "fc-gemm"
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
        if shape.kind == .fullyConnected { return .fullyConnectedGemm }
        if shape.isDepthwise { return .depthwiseDirect }
        return shape.isPointwise ? .gemm1x1 : .im2colGemm
    }

    /// Whether the algorithm can compute `shape`.
    public func supports(_ shape: ConvShape) -> Bool {
        reasonUnsupported(shape) == nil
    }

    /// Why the algorithm cannot compute `shape`, or nil when it can.
    public func reasonUnsupported(_ shape: ConvShape) -> String? {
        switch self {
        case .fullyConnectedGemm:
            return shape.kind == .fullyConnected ? nil : "fc-gemm computes fully-connected layers only"
        case .gemm1x1:
            return shape.kind == .convolution && shape.isPointwise
                ? nil : "gemm-1x1 needs a pointwise convolution (1x1 kernel, stride 1, no padding)"
        case .depthwiseDirect:
            return shape.isDepthwise ? nil : "depthwise-direct needs a depthwise convolution (groups = Cin > 1)"
        case .dnnlWinograd:
            return shape.kind == .convolution ? nil : "dnnl-winograd computes convolutions only"
        default: return nil
        }
    }

    /// The library that computes it.
    public var backend: ConvBackend {
        switch self {
        case .dnnlDirect, .dnnlDirectNCHW, .dnnlWinograd: return .onednn
        case .reference: return .reference
        case .auto, .im2colGemm, .gemm1x1, .fullyConnectedGemm: return .openblas
        case .depthwiseDirect: return .direct
        }
    }

    /// The concrete algorithms (everything but `auto`), those of oneDNN only when this build has it.
    public static var concrete: [ConvAlgorithm] {
        [.im2colGemm, .gemm1x1, .depthwiseDirect, .fullyConnectedGemm, .reference]
            + (OneDNN.isAvailable ? [.dnnlDirect, .dnnlDirectNCHW, .dnnlWinograd] : [])
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
    /// convsweep's own float32 loops (the depthwise kernel).
    case direct
}
