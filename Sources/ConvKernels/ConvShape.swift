/// The shape of one conv2d forward configuration.
///
/// Tensors are float32 in NCHW order: input `[batch][inputChannels][height][width]`,
/// weights `[outputChannels][inputChannels][kernelHeight][kernelWidth]`,
/// output `[batch][outputChannels][height][width]`.
///
/// Stride and dilation are 1 and groups is 1. The output has the input's spatial size for every
/// kernel size, even ones included: the input is padded with `(K − 1) / 2` zeros before and
/// `K / 2` after along each axis, as PyTorch's `padding='same'` does.
public struct ConvShape: Hashable, Codable, Sendable, CustomStringConvertible {
    /// Images in the batch (N).
    public var batch: Int
    /// Input height (H), equal to the output height.
    public var height: Int
    /// Input width (W), equal to the output width.
    public var width: Int
    /// Input channels (Cin).
    public var inputChannels: Int
    /// Output channels (Cout).
    public var outputChannels: Int
    /// Kernel height (K1).
    public var kernelHeight: Int
    /// Kernel width (K2).
    public var kernelWidth: Int

    /// Creates a shape with a `kernelHeight × kernelWidth` kernel.
    public init(
        batch: Int = 1, height: Int, width: Int, inputChannels: Int, outputChannels: Int,
        kernelHeight: Int, kernelWidth: Int
    ) {
        self.batch = batch
        self.height = height
        self.width = width
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
    }

    /// Creates a shape with a square `kernel × kernel` kernel.
    public init(
        batch: Int = 1, height: Int, width: Int, inputChannels: Int, outputChannels: Int,
        kernel: Int
    ) {
        self.init(
            batch: batch, height: height, width: width, inputChannels: inputChannels,
            outputChannels: outputChannels, kernelHeight: kernel, kernelWidth: kernel)
    }

    /// Zeros added above the input: `(K1 − 1) / 2`.
    public var padTop: Int { (kernelHeight - 1) / 2 }
    /// Zeros added below the input: `K1 / 2`.
    public var padBottom: Int { kernelHeight / 2 }
    /// Zeros added left of the input: `(K2 − 1) / 2`.
    public var padLeft: Int { (kernelWidth - 1) / 2 }
    /// Zeros added right of the input: `K2 / 2`.
    public var padRight: Int { kernelWidth / 2 }

    /// Spatial positions per image, S = H·W.
    public var spatialSize: Int { height * width }
    /// Kernel positions, K1·K2.
    public var kernelSize: Int { kernelHeight * kernelWidth }
    /// Elements of the input tensor.
    public var inputCount: Int { batch * inputChannels * height * width }
    /// Elements of the weight tensor (the layer's parameters; convsweep uses no bias).
    public var weightCount: Int { outputChannels * inputChannels * kernelHeight * kernelWidth }
    /// Elements of the output tensor.
    public var outputCount: Int { batch * outputChannels * height * width }

    /// `N=… H=… W=… Cin=… Cout=… K=K1xK2`, for messages.
    public var description: String {
        "N=\(batch) H=\(height) W=\(width) Cin=\(inputChannels) Cout=\(outputChannels) K=\(kernelHeight)x\(kernelWidth)"
    }

    /// Checks every dimension is positive and that no tensor size overflows.
    ///
    /// - Throws: ``ConvShapeError`` naming the first offending field.
    public func validate() throws(ConvShapeError) {
        let fields: [(String, Int)] = [
            ("batch", batch), ("height", height), ("width", width),
            ("inputChannels", inputChannels), ("outputChannels", outputChannels),
            ("kernelHeight", kernelHeight), ("kernelWidth", kernelWidth),
        ]
        for (name, value) in fields where value < 1 {
            throw .nonPositive(field: name, value: value)
        }
        for (name, value) in fields where value > ConvShape.maximumDimension {
            throw .tooLarge(field: name, value: value, limit: ConvShape.maximumDimension)
        }
        // Every dimension handed to BLAS is a 32-bit integer: the GEMM's N and leading dimensions
        // (H·W positions) and its K (Cin·K1·K2).
        for (name, value) in [
            ("height·width", height.multipliedReportingOverflow(by: width)),
            ("inputChannels·kernelHeight·kernelWidth", inputChannels.multipliedReportingOverflow(by: kernelSize)),
        ] where value.overflow || value.partialValue > ConvShape.maximumBLASDimension {
            throw .tooLarge(field: name, value: value.partialValue, limit: ConvShape.maximumBLASDimension)
        }
        // Element counts must not overflow.
        var total = 0
        for count in [
            [batch, inputChannels, height, width],
            [outputChannels, inputChannels, kernelHeight, kernelWidth],
            [batch, outputChannels, height, width],
        ] {
            var product = 1
            for factor in count {
                let (p, overflow) = product.multipliedReportingOverflow(by: factor)
                if overflow { throw .overflow }
                product = p
            }
            total += product
        }
        if total > ConvShape.maximumTotalElements { throw .overflow }
    }

    /// The largest value any single dimension may take (absurd values are refused).
    public static let maximumDimension = 1 << 20
    /// The largest matrix dimension BLAS takes (its integers are 32-bit): H·W and Cin·K1·K2 may
    /// not exceed it.
    public static let maximumBLASDimension = Int(Int32.max)
    /// The largest number of float32 elements the three tensors may hold together (64 GiB).
    public static let maximumTotalElements = 16 << 30
}

/// Why a ``ConvShape`` is not a valid configuration.
public enum ConvShapeError: Error, Equatable, CustomStringConvertible {
    case nonPositive(field: String, value: Int)
    case tooLarge(field: String, value: Int, limit: Int)
    case overflow

    /// The message naming the field and the limit.
    public var description: String {
        switch self {
        case let .nonPositive(field, value):
            return "\(field) must be a positive integer (got \(value))"
        case let .tooLarge(field, value, limit):
            return "\(field) = \(value) is larger than the limit \(limit)"
                + (limit == ConvShape.maximumBLASDimension ? " (BLAS's 32-bit integers)" : "")
        case .overflow:
            return "the tensors of this configuration are too large to address"
        }
    }
}
