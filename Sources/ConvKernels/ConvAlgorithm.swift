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

    /// The concrete algorithms (everything but `auto`).
    public static var concrete: [ConvAlgorithm] { [.im2colGemm, .gemm1x1, .reference] }
}
