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
    /// Images per batch; 1 when not given.
    case batch

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
