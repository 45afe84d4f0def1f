/// The shape of one layer's forward pass: a 2-D convolution (any stride, padding, dilation and
/// groups) or a fully-connected layer.
///
/// Tensors are float32 in NCHW order: input `[batch][inputChannels][height][width]`, weights
/// `[outputChannels][inputChannels / groups][kernelHeight][kernelWidth]`, output
/// `[batch][outputChannels][outputHeight][outputWidth]`.
///
/// The defaults are the layer of the alpha-FLOPs grid: stride 1, dilation 1, groups 1 and 'same'
/// padding — `(K − 1) / 2` zeros before and `K / 2` after along each axis, as PyTorch's
/// `padding='same'` does, so the output has the input's spatial size. A shape that leaves every new
/// field at its default is the shape it always was: same id, same row, same figures.
///
/// Output size along an axis (input I, kernel K, stride s, dilation d, padding p₀ before and p₁
/// after): `O = ⌊(I + p₀ + p₁ − d·(K − 1) − 1) / s⌋ + 1`, PyTorch's and oneDNN's rule.
///
/// A **fully-connected** layer (``LayerKind/fullyConnected``) of M rows, `in` features and `out`
/// features is stored as `batch = M`, `inputChannels = in`, `outputChannels = out` and a 1×1 input
/// and kernel: its input is the row-major M × in matrix, its weights out × in, its output M × out.
/// Create it with ``fullyConnected(rows:inputs:outputs:)``.
public struct ConvShape: Hashable, Sendable, CustomStringConvertible {
    /// Images in the batch (N); for a fully-connected layer, its rows M.
    public var batch: Int
    /// Input height (H).
    public var height: Int
    /// Input width (W).
    public var width: Int
    /// Input channels (Cin); for a fully-connected layer, its input features.
    public var inputChannels: Int
    /// Output channels (Cout); for a fully-connected layer, its output features.
    public var outputChannels: Int
    /// Kernel height (K1).
    public var kernelHeight: Int
    /// Kernel width (K2).
    public var kernelWidth: Int
    /// Vertical stride (1 by default).
    public var strideHeight: Int = 1
    /// Horizontal stride (1 by default).
    public var strideWidth: Int = 1
    /// Vertical dilation (1 by default: adjacent taps).
    public var dilationHeight: Int = 1
    /// Horizontal dilation (1 by default).
    public var dilationWidth: Int = 1
    /// Groups: input and output channels are split into this many groups, each convolved on its
    /// own (1 by default: dense; `inputChannels`: depthwise).
    public var groups: Int = 1
    /// The zeros around the input (``ConvPadding/same`` by default).
    public var padding: ConvPadding = .same
    /// A convolution or a fully-connected layer.
    public var kind: LayerKind = .convolution

    /// Creates a convolution with a `kernelHeight × kernelWidth` kernel; stride, dilation, groups
    /// and padding default to the alpha-FLOPs grid's (1, 1, 1, 'same').
    public init(
        batch: Int = 1, height: Int, width: Int, inputChannels: Int, outputChannels: Int,
        kernelHeight: Int, kernelWidth: Int, stride: (Int, Int) = (1, 1), padding: ConvPadding = .same,
        dilation: (Int, Int) = (1, 1), groups: Int = 1
    ) {
        self.batch = batch
        self.height = height
        self.width = width
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        (strideHeight, strideWidth) = stride
        (dilationHeight, dilationWidth) = dilation
        self.groups = groups
        self.padding = padding
    }

    /// Creates a convolution with a square `kernel × kernel` kernel.
    public init(
        batch: Int = 1, height: Int, width: Int, inputChannels: Int, outputChannels: Int,
        kernel: Int, stride: Int = 1, padding: ConvPadding = .same, dilation: Int = 1, groups: Int = 1
    ) {
        self.init(
            batch: batch, height: height, width: width, inputChannels: inputChannels,
            outputChannels: outputChannels, kernelHeight: kernel, kernelWidth: kernel, stride: (stride, stride),
            padding: padding, dilation: (dilation, dilation), groups: groups)
    }

    /// A fully-connected layer: `rows` × `inputs` → `rows` × `outputs`, one GEMM (M = rows: the
    /// batch, or batch·H·W for a layer applied at every position).
    public static func fullyConnected(rows: Int, inputs: Int, outputs: Int) -> ConvShape {
        var shape = ConvShape(
            batch: rows, height: 1, width: 1, inputChannels: inputs, outputChannels: outputs, kernel: 1,
            padding: .valid)
        shape.kind = .fullyConnected
        return shape
    }

    // MARK: Geometry

    /// Zeros added above the input.
    public var padTop: Int { resolvedPadding.top }
    /// Zeros added below the input.
    public var padBottom: Int { resolvedPadding.bottom }
    /// Zeros added left of the input.
    public var padLeft: Int { resolvedPadding.left }
    /// Zeros added right of the input.
    public var padRight: Int { resolvedPadding.right }

    /// The padding in numbers: for `same`, `d·(K − 1)` zeros split as PyTorch does (the smaller
    /// half before).
    public var resolvedPadding: (top: Int, left: Int, bottom: Int, right: Int) {
        switch padding {
        case .same:
            let vertical = dilationHeight * (kernelHeight - 1)
            let horizontal = dilationWidth * (kernelWidth - 1)
            return (vertical / 2, horizontal / 2, vertical - vertical / 2, horizontal - horizontal / 2)
        case .valid: return (0, 0, 0, 0)
        case let .explicit(top, left, bottom, right): return (top, left, bottom, right)
        }
    }

    /// Output height: `⌊(H + padTop + padBottom − dilationHeight·(K1 − 1) − 1) / strideHeight⌋ + 1`.
    public var outputHeight: Int {
        ConvShape.outputLength(height, padTop + padBottom, kernelHeight, strideHeight, dilationHeight)
    }
    /// Output width, by the same rule.
    public var outputWidth: Int {
        ConvShape.outputLength(width, padLeft + padRight, kernelWidth, strideWidth, dilationWidth)
    }

    private static func outputLength(_ input: Int, _ padding: Int, _ kernel: Int, _ stride: Int, _ dilation: Int)
        -> Int
    {
        let span = input + padding - dilation * (kernel - 1) - 1
        guard span >= 0, stride >= 1 else { return 0 }
        return span / stride + 1
    }

    /// Spatial positions of the output per image, S = Hₒ·Wₒ (= H·W for the grid's layers): the S
    /// of the alpha-FLOPs model.
    public var spatialSize: Int { outputHeight * outputWidth }
    /// Positions of one input plane, H·W.
    public var inputSpatialSize: Int { height * width }
    /// Kernel positions, K1·K2.
    public var kernelSize: Int { kernelHeight * kernelWidth }
    /// Input channels of one group, Cin / groups.
    public var inputChannelsPerGroup: Int { inputChannels / max(1, groups) }
    /// Output channels of one group, Cout / groups.
    public var outputChannelsPerGroup: Int { outputChannels / max(1, groups) }
    /// Products summed into one output element: (Cin / groups)·K1·K2.
    public var depth: Int { inputChannelsPerGroup * kernelSize }
    /// Elements of the input tensor.
    public var inputCount: Int { batch * inputChannels * height * width }
    /// Elements of the weight tensor (the layer's parameters; convsweep uses no bias).
    public var weightCount: Int { outputChannels * inputChannelsPerGroup * kernelHeight * kernelWidth }
    /// Elements of the output tensor.
    public var outputCount: Int { batch * outputChannels * spatialSize }

    /// Whether this is a depthwise convolution: one group per input channel (more than one),
    /// each giving ``depthwiseMultiplier`` output channels.
    public var isDepthwise: Bool { kind == .convolution && groups > 1 && groups == inputChannels }
    /// Output channels per input channel of a depthwise convolution, Cout / Cin.
    public var depthwiseMultiplier: Int { outputChannels / max(1, inputChannels) }

    /// Whether stride, dilation, groups and padding are the alpha-FLOPs grid's (1, 1, 1, 'same')
    /// and the layer is a convolution: the one kind of layer convsweep measured before.
    public var hasGridGeometry: Bool {
        kind == .convolution && strideHeight == 1 && strideWidth == 1 && dilationHeight == 1
            && dilationWidth == 1 && groups == 1 && samePaddingEquivalent
    }

    /// Whether the padding gives what 'same' gives for this kernel and dilation.
    private var samePaddingEquivalent: Bool {
        var same = self
        same.padding = .same
        return same.resolvedPadding == resolvedPadding
    }

    /// Whether the output is the input read with unit stride and dilation and the output keeps the
    /// input's size: the layers whose im2col rows are shifted copies of whole input rows.
    public var keepsSpatialSize: Bool {
        strideHeight == 1 && strideWidth == 1 && dilationHeight == 1 && dilationWidth == 1
            && outputHeight == height && outputWidth == width
    }

    /// Whether a 1×1 kernel reads the input as it is (stride 1, no padding): the convolution is
    /// then one GEMM per group on the input.
    public var isPointwise: Bool {
        kernelSize == 1 && strideHeight == 1 && strideWidth == 1 && resolvedPadding == (0, 0, 0, 0)
    }

    // MARK: Text

    /// `N=… H=… W=… Cin=… Cout=… K=K1xK2`, followed by the fields that differ from the defaults
    /// (`stride=2x2 pad=1,1,1,1 dilation=2x2 groups=32`); `FC M=… in=… out=…` for a
    /// fully-connected layer. For messages.
    public var description: String {
        if kind == .fullyConnected { return "FC M=\(batch) in=\(inputChannels) out=\(outputChannels)" }
        var text = sizesAsRead
        for field in nonDefaultFields { text += " \(field.name)=\(field.value)" }
        return text
    }

    /// The sizes as a file gave them, "N=1 H=8 W=8 Cin=4 Cout=4 K=3x3", computed from nothing:
    /// the start of ``description``, and how a refusal of ``validateReadable(refused:)`` names the
    /// layer (the rest of the description computes padding, which an overflowing size cannot).
    public var sizesAsRead: String {
        "N=\(batch) H=\(height) W=\(width) Cin=\(inputChannels) Cout=\(outputChannels) K=\(kernelHeight)x\(kernelWidth)"
    }

    /// The fields that differ from the defaults, as (name, value) text pairs: `stride` `2x2`,
    /// `pad` `1,1,1,1` (top, left, bottom, right) or `valid`, `dilation` `2x2`, `groups` `32`.
    public var nonDefaultFields: [(name: String, value: String)] {
        var fields: [(String, String)] = []
        if strideHeight != 1 || strideWidth != 1 { fields.append(("stride", "\(strideHeight)x\(strideWidth)")) }
        if !samePaddingEquivalent || (strideHeight != 1 || strideWidth != 1) {
            let p = resolvedPadding
            fields.append(("pad", "\(p.top),\(p.left),\(p.bottom),\(p.right)"))
        }
        if dilationHeight != 1 || dilationWidth != 1 {
            fields.append(("dilation", "\(dilationHeight)x\(dilationWidth)"))
        }
        if groups != 1 { fields.append(("groups", "\(groups)")) }
        return fields
    }

    // MARK: Files

    /// The columns files write a layer's geometry in (measurements.csv, predictions.csv,
    /// `sweeps expand --csv`), after its sizes: stride, padding (top, left, bottom, right) in
    /// numbers, dilation, groups and the kind (`conv`, `fc`).
    public static let geometryColumns = [
        "stride_h", "stride_w", "pad_top", "pad_left", "pad_bottom", "pad_right", "dilation_h", "dilation_w", "groups",
        "layer",
    ]

    /// The fields of ``geometryColumns`` for this layer.
    public var geometryFields: [String] {
        let p = resolvedPadding
        return [strideHeight, strideWidth, p.top, p.left, p.bottom, p.right, dilationHeight, dilationWidth, groups]
            .map(String.init) + [kind.rawValue]
    }

    // MARK: Equality

    /// Shapes are equal when they describe the same computation: padding is compared by its
    /// numbers, so `same` equals the explicit padding it stands for.
    public static func == (a: ConvShape, b: ConvShape) -> Bool {
        a.batch == b.batch && a.height == b.height && a.width == b.width && a.inputChannels == b.inputChannels
            && a.outputChannels == b.outputChannels && a.kernelHeight == b.kernelHeight
            && a.kernelWidth == b.kernelWidth && a.strideHeight == b.strideHeight && a.strideWidth == b.strideWidth
            && a.dilationHeight == b.dilationHeight && a.dilationWidth == b.dilationWidth && a.groups == b.groups
            && a.kind == b.kind && a.resolvedPadding == b.resolvedPadding
    }

    /// Hashes what ``==`` compares (padding by its numbers).
    public func hash(into hasher: inout Hasher) {
        for value in [
            batch, height, width, inputChannels, outputChannels, kernelHeight, kernelWidth, strideHeight, strideWidth,
            dilationHeight, dilationWidth, groups, padTop, padLeft, padBottom, padRight,
        ] {
            hasher.combine(value)
        }
        hasher.combine(kind)
    }
}

/// The zeros added around a convolution's input.
public enum ConvPadding: Hashable, Sendable, CustomStringConvertible {
    /// PyTorch's `padding='same'`: `d·(K − 1)` zeros per axis, the smaller half before; needs
    /// stride 1 (the output then has the input's size).
    case same
    /// No padding.
    case valid
    /// Zeros above, left, below and right of the input.
    case explicit(top: Int, left: Int, bottom: Int, right: Int)

    /// The same padding on every side.
    public static func uniform(_ amount: Int) -> ConvPadding {
        .explicit(top: amount, left: amount, bottom: amount, right: amount)
    }

    /// Reads `same`, `valid`, `P` (every side) or `T,L,B,R`; nil otherwise (negative numbers
    /// included).
    public init?(_ text: String) {
        switch text {
        case "same": self = .same
        case "valid": self = .valid
        default:
            let parts = text.split(separator: ",", omittingEmptySubsequences: false).map {
                Int($0.trimmingCharacters(in: .whitespaces))
            }
            guard parts.allSatisfy({ $0 != nil && $0! >= 0 }) else { return nil }
            switch parts.count {
            case 1: self = .uniform(parts[0]!)
            case 4: self = .explicit(top: parts[0]!, left: parts[1]!, bottom: parts[2]!, right: parts[3]!)
            default: return nil
            }
        }
    }

    /// `same`, `valid` or `T,L,B,R`: what ``init(_:)`` reads.
    public var description: String {
        switch self {
        case .same: return "same"
        case .valid: return "valid"
        case let .explicit(top, left, bottom, right): return "\(top),\(left),\(bottom),\(right)"
        }
    }
}

/// What a layer computes.
public enum LayerKind: String, Hashable, Codable, Sendable, CaseIterable, CustomStringConvertible {
    /// A 2-D convolution.
    case convolution = "conv"
    /// A fully-connected layer (a GEMM of M rows).
    case fullyConnected = "fc"

    /// The raw value, as files write it.
    public var description: String { rawValue }
}

extension ConvShape {
    /// A field of ``geometryColumns`` that does not read: its column and what is wrong.
    public struct GeometryFieldError: Error, Equatable {
        /// The column.
        public var column: String
        /// What is wrong with its text.
        public var problem: String
    }

    /// Applies the ``geometryColumns`` that `field` gives (nil: the file has no such column) to
    /// this shape: the one reader of the layer columns of measurements.csv and of fit inputs.
    /// Strides, dilations and groups must be integers from 1, paddings (all four, or none) from
    /// 0, `layer` `conv` or `fc`; a padding that is what 'same' gives is read as `same`. The
    /// layer's rules are the caller's to check (``validate()`` or ``validateGeometry()``).
    public mutating func readGeometry(_ field: (String) -> String?) throws(GeometryFieldError) {
        func value(_ column: String, minimum: Int) throws(GeometryFieldError) -> Int? {
            guard let text = field(column) else { return nil }
            guard let number = Int(text), number >= minimum else {
                throw GeometryFieldError(
                    column: column,
                    problem: "expected an integer \(minimum == 0 ? "0 or more" : "1 or more"), got '\(text)'")
            }
            return number
        }
        if let v = try value("stride_h", minimum: 1) { strideHeight = v }
        if let v = try value("stride_w", minimum: 1) { strideWidth = v }
        if let v = try value("dilation_h", minimum: 1) { dilationHeight = v }
        if let v = try value("dilation_w", minimum: 1) { dilationWidth = v }
        if let v = try value("groups", minimum: 1) { groups = v }
        if let top = try value("pad_top", minimum: 0), let left = try value("pad_left", minimum: 0),
            let bottom = try value("pad_bottom", minimum: 0), let right = try value("pad_right", minimum: 0)
        {
            padding = .explicit(top: top, left: left, bottom: bottom, right: right)
        }
        if let text = field("layer") {
            guard let kind = LayerKind(rawValue: text) else {
                throw GeometryFieldError(column: "layer", problem: "expected conv or fc, got '\(text)'")
            }
            self.kind = kind
        }
        if hasGridGeometry { padding = .same }
    }

    /// Whether a file holding `shapes` needs the ``geometryColumns``: one of them is not a grid
    /// layer (``hasGridGeometry``).
    public static func needGeometryColumns<S: Sequence>(_ shapes: S) -> Bool where S.Element == ConvShape {
        shapes.contains { !$0.hasGridGeometry }
    }
}
