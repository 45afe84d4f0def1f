extension ConvShape {
    /// Checks that the shape is a layer convsweep can compute: every dimension positive and within
    /// the limits, padding non-negative, an output of at least one position, groups that divide
    /// both channel counts, 'same' padding only with stride 1, a fully-connected layer without
    /// kernel, stride, dilation, padding or groups, and no tensor size that overflows.
    ///
    /// - Throws: ``ConvShapeError`` naming the first offending field and the rule.
    public func validate() throws(ConvShapeError) {
        let fields: [(String, Int)] = [
            ("batch", batch), ("height", height), ("width", width),
            ("inputChannels", inputChannels), ("outputChannels", outputChannels),
            ("kernelHeight", kernelHeight), ("kernelWidth", kernelWidth),
            ("strideHeight", strideHeight), ("strideWidth", strideWidth),
            ("dilationHeight", dilationHeight), ("dilationWidth", dilationWidth), ("groups", groups),
        ]
        for (name, value) in fields where value < 1 {
            throw .nonPositive(field: name, value: value)
        }
        for (name, value) in fields where value > ConvShape.maximumDimension {
            throw .tooLarge(field: name, value: value, limit: ConvShape.maximumDimension)
        }
        try validateLayer()
        // Every dimension handed to BLAS is a 32-bit integer: the GEMM's N and leading dimensions
        // (positions) and its K (Cin/groups·K1·K2).
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
            [outputChannels, inputChannelsPerGroup, kernelHeight, kernelWidth],
            [batch, outputChannels, outputHeight, outputWidth],
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

    /// Checks what a layer read from a file (a row of measurements.csv, a package's data) must
    /// hold for its accounting to compute without overflow: every dimension positive and within
    /// ``ConvShape/maximumDimension``, the geometry's rules, and element counts that fit an `Int`.
    /// Unlike ``validate()`` it accepts a layer too large to compute here; with `refused`, a layer
    /// a run refused (an impossible configuration may have a zero dimension or a geometry without
    /// output), whose dimensions need only be 0 or more, within the limit, with products that fit.
    public func validateReadable(refused: Bool = false) throws(ConvShapeError) {
        let fields: [(String, Int)] = [
            ("batch", batch), ("height", height), ("width", width), ("inputChannels", inputChannels),
            ("outputChannels", outputChannels), ("kernelHeight", kernelHeight), ("kernelWidth", kernelWidth),
            ("strideHeight", strideHeight), ("strideWidth", strideWidth), ("dilationHeight", dilationHeight),
            ("dilationWidth", dilationWidth), ("groups", groups),
        ]
        for (name, value) in fields where value < (refused ? 0 : 1) {
            throw .nonPositive(field: name, value: value)
        }
        for (name, value) in fields where value > ConvShape.maximumDimension {
            throw .tooLarge(field: name, value: value, limit: ConvShape.maximumDimension)
        }
        if !refused { try validateLayer() }
        for count in [
            [batch, inputChannels, height, width, kernelHeight, kernelWidth],
            [outputChannels, inputChannels, kernelHeight, kernelWidth],
            [batch, outputChannels, height, width, inputChannels, kernelHeight, kernelWidth],
        ] {
            var product = 1
            for factor in count {
                let (p, overflow) = product.multipliedReportingOverflow(by: factor)
                if overflow { throw .overflow }
                product = p
            }
        }
    }

    /// Checks the rules of the layer's geometry only: padding, output size, groups, 'same' with
    /// stride 1, the fully-connected kind (not the sizes' limits, which a sweep's limits judge).
    public func validateGeometry() throws(ConvShapeError) { try validateLayer() }

    /// The rules of the layer's geometry: padding, output size, groups, the fully-connected kind.
    private func validateLayer() throws(ConvShapeError) {
        for (name, value) in [
            ("strideHeight", strideHeight), ("strideWidth", strideWidth), ("dilationHeight", dilationHeight),
            ("dilationWidth", dilationWidth), ("groups", groups),
        ] where value < 1 {
            throw .nonPositive(field: name, value: value)
        }
        if kind == .fullyConnected {
            for (name, value) in [
                ("height", height), ("width", width), ("kernelHeight", kernelHeight), ("kernelWidth", kernelWidth),
                ("strideHeight", strideHeight), ("strideWidth", strideWidth), ("dilationHeight", dilationHeight),
                ("dilationWidth", dilationWidth), ("groups", groups),
            ] where value != 1 {
                throw .notFullyConnected(field: name, value: value)
            }
            if resolvedPadding != (0, 0, 0, 0) { throw .notFullyConnected(field: "padding", value: padTop) }
            return
        }
        if padding == .same && (strideHeight != 1 || strideWidth != 1) {
            throw .sameNeedsUnitStride(stride: "\(strideHeight)x\(strideWidth)")
        }
        let p = resolvedPadding
        for (name, value) in [("padTop", p.top), ("padLeft", p.left), ("padBottom", p.bottom), ("padRight", p.right)] {
            if value < 0 { throw .negativePadding(field: name, value: value) }
            if value > ConvShape.maximumDimension {
                throw .tooLarge(field: name, value: value, limit: ConvShape.maximumDimension)
            }
        }
        if outputHeight < 1 {
            throw .noOutput(
                axis: "height", input: height, padding: p.top + p.bottom, kernel: kernelHeight,
                dilation: dilationHeight)
        }
        if outputWidth < 1 {
            throw .noOutput(
                axis: "width", input: width, padding: p.left + p.right, kernel: kernelWidth, dilation: dilationWidth)
        }
        for (name, value) in [("inputChannels", inputChannels), ("outputChannels", outputChannels)]
        where value % groups != 0 {
            throw .groupsDoNotDivide(field: name, value: value, groups: groups)
        }
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
    /// A padding below zero.
    case negativePadding(field: String, value: Int)
    /// The dilated kernel is larger than the padded input along `axis`: no output position.
    case noOutput(axis: String, input: Int, padding: Int, kernel: Int, dilation: Int)
    /// `groups` does not divide a channel count.
    case groupsDoNotDivide(field: String, value: Int, groups: Int)
    /// 'same' padding asked for with a stride other than 1.
    case sameNeedsUnitStride(stride: String)
    /// A fully-connected layer given a kernel, stride, dilation, padding or groups.
    case notFullyConnected(field: String, value: Int)

    /// The message naming the field and the rule.
    public var description: String {
        switch self {
        case let .nonPositive(field, value):
            return "\(field) must be a positive integer (got \(value))"
        case let .tooLarge(field, value, limit):
            return "\(field) = \(value) is larger than the limit \(limit)"
                + (limit == ConvShape.maximumBLASDimension ? " (BLAS's 32-bit integers)" : "")
        case .overflow:
            return "the tensors of this configuration are too large to address"
        case let .negativePadding(field, value):
            return "\(field) must be zero or more (got \(value))"
        case let .noOutput(axis, input, padding, kernel, dilation):
            let span = dilation * (kernel - 1) + 1
            return
                "the layer has no output along its \(axis): the input's \(input) plus \(padding) of padding is "
                + "smaller than the kernel's span \(span) (dilation \(dilation) × (kernel \(kernel) − 1) + 1)"
        case let .groupsDoNotDivide(field, value, groups):
            return "groups = \(groups) must divide \(field) = \(value)"
        case let .sameNeedsUnitStride(stride):
            return
                "padding 'same' needs stride 1 (got stride \(stride)), as PyTorch's: give the padding in numbers (P or T,L,B,R) or 'valid'"
        case let .notFullyConnected(field, value):
            return "a fully-connected layer has no kernel, stride, dilation, padding or groups: \(field) must be "
                + (field == "padding" ? "0" : "1") + " (got \(value))"
        }
    }
}

// MARK: - Codable

extension ConvShape: Codable {
    private enum CodingKeys: String, CodingKey {
        case batch, height, width, inputChannels, outputChannels, kernelHeight, kernelWidth
        case strideHeight, strideWidth, dilationHeight, dilationWidth, groups, padding, kind
    }

    /// Reads the seven fields every shape has and the others where present (their defaults where
    /// not: shapes written before general layers read as they were meant).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        batch = try c.decode(Int.self, forKey: .batch)
        height = try c.decode(Int.self, forKey: .height)
        width = try c.decode(Int.self, forKey: .width)
        inputChannels = try c.decode(Int.self, forKey: .inputChannels)
        outputChannels = try c.decode(Int.self, forKey: .outputChannels)
        kernelHeight = try c.decode(Int.self, forKey: .kernelHeight)
        kernelWidth = try c.decode(Int.self, forKey: .kernelWidth)
        strideHeight = try c.decodeIfPresent(Int.self, forKey: .strideHeight) ?? 1
        strideWidth = try c.decodeIfPresent(Int.self, forKey: .strideWidth) ?? 1
        dilationHeight = try c.decodeIfPresent(Int.self, forKey: .dilationHeight) ?? 1
        dilationWidth = try c.decodeIfPresent(Int.self, forKey: .dilationWidth) ?? 1
        groups = try c.decodeIfPresent(Int.self, forKey: .groups) ?? 1
        kind = try c.decodeIfPresent(LayerKind.self, forKey: .kind) ?? .convolution
        if let text = try c.decodeIfPresent(String.self, forKey: .padding) {
            guard let padding = ConvPadding(text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .padding, in: c, debugDescription: "'\(text)' is not same, valid, P or T,L,B,R")
            }
            self.padding = padding
        }
    }

    /// Writes the seven fields every shape has, and the others only where they differ from the
    /// defaults (so a grid layer's JSON is what it always was).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(batch, forKey: .batch)
        try c.encode(height, forKey: .height)
        try c.encode(width, forKey: .width)
        try c.encode(inputChannels, forKey: .inputChannels)
        try c.encode(outputChannels, forKey: .outputChannels)
        try c.encode(kernelHeight, forKey: .kernelHeight)
        try c.encode(kernelWidth, forKey: .kernelWidth)
        if strideHeight != 1 { try c.encode(strideHeight, forKey: .strideHeight) }
        if strideWidth != 1 { try c.encode(strideWidth, forKey: .strideWidth) }
        if dilationHeight != 1 { try c.encode(dilationHeight, forKey: .dilationHeight) }
        if dilationWidth != 1 { try c.encode(dilationWidth, forKey: .dilationWidth) }
        if groups != 1 { try c.encode(groups, forKey: .groups) }
        if padding != .same { try c.encode(padding.description, forKey: .padding) }
        if kind != .convolution { try c.encode(kind, forKey: .kind) }
    }
}
