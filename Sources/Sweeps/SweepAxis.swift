import Foundation

/// An axis of a sweep series: one dimension of the convolution.
public enum SweepAxis: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// Input height H (equal to the output height).
    case height = "H"
    /// Input width W (equal to the output width).
    case width = "W"
    /// Input channels Cin.
    case inputChannels = "Cin"
    /// Output channels Cout.
    case outputChannels = "Cout"
    /// A square kernel: sets K1 = K2 = K.
    case kernel = "K"
    /// Kernel height K1 (give K2 too, and not K).
    case kernelHeight = "K1"
    /// Kernel width K2 (give K1 too, and not K).
    case kernelWidth = "K2"
    /// Images per batch; 1 when not given. A fully-connected series' rows M.
    case batch
    /// Stride along both axes (1 when not given); or give `stride_h` and `stride_w`.
    case stride
    /// Vertical stride.
    case strideHeight = "stride_h"
    /// Horizontal stride.
    case strideWidth = "stride_w"
    /// Zeros on every side (0 or more); or give `pad_top`, `pad_left`, `pad_bottom`, `pad_right`.
    /// A series may instead write `padding: same` (the default) or `padding: valid`.
    case padding
    /// Zeros above the input.
    case padTop = "pad_top"
    /// Zeros left of the input.
    case padLeft = "pad_left"
    /// Zeros below the input.
    case padBottom = "pad_bottom"
    /// Zeros right of the input.
    case padRight = "pad_right"
    /// Dilation along both axes (1 when not given); or give `dilation_h` and `dilation_w`.
    case dilation
    /// Vertical dilation.
    case dilationHeight = "dilation_h"
    /// Horizontal dilation.
    case dilationWidth = "dilation_w"
    /// Groups (1 when not given): `groups: Cin` is a depthwise convolution.
    case groups

    /// The smallest value the axis takes: 0 for paddings, 1 for everything else.
    public var minimum: Int {
        switch self {
        case .padding, .padTop, .padLeft, .padBottom, .padRight: return 0
        default: return 1
        }
    }

    /// The axes of a layer's geometry beyond its sizes (none of them may be given to a
    /// fully-connected series).
    public static let geometry: [SweepAxis] = [
        .stride, .strideHeight, .strideWidth, .padding, .padTop, .padLeft, .padBottom, .padRight, .dilation,
        .dilationHeight, .dilationWidth, .groups,
    ]

    /// The pairs and quadruples that stand for one field given per side: the shorthand, its parts.
    static let shorthands: [(SweepAxis, [SweepAxis])] = [
        (.stride, [.strideHeight, .strideWidth]), (.dilation, [.dilationHeight, .dilationWidth]),
        (.padding, [.padTop, .padLeft, .padBottom, .padRight]),
    ]

    /// The name written in sweep files and expressions.
    public var description: String { rawValue }
}

/// How a series gives the values of one axis.
public enum SweepAxisValue: Hashable, Sendable {
    /// One value: `150`.
    case number(Int)
    /// The listed values, in order: `[1, 2, 4]`.
    case list([Int])
    /// `from`, `from + step`, … up to and including `to` when it is reached: `{from: 1, to: 650, step: 1}`.
    case range(from: Int, to: Int, step: Int)
    /// `count` values `from · factor^i`, i = 0 ..< count, each an integer:
    /// `{from: 100, factor: 2, count: 10}`.
    case geometric(from: Int, factor: Double, count: Int)
    /// A value computed at every point from other axes and series constants: `"round(300 / K)"`.
    case expression(SweepExpression, text: String)

    /// The values of a number, list, range or geometric sequence; nil for an expression.
    public var values: [Int]? {
        switch self {
        case let .number(value): return [value]
        case let .list(values): return values
        case let .range(from, to, step): return Array(stride(from: from, through: to, by: step))
        case let .geometric(from, factor, count):
            return (0..<count).map { Int((Double(from) * pow(factor, Double($0))).rounded()) }
        case .expression: return nil
        }
    }

    /// Whether the value is a single number (it then takes part in every point, also in `zip`).
    public var isNumber: Bool {
        if case .number = self { return true }
        return false
    }
}
