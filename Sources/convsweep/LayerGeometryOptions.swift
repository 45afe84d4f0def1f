import ArgumentParser
import ConvKernels

/// Two integers given as `N` (both) or `A,B`: a stride or a dilation, height first.
struct AxisPair: ExpressibleByArgument, Equatable, CustomStringConvertible {
    var height: Int
    var width: Int

    init(_ height: Int, _ width: Int) {
        self.height = height
        self.width = width
    }

    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.allSatisfy({ $0 != nil }) else { return nil }
        switch parts.count {
        case 1: self.init(parts[0]!, parts[0]!)
        case 2: self.init(parts[0]!, parts[1]!)
        default: return nil
        }
    }

    var description: String { height == width ? "\(height)" : "\(height),\(width)" }
}

extension ConvPadding: ExpressibleByArgument {
    /// Reads what ``ConvPadding/init(_:)`` reads.
    public init?(argument: String) { self.init(argument) }
    /// `same`, `valid` or `T,L,B,R`.
    public var defaultValueDescription: String { description }
}

/// The groups of a convolution: a number, or `depthwise` (as many as input channels).
enum GroupsArgument: ExpressibleByArgument, Equatable {
    case count(Int)
    case depthwise

    init?(argument: String) {
        if argument == "depthwise" {
            self = .depthwise
        } else if let count = Int(argument) {
            self = .count(count)
        } else {
            return nil
        }
    }

    func value(inputChannels: Int) -> Int {
        switch self {
        case .count(let count): return count
        case .depthwise: return inputChannels
        }
    }
}

/// The flags of a layer beyond its sizes: stride, padding, dilation, and `--fc` for a
/// fully-connected layer. Their defaults are the alpha-FLOPs grid's layer. The groups are a flag
/// of each command (``GroupsArgument``): `measure --groups`, `predict --layer-groups` (where
/// `--groups` is the fit's grouping).
struct LayerGeometryOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Stride: S for both axes or SH,SW (1…1048576; default 1). A stride other than 1 needs --padding in numbers or 'valid'.",
            valueName: "S|SH,SW"))
    var stride: AxisPair?
    @Option(
        help: ArgumentHelp(
            "Zeros around the input: 'same' (the default, stride 1 only: d·(K-1) split as PyTorch does), 'valid' (none), P (every side) or T,L,B,R.",
            valueName: "P|T,L,B,R|same|valid"))
    var padding: ConvPadding?
    @Option(
        help: ArgumentHelp(
            "Dilation: D for both axes or DH,DW (1…1048576; default 1: adjacent taps).", valueName: "D|DH,DW"))
    var dilation: AxisPair?
    @Flag(
        name: .customLong("fc"),
        help: "The layer is fully connected: --batch rows (M) of --cin features into --cout.")
    var fullyConnected = false

    /// `shape` with the flags given, and `groups`, applied.
    func applied(to shape: ConvShape, groups: GroupsArgument?) -> ConvShape {
        var shape = shape
        if let stride { (shape.strideHeight, shape.strideWidth) = (stride.height, stride.width) }
        if let dilation { (shape.dilationHeight, shape.dilationWidth) = (dilation.height, dilation.width) }
        if let padding { shape.padding = padding }
        if let groups { shape.groups = groups.value(inputChannels: shape.inputChannels) }
        return shape
    }

    /// Checks the numbers are within range (the layer's rules are checked on the shape);
    /// `groupsFlag` names the command's groups flag.
    func validate(groups: GroupsArgument?, groupsFlag: String) throws {
        for (flag, pair) in [("--stride", stride), ("--dilation", dilation)] {
            guard let pair else { continue }
            for value in [pair.height, pair.width] where !(1...ConvShape.maximumDimension).contains(value) {
                throw ValidationError(
                    "\(flag) must be integers from 1 to \(ConvShape.maximumDimension) (got \(pair))")
            }
        }
        if case .count(let count)? = groups, !(1...ConvShape.maximumDimension).contains(count) {
            throw ValidationError(
                "\(groupsFlag) must be an integer from 1 to \(ConvShape.maximumDimension) or 'depthwise' (got \(count))"
            )
        }
    }

    /// A fully-connected layer takes no kernel, spatial size, stride, padding, dilation or groups.
    func validateFullyConnected(given sizes: [(String, Int?)], groups: (flag: String, given: Bool)) throws {
        let given =
            sizes.filter { $0.1 != nil }.map(\.0)
            + [
                ("--stride", stride != nil), ("--padding", padding != nil), ("--dilation", dilation != nil),
                (groups.flag, groups.given),
            ].filter(\.1).map(\.0)
        if let first = given.first {
            throw ValidationError(
                "--fc measures a fully-connected layer, which has no kernel, spatial size, stride, padding, dilation or groups: drop \(first) (its rows are --batch, its features --cin and --cout)"
            )
        }
    }

    /// The flags a shape error is about, for the message's prefix.
    static func flag(naming error: ConvShapeError) -> String {
        let field: String
        switch error {
        case .nonPositive(let name, _), .tooLarge(let name, _, _), .negativePadding(let name, _),
            .notFullyConnected(let name, _):
            field = name
        case .groupsDoNotDivide: return "--groups"
        case .noOutput(let axis, _, _, _, _): field = axis
        case .sameNeedsUnitStride: return "--padding, --stride"
        case .overflow: return "--h, --w, --cin, --cout, -k, --batch"
        }
        switch field {
        case "batch": return "--batch"
        case "height": return "--h, -k, --stride, --padding, --dilation"
        case "width": return "--w, --k2, --stride, --padding, --dilation"
        case "inputChannels": return "--cin"
        case "outputChannels": return "--cout"
        case "kernelHeight": return "-k"
        case "kernelWidth": return "--k2"
        case "strideHeight", "strideWidth": return "--stride"
        case "dilationHeight", "dilationWidth": return "--dilation"
        case "groups": return "--groups"
        case "padTop", "padLeft", "padBottom", "padRight", "padding": return "--padding"
        default: return "--h, --w, --cin, --cout, -k, --batch"
        }
    }
}
