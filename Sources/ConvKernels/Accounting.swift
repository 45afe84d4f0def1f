/// What one forward pass of a configuration costs on paper.
///
/// FLOPs count a multiply and an add as two operations: FLOPs = 2·N·Hₒ·Wₒ·Cout·(Cin/groups)·K1·K2
/// (2·M·in·out for a fully-connected layer), and MACs = FLOPs / 2. Bytes are float32 (4 bytes an element). Arithmetic intensity is FLOPs per
/// byte of input, weights and output (workspace excluded: it is an artefact of the algorithm).
public struct Accounting: Hashable, Codable, Sendable {
    /// Floating-point operations, 2 per multiply–add.
    public var flops: Double
    /// Multiply–adds, FLOPs / 2.
    public var macs: Double
    /// Weights of the layer (no bias).
    public var parameters: Int
    /// Bytes of the input tensor.
    public var inputBytes: Int
    /// Bytes of the weight tensor.
    public var weightBytes: Int
    /// Bytes of the output tensor.
    public var outputBytes: Int
    /// Bytes of scratch memory the algorithm allocates (the im2col buffer).
    public var workspaceBytes: Int

    /// FLOPs per byte of input, weights and output.
    public var arithmeticIntensity: Double {
        flops / Double(inputBytes + weightBytes + outputBytes)
    }

    /// All bytes the configuration needs at once: tensors and workspace.
    public var totalBytes: Int { inputBytes + weightBytes + outputBytes + workspaceBytes }

    /// Bytes of the lowered (im2col) matrix of an im2col convolution, K1·K2·Cin × Hₒ·Wₒ·N float32
    /// values written by the lowering and read by the GEMM; 0 for a pointwise layer (1×1 kernel,
    /// stride 1, no padding: a plain GEMM on the input), a fully-connected one and (under
    /// ``BytesConvention/algorithm``) a depthwise one, which `depthwise-direct` computes without
    /// lowering.
    public var loweredBytes: Int

    /// The bytes a forward pass moves at the least: input, weights and output once each, and the
    /// lowered matrix (the data-movement model's memory term).
    public var movedBytes: Int { inputBytes + weightBytes + outputBytes + loweredBytes }

    /// The accounting of `shape`, with `workspaceBytes` of scratch memory, its lowered bytes
    /// counted under `bytes`.
    public init(shape: ConvShape, workspaceBytes: Int = 0, bytes: BytesConvention = .algorithm) {
        let macs =
            Double(shape.kernelHeight) * Double(shape.kernelWidth) * Double(shape.inputChannelsPerGroup)
            * Double(shape.outputChannels) * Double(shape.outputHeight) * Double(shape.outputWidth)
            * Double(shape.batch)
        self.macs = macs
        self.flops = 2 * macs
        self.parameters = shape.weightCount
        self.inputBytes = shape.inputCount * MemoryLayout<Float>.stride
        self.weightBytes = shape.weightCount * MemoryLayout<Float>.stride
        self.outputBytes = shape.outputCount * MemoryLayout<Float>.stride
        self.workspaceBytes = workspaceBytes
        let lowers = !(shape.isPointwise || shape.kind == .fullyConnected || (bytes == .algorithm && shape.isDepthwise))
        self.loweredBytes =
            lowers
            ? shape.kernelSize * shape.inputChannels * shape.spatialSize * shape.batch * MemoryLayout<Float>.stride : 0
    }
}

/// Which layers' moved bytes include a lowered (im2col) matrix: recorded with every fit, because a
/// data-movement fit's bandwidth is only meaningful together with the bytes it was fitted on.
public enum BytesConvention: String, Codable, CaseIterable, Sendable {
    /// Where the layer's default algorithm lowers: every convolution but pointwise and depthwise
    /// ones (`depthwise-direct` reads the input in place). The default since 2026-12-04.
    case algorithm
    /// Every convolution but a pointwise one, depthwise included: convsweep before 2026-12-04
    /// (night), and what a fit or package that names no convention was made with.
    case everyKxK = "every-kxk"
}
