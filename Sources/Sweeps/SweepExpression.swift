import Foundation

/// An arithmetic expression that computes an axis value from other axes and constants,
/// e.g. `round(300 / K)` or `min(Cin, 2 * Cout)`.
///
/// Grammar (usual precedence; binary operators associate to the left):
///
///     expression := term (("+" | "-" | "−") term)*
///     term       := unary (("*" | "×" | "/" | "÷") unary)*
///     unary      := ("-" | "−" | "+") unary | primary
///     primary    := number | name | name "(" expression ("," expression)* ")" | "(" expression ")"
///
/// Functions: `round` (half away from zero), `floor`, `ceil` (one argument each), `min` and `max`
/// (two or more). Names are axis names (`H`, `W`, `Cin`, `Cout`, `K`, `K1`, `K2`, `batch`) or
/// series constants. Arithmetic is in `Double`; division by zero is an error, never infinity.
///
/// Limits: at most ``maximumDepth`` nested parentheses, signs or calls and ``maximumOperations``
/// operations and values in one expression (a hostile file cannot exhaust the stack), and a value
/// beyond ±1e300 is an error, never infinity.
public indirect enum SweepExpression: Hashable, Sendable, CustomStringConvertible {
    /// A literal number: `300`, `2.5`, `1e3`.
    case number(Double)
    /// An axis or a series constant: `K`, `R`.
    case name(String)
    /// Unary minus: `-x`.
    case negate(SweepExpression)
    /// `lhs op rhs`.
    case binary(BinaryOperator, SweepExpression, SweepExpression)
    /// A function applied to its arguments: `round(300 / K)`.
    case call(Function, [SweepExpression])

    /// The four arithmetic operators.
    public enum BinaryOperator: String, Sendable {
        /// `+`
        case add = "+"
        /// `-`
        case subtract = "-"
        /// `*`
        case multiply = "*"
        /// `/`
        case divide = "/"
    }

    /// The functions an expression may call.
    public enum Function: String, CaseIterable, Sendable {
        case round, floor, ceil, min, max
    }

    /// A problem in an expression: its message and the character offset (from 0) where it is.
    public struct Error: Swift.Error, Equatable, Sendable {
        /// Unicode scalars from the start of the expression to the problem (0 for evaluation errors).
        public var offset: Int
        /// What is wrong, in words.
        public var message: String
    }

    /// The deepest nesting of parentheses, signs and calls an expression may have.
    public static let maximumDepth = 64
    /// The most operators, values and calls one expression may hold.
    public static let maximumOperations = 1000

    /// Parses `text`.
    ///
    /// - Throws: ``SweepExpression/Error`` with the offset of the first character that does not fit.
    public init(parsing text: String) throws {
        var parser = Parser(Array(text.unicodeScalars))
        self = try parser.parseExpression()
        parser.skipSpaces()
        if parser.position < parser.scalars.count {
            throw Error(offset: parser.position, message: "unexpected '\(parser.scalars[parser.position])'")
        }
    }

    /// Every name the expression refers to.
    public var names: Set<String> {
        switch self {
        case .number: return []
        case let .name(name): return [name]
        case let .negate(operand): return operand.names
        case let .binary(_, lhs, rhs): return lhs.names.union(rhs.names)
        case let .call(_, arguments): return arguments.reduce(into: []) { $0.formUnion($1.names) }
        }
    }

    /// The value of the expression, looking names up with `value(of:)`.
    ///
    /// - Throws: ``SweepExpression/Error`` (offset 0) on division by zero or a name `value(of:)`
    ///   returns nil for; rethrows what `value(of:)` throws.
    public func evaluate(_ value: (String) throws -> Double?) throws -> Double {
        switch self {
        case let .number(number):
            return number
        case let .name(name):
            guard let result = try value(name) else { throw Error(offset: 0, message: "unknown name '\(name)'") }
            return result
        case let .negate(operand):
            return -(try operand.evaluate(value))
        case let .binary(op, lhs, rhs):
            let left = try lhs.evaluate(value)
            let right = try rhs.evaluate(value)
            let result: Double
            switch op {
            case .add: result = left + right
            case .subtract: result = left - right
            case .multiply: result = left * right
            case .divide:
                guard right != 0 else { throw Error(offset: 0, message: "division by zero: \(rhs) = 0") }
                result = left / right
            }
            guard result.isFinite, abs(result) <= 1e300 else {
                throw Error(offset: 0, message: "\(self) overflows (beyond ±1e300)")
            }
            return result
        case let .call(function, arguments):
            let values = try arguments.map { try $0.evaluate(value) }
            switch function {
            case .round: return values[0].rounded(.toNearestOrAwayFromZero)
            case .floor: return values[0].rounded(.down)
            case .ceil: return values[0].rounded(.up)
            case .min: return values.min()!
            case .max: return values.max()!
            }
        }
    }

    /// The expression written back with explicit parentheses around every operation.
    public var description: String {
        switch self {
        case let .number(number):
            return number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
        case let .name(name): return name
        case let .negate(operand): return "-\(operand)"
        case let .binary(op, lhs, rhs): return "(\(lhs) \(op.rawValue) \(rhs))"
        case let .call(function, arguments):
            return "\(function.rawValue)(\(arguments.map(\.description).joined(separator: ", ")))"
        }
    }
}

/// A recursive-descent parser over the Unicode scalars of an expression.
private struct Parser {
    let scalars: [Unicode.Scalar]
    var position = 0
    /// Nesting entered so far (parentheses, signs, calls).
    var depth = 0
    /// Operators, values and calls read so far.
    var operations = 0

    init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

    mutating func skipSpaces() {
        while position < scalars.count, scalars[position].properties.isWhitespace { position += 1 }
    }

    /// The next non-space scalar, without consuming it.
    mutating func peek() -> Unicode.Scalar? {
        skipSpaces()
        return position < scalars.count ? scalars[position] : nil
    }

    /// Counts one more operation, refusing an expression over the limit.
    mutating func count() throws {
        operations += 1
        try within(operations, SweepExpression.maximumOperations, "is too long", "operations")
    }

    /// Enters one level of nesting, refusing an expression nested deeper than the limit.
    mutating func enter() throws {
        depth += 1
        try within(depth, SweepExpression.maximumDepth, "is nested too deeply", "levels")
    }

    /// Refuses, at the current position, a `count` over `limit`: "the expression `what` (more than
    /// `limit` `units`)".
    func within(_ count: Int, _ limit: Int, _ what: String, _ units: String) throws {
        guard count <= limit else {
            throw SweepExpression.Error(
                offset: position, message: "the expression \(what) (more than \(limit) \(units))")
        }
    }

    mutating func parseExpression() throws -> SweepExpression {
        var result = try parseTerm()
        while let next = peek() {
            let op: SweepExpression.BinaryOperator
            switch next {
            case "+": op = .add
            case "-", "\u{2212}": op = .subtract
            default: return result
            }
            position += 1
            try count()
            result = .binary(op, result, try parseTerm())
        }
        return result
    }

    mutating func parseTerm() throws -> SweepExpression {
        var result = try parseUnary()
        while let next = peek() {
            let op: SweepExpression.BinaryOperator
            switch next {
            case "*", "\u{00D7}": op = .multiply
            case "/", "\u{00F7}": op = .divide
            default: return result
            }
            position += 1
            try count()
            result = .binary(op, result, try parseUnary())
        }
        return result
    }

    mutating func parseUnary() throws -> SweepExpression {
        switch peek() {
        case "-", "\u{2212}":
            position += 1
            try enter()
            defer { depth -= 1 }
            return .negate(try parseUnary())
        case "+":
            position += 1
            try enter()
            defer { depth -= 1 }
            return try parseUnary()
        default:
            return try parsePrimary()
        }
    }

    mutating func parsePrimary() throws -> SweepExpression {
        guard let next = peek() else {
            throw SweepExpression.Error(offset: position, message: "the expression ends where a value is expected")
        }
        let start = position
        try count()
        if next == "(" {
            position += 1
            try enter()
            defer { depth -= 1 }
            let inner = try parseExpression()
            try expect(")", opening: start)
            return inner
        }
        if next.properties.numericType != nil && next.isASCII || next == "." { return try parseNumber(from: start) }
        if next.properties.isAlphabetic || next == "_" { return try parseName(from: start) }
        throw SweepExpression.Error(offset: start, message: "unexpected '\(next)'")
    }

    /// Whether the scalar at `index` is an ASCII digit.
    private func isDigit(at index: Int) -> Bool {
        index < scalars.count && scalars[index].isASCII && scalars[index].properties.numericType != nil
    }

    /// A number starting at `start`: digits and points, and an exponent (1e3, 2.5E-2).
    mutating func parseNumber(from start: Int) throws -> SweepExpression {
        while isDigit(at: position) || position < scalars.count && scalars[position] == "." { position += 1 }
        if position < scalars.count, scalars[position] == "e" || scalars[position] == "E" {
            var end = position + 1
            if end < scalars.count, scalars[end] == "+" || scalars[end] == "-" { end += 1 }
            if isDigit(at: end) {
                position = end
                while isDigit(at: position) { position += 1 }
            }
        }
        let text = String(String.UnicodeScalarView(scalars[start..<position]))
        guard let number = Double(text), number.isFinite else {
            throw SweepExpression.Error(offset: start, message: "'\(text)' is not a number")
        }
        return .number(number)
    }

    /// A name starting at `start`, or a call of the function it names.
    mutating func parseName(from start: Int) throws -> SweepExpression {
        while position < scalars.count,
            scalars[position].properties.isAlphabetic || scalars[position] == "_" || isDigit(at: position)
        {
            position += 1
        }
        let name = String(String.UnicodeScalarView(scalars[start..<position]))
        guard peek() == "(" else { return .name(name) }
        guard let function = SweepExpression.Function(rawValue: name) else {
            throw SweepExpression.Error(
                offset: start,
                message: "unknown function '\(name)' (known: "
                    + SweepExpression.Function.allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }
        let opening = position
        position += 1
        try enter()
        defer { depth -= 1 }
        var arguments = [try parseExpression()]
        while peek() == "," {
            position += 1
            arguments.append(try parseExpression())
        }
        try expect(")", opening: opening)
        let oneArgument = [.round, .floor, .ceil].contains(function)
        if oneArgument, arguments.count != 1 {
            throw SweepExpression.Error(offset: start, message: "\(name) takes one argument (got \(arguments.count))")
        }
        if !oneArgument, arguments.count < 2 {
            throw SweepExpression.Error(offset: start, message: "\(name) takes two or more arguments")
        }
        return .call(function, arguments)
    }

    mutating func expect(_ closing: Unicode.Scalar, opening: Int) throws {
        guard peek() == closing else {
            throw SweepExpression.Error(
                offset: position < scalars.count ? position : opening,
                message: position < scalars.count
                    ? "expected '\(closing)' but found '\(scalars[position])'"
                    : "the '(' at character \(opening + 1) is never closed")
        }
        position += 1
    }
}
