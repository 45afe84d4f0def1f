import ConvKernels

/// Where something is in a sweep file: line and column (from 1) and the field path.
struct FileLocation: Hashable, Sendable {
    var line: Int?
    var column: Int?
    var field: String

    func error(_ file: String, _ message: String) -> SweepError {
        SweepError(file: file, line: line, column: column, field: field, message: message)
    }
}

/// One series of a sweep (a line of a figure): a label and a value for every axis.
///
/// The series expands to the product of its multi-valued axes (numbers take part in every point),
/// or, with ``zip``, pairwise: the i-th point takes the i-th value of every multi-valued axis.
/// Points are numbered in the order of nested loops over the axes in the order
/// H, W, Cin, Cout, K (or K1, K2), batch: H varies slowest, batch fastest.
public struct SweepSeries: Sendable {
    /// The label, e.g. `Cin=150`.
    public var label: String
    /// The label made safe for configuration identifiers (see ``SweepConfiguration/id``).
    public var key: String
    /// The value of each axis the series gives (batch may be absent: it is then 1).
    public var axes: [SweepAxis: SweepAxisValue]
    /// Named numbers expressions may refer to, e.g. `R: 4500`.
    public var constants: [String: Double]
    /// Whether multi-valued axes are paired index by index instead of multiplied.
    public var zip: Bool
    /// A convolution (the default) or a fully-connected layer (`layer: fc`).
    public var kind: LayerKind = .convolution
    /// The padding when no padding axis is given: `same` (the default) or `valid`.
    public var paddingMode: ConvPadding = .same
    /// How many configurations the series expands to.
    public let count: Int

    /// The multi-valued axes in loop order, with their values.
    let dimensions: [(axis: SweepAxis, values: [Int])]
    /// Where each axis value is written.
    let axisLocations: [SweepAxis: FileLocation]
    /// The file, for error messages.
    let file: String
    /// Where the series is written.
    let location: FileLocation

    /// The axes in loop order (H slowest, batch fastest).
    static let loopOrder: [SweepAxis] =
        [.height, .width, .inputChannels, .outputChannels, .kernel, .kernelHeight, .kernelWidth, .batch]
        + SweepAxis.geometry

    /// Creates a series and checks it: every name an expression uses exists, no expression depends
    /// on itself, zipped axes have one length, and every expression gives a positive integer.
    init(
        label: String, key: String, axes: [SweepAxis: SweepAxisValue], constants: [String: Double],
        zip: Bool, location: FileLocation, axisLocations: [SweepAxis: FileLocation], file: String,
        kind: LayerKind = .convolution, paddingMode: ConvPadding = .same
    ) throws(SweepError) {
        self.kind = kind
        self.paddingMode = paddingMode
        self.location = location
        self.label = label
        self.key = key
        self.axes = axes
        self.constants = constants
        self.zip = zip
        self.axisLocations = axisLocations
        self.file = file
        var dimensions: [(axis: SweepAxis, values: [Int])] = []
        for axis in SweepSeries.loopOrder {
            guard let value = axes[axis], !value.isNumber, let values = value.values else { continue }
            dimensions.append((axis, values))
        }
        self.dimensions = dimensions
        if zip, let first = dimensions.first {
            for other in dimensions.dropFirst() where other.values.count != first.values.count {
                throw axisLocations[other.axis]!.error(
                    file,
                    "zip: \(other.axis) has \(other.values.count) values but \(first.axis) has \(first.values.count)")
            }
            count = first.values.count
        } else {
            var product = 1
            for dimension in dimensions {
                let (next, overflow) = product.multipliedReportingOverflow(by: dimension.values.count)
                guard !overflow, next <= SweepSeries.maximumCount else {
                    throw location.error(
                        file, "the series expands to more than \(SweepSeries.maximumCount) configurations")
                }
                product = next
            }
            count = product
        }
        try checkNames()
        try checkCycles()
        try checkExpressions()
    }

    /// The most combinations of its axes at which an expression is checked when a file is loaded.
    public static let maximumCheckedCombinations = 4_000_000

    /// The most configurations one series may expand to (2^40).
    public static let maximumCount = 1 << 40

    /// The axis a name stands for: K1 and K2 are K when the series gives K.
    func axis(named name: String) -> SweepAxis? {
        if name == "K1" || name == "K2", axes[.kernel] != nil { return .kernel }
        guard let named = SweepAxis(rawValue: name) else { return nil }
        // A part (stride_h, pad_top, …) stands for its shorthand when the series gives that.
        if axes[named] == nil, let shorthand = SweepAxis.shorthands.first(where: { $0.1.contains(named) })?.0,
            axes[shorthand] != nil
        {
            return shorthand
        }
        guard let axis = Optional(named), axes[axis] != nil else { return nil }
        return axis
    }

    private var expressionAxes: [(axis: SweepAxis, expression: SweepExpression, text: String)] {
        SweepSeries.loopOrder.compactMap { axis in
            guard case let .expression(expression, text)? = axes[axis] else { return nil }
            return (axis, expression, text)
        }
    }

    private func checkNames() throws(SweepError) {
        for (axis, expression, text) in expressionAxes {
            for name in expression.names.sorted() where self.axis(named: name) == nil && constants[name] == nil {
                var known = SweepSeries.loopOrder.filter { axes[$0] != nil }.map(\.rawValue)
                if axes[.kernel] != nil { known += ["K1", "K2"] }
                known += constants.keys.sorted()
                throw axisLocations[axis]!.error(
                    file, "unknown name '\(name)' in \"\(text)\" (known here: \(known.joined(separator: ", ")))")
            }
        }
    }

    private func checkCycles() throws(SweepError) {
        // Depth-first search over expression axes; a grey node met again closes a cycle.
        var state: [SweepAxis: Bool] = [:]  // false: on the path, true: done
        func visit(_ axis: SweepAxis, path: [SweepAxis]) throws(SweepError) {
            if state[axis] == true { return }
            if state[axis] == false {
                let cycle = (path.drop { $0 != axis } + [axis]).map(\.rawValue).joined(separator: " → ")
                let origin = path.first { $0 == axis } ?? axis
                throw axisLocations[origin]!.error(file, "the expression refers to itself: \(cycle)")
            }
            guard case let .expression(expression, _)? = axes[axis] else { return }
            state[axis] = false
            for name in expression.names.sorted() {
                if let next = self.axis(named: name) { try visit(next, path: path + [axis]) }
            }
            state[axis] = true
        }
        for (axis, _, _) in expressionAxes { try visit(axis, path: []) }
    }

    /// The multi-valued axes `axis` depends on, directly or through other expressions.
    private func dependencies(of axis: SweepAxis) -> Set<SweepAxis> {
        guard case let .expression(expression, _)? = axes[axis] else {
            return dimensions.contains { $0.axis == axis } ? [axis] : []
        }
        var result: Set<SweepAxis> = []
        for name in expression.names {
            if let next = self.axis(named: name) { result.formUnion(dependencies(of: next)) }
        }
        return result
    }

    /// Evaluates every expression at every combination of the axes it depends on, so a file is
    /// valid or not whatever points a sample draws.
    private func checkExpressions() throws(SweepError) {
        if zip {
            for index in 0..<count { _ = try shape(at: index) }
            return
        }
        for (axis, _, _) in expressionAxes {
            let used = dimensions.filter { dependencies(of: axis).contains($0.axis) }
            let combinations = used.reduce(1) { $0 * $1.values.count }
            // Beyond this, only the configurations the file lists are evaluated (when expanded).
            guard combinations <= SweepSeries.maximumCheckedCombinations else { continue }
            for combination in 0..<combinations {
                var memo = fixedValues
                var rest = combination
                for dimension in used.reversed() {
                    memo[dimension.axis] = dimension.values[rest % dimension.values.count]
                    rest /= dimension.values.count
                }
                _ = try value(of: axis, memo: &memo)
            }
        }
    }

    /// The single-number axes.
    private var fixedValues: [SweepAxis: Int] {
        var values: [SweepAxis: Int] = [:]
        for (axis, value) in axes { if case let .number(number) = value { values[axis] = number } }
        return values
    }

    /// The value of `axis` given the axis values in `memo`, evaluating (and remembering)
    /// the expressions it needs.
    private func value(of axis: SweepAxis, memo: inout [SweepAxis: Int]) throws(SweepError) -> Int {
        if let known = memo[axis] { return known }
        guard case let .expression(expression, text)? = axes[axis] else {
            preconditionFailure("axis \(axis) has no value at this point")
        }
        let referenced = Set(expression.names.compactMap { self.axis(named: $0) })
        let result: Double
        do {
            result = try expression.evaluate { name in
                if let constant = constants[name] { return constant }
                guard let next = self.axis(named: name) else { return nil }
                return Double(try self.value(of: next, memo: &memo))
            }
        } catch let error as SweepError {
            throw error
        } catch {
            let message = (error as? SweepExpression.Error)?.message ?? "\(error)"
            throw axisLocations[axis]!.error(file, "\"\(text)\" \(describe(memo, referenced)): \(message)")
        }
        guard result == result.rounded(), result >= Double(axis.minimum), result <= Double(ConvShape.maximumDimension)
        else {
            // Int(result) only where it fits: a hostile file's 2 * 9223372036854775807 is shown, not a crash.
            let shown = result == result.rounded() && abs(result) < 1e15 ? String(Int(result)) : String(result)
            let reason =
                result != result.rounded()
                ? "which is not an integer (use round, floor or ceil)"
                : "but \(axis) must be \(axis.minimum == 0 ? "an integer, 0 or more," : "a positive integer") no larger than \(ConvShape.maximumDimension)"
            throw axisLocations[axis]!.error(
                file, "\"\(text)\" gives \(shown) \(describe(memo, referenced)), \(reason)")
        }
        memo[axis] = Int(result)
        return Int(result)
    }

    /// `at H=4, K=3`: the values of the axes an expression refers to.
    private func describe(_ memo: [SweepAxis: Int], _ referenced: Set<SweepAxis>) -> String {
        let known = SweepSeries.loopOrder.filter(referenced.contains).compactMap { axis in
            memo[axis].map { "\(axis)=\($0)" }
        }
        return known.isEmpty ? "(constant)" : "at " + known.joined(separator: ", ")
    }

    /// The configuration at `index` (0 ..< ``count``) of the series.
    public func shape(at index: Int) throws(SweepError) -> ConvShape {
        precondition(index >= 0 && index < count, "index \(index) outside 0..<\(count)")
        var memo = fixedValues
        if zip {
            for dimension in dimensions { memo[dimension.axis] = dimension.values[index] }
        } else {
            var rest = index
            for dimension in dimensions.reversed() {
                memo[dimension.axis] = dimension.values[rest % dimension.values.count]
                rest /= dimension.values.count
            }
        }
        for axis in SweepSeries.loopOrder where axes[axis] != nil { _ = try value(of: axis, memo: &memo) }
        if kind == .fullyConnected {
            return .fullyConnected(
                rows: memo[.batch] ?? 1, inputs: memo[.inputChannels]!, outputs: memo[.outputChannels]!)
        }
        let kernelHeight = memo[.kernel] ?? memo[.kernelHeight]!
        let kernelWidth = memo[.kernel] ?? memo[.kernelWidth]!
        func pair(_ shorthand: SweepAxis, _ first: SweepAxis, _ second: SweepAxis) -> (Int, Int) {
            (memo[shorthand] ?? memo[first] ?? 1, memo[shorthand] ?? memo[second] ?? 1)
        }
        var padding = paddingMode
        if let all = memo[.padding] {
            padding = .uniform(all)
        } else if let top = memo[.padTop] {
            padding = .explicit(top: top, left: memo[.padLeft]!, bottom: memo[.padBottom]!, right: memo[.padRight]!)
        }
        return ConvShape(
            batch: memo[.batch] ?? 1, height: memo[.height]!, width: memo[.width]!,
            inputChannels: memo[.inputChannels]!, outputChannels: memo[.outputChannels]!,
            kernelHeight: kernelHeight, kernelWidth: kernelWidth, stride: pair(.stride, .strideHeight, .strideWidth),
            padding: padding, dilation: pair(.dilation, .dilationHeight, .dilationWidth), groups: memo[.groups] ?? 1)
    }

    /// The error of a layer of this series that breaks a rule of its geometry, at the axis the rule
    /// is about (the series when no single axis is).
    func geometryError(_ shape: ConvShape, _ error: ConvShapeError) -> SweepError {
        var candidates: [SweepAxis] = []
        switch error {
        case .groupsDoNotDivide: candidates = [.groups]
        case .sameNeedsUnitStride: candidates = [.stride, .strideHeight, .padding]
        case .negativePadding: candidates = [.padding, .padTop]
        case .noOutput(let axis, _, _, _, _):
            candidates = axis == "height" ? [.height, .kernel, .kernelHeight] : [.width, .kernel, .kernelWidth]
        default: candidates = []
        }
        let place = candidates.lazy.compactMap { self.axisLocations[$0] }.first ?? location
        return place.error(file, "\(shape): \(error.description)")
    }
}
