import ConvKernels
import Foundation
import Yams

/// Reads a sweep file's YAML node tree, checking every field where it is written, so each error
/// names its line, column and field.
struct SweepFileReader {
    let file: String

    struct Contents {
        var name: String
        var description: String
        var series: [SweepSeries]
        var sample: SweepSample?
        var limits: SweepLimits
        /// `exclude_networks`: a directory of network files (relative to the sweep file) whose
        /// layers the sweep leaves out.
        var excludedNetworks: String?
    }

    // MARK: - The document

    /// The node tree of `yaml`; `empty` says what the file needs when it has none.
    /// The largest sweep or network file read, in bytes (the shipped ones are at most a few KiB).
    static let maximumBytes = 1 << 20
    /// The longest line of one, in bytes.
    static let maximumLineBytes = 4096
    /// The most values (scalars, lists, mappings, aliases counted again) one may hold.
    static let maximumNodes = 200_000

    func compose(_ yaml: String, empty: String) throws(SweepError) -> Node {
        // A hostile file cannot make the reader run for minutes: its size, its lines and the
        // values its aliases expand to are bounded before anything else reads it.
        guard yaml.utf8.count <= SweepFileReader.maximumBytes else {
            throw SweepError(file: file, message: "larger than \(SweepFileReader.maximumBytes) bytes: not a sweep file")
        }
        for (index, line) in yaml.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where line.utf8.count > SweepFileReader.maximumLineBytes {
            throw SweepError(
                file: file, line: index + 1, column: 1,
                message: "the line is longer than \(SweepFileReader.maximumLineBytes) bytes")
        }
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw SweepError(file: file, message: "the file is empty; \(empty)")
            }
            var budget = SweepFileReader.maximumNodes
            guard SweepFileReader.fits(node, budget: &budget) else {
                throw SweepError(
                    file: file,
                    message:
                        "holds more than \(SweepFileReader.maximumNodes) values (aliases counted again): not a sweep file"
                )
            }
            return node
        } catch let error as SweepError {
            throw error
        } catch let error as YamlError {
            throw convert(error)
        } catch {
            throw SweepError(file: file, message: "cannot read the YAML: \(error)")
        }
    }

    /// Whether `node` holds at most `budget` values, counting down (stops as soon as it does not).
    static func fits(_ node: Node, budget: inout Int) -> Bool {
        budget -= 1
        guard budget >= 0 else { return false }
        switch node {
        case .scalar: return true
        case let .sequence(sequence): return sequence.allSatisfy { fits($0, budget: &budget) }
        case let .mapping(mapping):
            return mapping.allSatisfy { fits($0.key, budget: &budget) && fits($0.value, budget: &budget) }
        case .alias: return true  // kept as a reference by compose, never expanded
        }
    }

    /// The bytes of the file at `path`.
    static func contents(of path: String) throws(SweepError) -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw SweepError(file: path, message: "cannot read the file (\((error as NSError).localizedDescription))")
        }
    }

    func read(yaml: String) throws(SweepError) -> Contents {
        let root = try compose(yaml, empty: "a sweep needs name and series")
        let top = try mapping(
            root, field: "", allowed: ["name", "description", "series", "sample", "limits", "exclude_networks"])
        guard let nameNode = top["name"] else {
            throw location(root, "name").error(file, "missing (the experiment name)")
        }
        let name = try string(nameNode, field: "name")
        guard name.unicodeScalars.allSatisfy(SweepFileReader.isIdentifierSafe), !name.contains("/"), !name.isEmpty
        else {
            throw location(nameNode, "name").error(
                file, "'\(name)' may hold only letters, digits and . _ : = + - (it starts every configuration id)")
        }
        var description = ""
        if let node = top["description"] { description = try string(node, field: "description") }
        guard let seriesNode = top["series"] else {
            throw location(root, "series").error(file, "missing (one or more series)")
        }
        guard case let .sequence(sequence) = seriesNode, !sequence.isEmpty else {
            throw location(seriesNode, "series").error(file, "must be a non-empty list of series")
        }
        var series: [SweepSeries] = []
        var keys: [String: String] = [:]
        for (index, node) in sequence.enumerated() {
            let one = try readSeries(node, field: "series[\(index)]")
            if let other = keys[one.key] {
                throw location(node, "series[\(index)].label").error(
                    file,
                    "'\(one.label)' gives the id part '\(one.key)' that series '\(other)' already has; labels must differ"
                )
            }
            keys[one.key] = one.label
            series.append(one)
        }
        var sample: SweepSample?
        if let node = top["sample"] { sample = try readSample(node) }
        var limits = SweepLimits()
        if let node = top["limits"] { limits = try readLimits(node) }
        var excluded: String?
        if let node = top["exclude_networks"] { excluded = try string(node, field: "exclude_networks") }
        return Contents(
            name: name, description: description, series: series, sample: sample, limits: limits,
            excludedNetworks: excluded)
    }

    func readSeries(_ node: Node, field: String) throws(SweepError) -> SweepSeries {
        let fields = ["label", "zip", "constants", "layer"]
        let entries = try mapping(
            node, field: field, allowed: fields + SweepAxis.allCases.map(\.rawValue), what: "axis or field")
        guard let labelNode = entries["label"] else { throw location(node, field + ".label").error(file, "missing") }
        let label = try string(labelNode, field: field + ".label")
        guard !label.isEmpty else { throw location(labelNode, field + ".label").error(file, "must not be empty") }
        var zip = false
        if let node = entries["zip"] { zip = try bool(node, field: field + ".zip") }
        let constants =
            try entries["constants"].map { node throws(SweepError) in try readConstants(node, field: field) } ?? [:]
        var kind = LayerKind.convolution
        if let node = entries["layer"] {
            let text = try string(node, field: field + ".layer")
            guard let known = LayerKind(rawValue: text) else {
                throw location(node, field + ".layer").error(
                    file, "'\(text)' is not a layer kind: conv (the default) or fc (fully connected)")
            }
            kind = known
        }
        // `padding: same` and `padding: valid` are words, not axis values.
        var paddingMode = ConvPadding.same
        if let node = entries["padding"], case let .scalar(scalar) = node, ["same", "valid"].contains(scalar.string) {
            paddingMode = scalar.string == "same" ? .same : .valid
        }
        var axes: [SweepAxis: SweepAxisValue] = [:]
        var locations: [SweepAxis: FileLocation] = [:]
        for axis in SweepAxis.allCases {
            guard let valueNode = entries[axis.rawValue] else { continue }
            let place = location(valueNode, field + "." + axis.rawValue)
            if axis == .padding, case let .scalar(scalar) = valueNode, ["same", "valid"].contains(scalar.string) {
                locations[axis] = place
                continue
            }
            axes[axis] = try axisValue(valueNode, at: place, minimum: axis.minimum)
            locations[axis] = place
        }
        let seriesPlace = location(node, field)
        if kind == .fullyConnected {
            try checkFullyConnected(locations: locations, at: seriesPlace)
            return try SweepSeries(
                label: label, key: SweepFileReader.idSafe(label), axes: axes, constants: constants, zip: zip,
                location: seriesPlace, axisLocations: locations, file: file, kind: kind)
        }
        try checkConvolutionAxes(axes, locations: locations, at: seriesPlace)
        return try SweepSeries(
            label: label, key: SweepFileReader.idSafe(label), axes: axes, constants: constants, zip: zip,
            location: seriesPlace, axisLocations: locations, file: file, paddingMode: paddingMode)
    }

    /// The named constants of a series' `constants` mapping, each a number and a name that is
    /// not an axis's or a function's.
    private func readConstants(_ node: Node, field: String) throws(SweepError) -> [String: Double] {
        var constants: [String: Double] = [:]
        for (key, value) in try mapping(node, field: field + ".constants", allowed: nil) {
            let place = field + ".constants." + key
            let keyNode = node.mapping?.first { $0.key.string == key }?.key ?? node
            guard SweepFileReader.isName(key), SweepAxis(rawValue: key) == nil, key != "K1", key != "K2",
                SweepExpression.Function(rawValue: key) == nil
            else {
                throw location(keyNode, place).error(
                    file, "'\(key)' cannot name a constant: use letters, digits and _, not an axis or function name")
            }
            constants[key] = try number(value, field: place)
        }
        return constants
    }

    /// A convolution series gives H, W, Cin and Cout, and its kernel as K or as both K1 and K2,
    /// its shorthands apart from their parts.
    private func checkConvolutionAxes(
        _ axes: [SweepAxis: SweepAxisValue], locations: [SweepAxis: FileLocation], at seriesPlace: FileLocation
    ) throws(SweepError) {
        for axis in [SweepAxis.height, .width, .inputChannels, .outputChannels] where axes[axis] == nil {
            throw seriesPlace.error(file, "missing axis \(axis)")
        }
        try checkShorthands(locations)
        switch (axes[.kernel] != nil, axes[.kernelHeight] != nil, axes[.kernelWidth] != nil) {
        case (true, false, false), (false, true, true): break
        case (false, false, false): throw seriesPlace.error(file, "missing axis K (or both K1 and K2)")
        case (true, _, _):
            let place = locations[axes[.kernelHeight] != nil ? .kernelHeight : .kernelWidth] ?? seriesPlace
            throw place.error(file, "give either K, or both K1 and K2, not both forms")
        case (false, true, false): throw seriesPlace.error(file, "K1 is given without K2")
        case (false, false, true): throw seriesPlace.error(file, "K2 is given without K1")
        }
    }

    /// A shorthand (stride, dilation, padding) and its parts are not given together, and parts
    /// come complete.
    private func checkShorthands(_ locations: [SweepAxis: FileLocation]) throws(SweepError) {
        for (shorthand, parts) in SweepAxis.shorthands {
            let given = parts.filter { locations[$0] != nil }
            if locations[shorthand] != nil, let first = given.first {
                throw locations[first]!.error(
                    file,
                    "give either \(shorthand), or \(parts.map(\.rawValue).joined(separator: ", ")), not both forms")
            }
            if !given.isEmpty, given.count < parts.count {
                let missing = parts.filter { locations[$0] == nil }.map(\.rawValue).joined(separator: ", ")
                throw locations[given[0]]!.error(file, "\(given[0]) is given without \(missing)")
            }
        }
    }

    /// A fully-connected series gives Cin and Cout (and batch, its rows), nothing of a kernel.
    private func checkFullyConnected(locations: [SweepAxis: FileLocation], at place: FileLocation) throws(SweepError) {
        for axis in [SweepAxis.inputChannels, .outputChannels] where locations[axis] == nil {
            throw place.error(file, "missing axis \(axis) (a fully-connected layer's input and output features)")
        }
        for axis in [SweepAxis.height, .width, .kernel, .kernelHeight, .kernelWidth] + SweepAxis.geometry {
            if let given = locations[axis] {
                throw given.error(
                    file,
                    "a fully-connected layer has no kernel, spatial size, stride, padding, dilation or groups: drop \(axis) (its rows are batch, its features Cin and Cout)"
                )
            }
        }
    }

    func axisValue(_ node: Node, at place: FileLocation, minimum: Int = 1) throws(SweepError) -> SweepAxisValue {
        switch node {
        case let .scalar(scalar):
            if scalar.style == .plain, hasTag(node, .int) {
                return .number(try positiveInteger(node, field: place.field, minimum: minimum))
            }
            if scalar.style == .plain, !hasTag(node, .str) {
                throw place.error(
                    file, "'\(scalar.string)' is not a positive integer, a list, a range, a sequence or an expression")
            }
            do {
                return .expression(try SweepExpression(parsing: scalar.string), text: scalar.string)
            } catch let error as SweepExpression.Error {
                // Point at the character: quoted scalars start one column after their mark.
                var inside = place
                if let column = place.column, !scalar.string.contains("\n") {
                    inside.column = column + error.offset + (scalar.style == .plain ? 0 : 1)
                }
                throw inside.error(file, "in \"\(scalar.string)\": \(error.message)")
            } catch {
                throw place.error(file, "\(error)")
            }
        case let .sequence(sequence):
            guard !sequence.isEmpty else { throw place.error(file, "the list is empty") }
            var values: [Int] = []
            for (index, element) in sequence.enumerated() {
                let value = try positiveInteger(element, field: "\(place.field)[\(index)]", minimum: minimum)
                if values.contains(value) {
                    throw location(element, "\(place.field)[\(index)]").error(file, "\(value) is listed twice")
                }
                values.append(value)
            }
            return .list(values)
        case let .mapping(mapping):
            let keys = Set(mapping.keys.compactMap(\.string))
            if keys.contains("factor") || keys.contains("count") { return try geometric(node, at: place) }
            return try range(node, at: place, minimum: minimum)
        case .alias:
            throw place.error(file, "aliases are not supported")
        }
    }

    /// A geometric sequence, `{from, factor, count}`, every term a dimension.
    private func geometric(_ node: Node, at place: FileLocation) throws(SweepError) -> SweepAxisValue {
        let entries = try mapping(node, field: place.field, allowed: ["from", "factor", "count"])
        guard let fromNode = entries["from"], let factorNode = entries["factor"], let countNode = entries["count"]
        else {
            let missing = ["from", "factor", "count"].first { entries[$0] == nil } ?? "from"
            throw place.error(file, "a geometric sequence needs from, factor and count (\(missing) is missing)")
        }
        let from = try positiveInteger(fromNode, field: place.field + ".from")
        let factor = try number(factorNode, field: place.field + ".factor")
        let count = try positiveInteger(countNode, field: place.field + ".count")
        guard factor > 0, factor != 1 else {
            throw location(factorNode, place.field + ".factor").error(
                file, "must be positive and not 1 (got \(formatted(factor)))")
        }
        for index in 0..<count {
            let value = Double(from) * pow(factor, Double(index))
            guard value == value.rounded(), value >= 1, value <= Double(ConvShape.maximumDimension) else {
                throw place.error(
                    file,
                    "term \(index) is \(formatted(value)), not a positive integer no larger than \(ConvShape.maximumDimension)"
                )
            }
        }
        return .geometric(from: from, factor: factor, count: count)
    }

    /// A range, `{from, to, step}` (step 1 when not given).
    private func range(_ node: Node, at place: FileLocation, minimum: Int) throws(SweepError) -> SweepAxisValue {
        let entries = try mapping(node, field: place.field, allowed: ["from", "to", "step"])
        guard let fromNode = entries["from"], let toNode = entries["to"] else {
            throw place.error(
                file,
                "a range needs from and to (\(entries["from"] == nil ? "from" : "to") is missing); a geometric sequence needs from, factor, count"
            )
        }
        let from = try positiveInteger(fromNode, field: place.field + ".from", minimum: minimum)
        let to = try positiveInteger(toNode, field: place.field + ".to", minimum: minimum)
        var step = 1
        if let node = entries["step"] { step = try positiveInteger(node, field: place.field + ".step") }
        guard to >= from else {
            throw location(toNode, place.field + ".to").error(file, "\(to) is below from (\(from))")
        }
        return .range(from: from, to: to, step: step)
    }

    func readSample(_ node: Node) throws(SweepError) -> SweepSample {
        let entries = try mapping(node, field: "sample", allowed: ["count", "seed", "stratified"])
        guard let countNode = entries["count"], let seedNode = entries["seed"] else {
            throw location(node, "sample").error(file, "needs count and seed")
        }
        let count = try positiveInteger(countNode, field: "sample.count", limit: Int.max)
        guard hasTag(seedNode, .int), let seed = UInt64(seedNode.string ?? "") else {
            throw location(seedNode, "sample.seed").error(
                file, "'\(seedNode.string ?? "")' is not an integer from 0 to \(UInt64.max)")
        }
        var design: SweepSample.Stratification?
        if let designNode = entries["stratified"] {
            let fields = try mapping(
                designNode, field: "sample.stratified", allowed: ["pool", "k1_share", "flops_bins"])
            guard let poolNode = fields["pool"], let shareNode = fields["k1_share"], let binsNode = fields["flops_bins"]
            else {
                throw location(designNode, "sample.stratified").error(file, "needs pool, k1_share and flops_bins")
            }
            let pool = try positiveInteger(poolNode, field: "sample.stratified.pool", limit: Int.max)
            guard pool >= count else {
                throw location(poolNode, "sample.stratified.pool").error(
                    file, "the pool (\(pool)) must be at least sample.count (\(count))")
            }
            let share = try number(shareNode, field: "sample.stratified.k1_share")
            guard (0...1).contains(share) else {
                throw location(shareNode, "sample.stratified.k1_share").error(
                    file, "must lie in 0 … 1 (got \(formatted(share)))")
            }
            let bins = try positiveInteger(binsNode, field: "sample.stratified.flops_bins", limit: 1000)
            design = .init(pool: pool, kernelOneShare: share, flopsBins: bins)
        }
        return SweepSample(count: count, seed: seed, stratified: design)
    }

    func readLimits(_ node: Node) throws(SweepError) -> SweepLimits {
        let entries = try mapping(node, field: "limits", allowed: ["max_gflop", "max_memory_mib"])
        var limits = SweepLimits()
        for (key, value) in entries {
            let amount = try number(value, field: "limits." + key)
            guard amount > 0 else {
                throw location(value, "limits." + key).error(file, "must be positive (got \(formatted(amount)))")
            }
            if key == "max_gflop" { limits.maxGFLOP = amount } else { limits.maxMemoryMiB = amount }
        }
        return limits
    }

    // MARK: - Typed scalars

    /// Whether the resolved YAML tag of `node` is `name` (`!!int`, `!!str`, …).
    func hasTag(_ node: Node, _ name: Tag.Name) -> Bool { node.tag.rawValue == name.rawValue }

    func location(_ node: Node, _ field: String) -> FileLocation {
        FileLocation(line: node.mark?.line, column: node.mark?.column, field: field.isEmpty ? "(top)" : field)
    }

    /// The entries of a mapping node by key, refusing duplicate keys and keys not in `allowed`.
    func mapping(_ node: Node, field: String, allowed: [String]?, what: String = "field") throws(SweepError)
        -> [String: Node]
    {
        guard case let .mapping(mapping) = node else {
            throw location(node, field).error(file, "must be a mapping of key: value")
        }
        var entries: [String: Node] = [:]
        for (key, value) in mapping {
            guard case .scalar = key, let name = key.string else {
                throw location(key, field).error(file, "keys must be plain names")
            }
            let place = field.isEmpty ? name : field + "." + name
            if let allowed, !allowed.contains(name) {
                throw location(key, place).error(
                    file, "unknown \(what) '\(name)' (known: \(allowed.joined(separator: ", ")))")
            }
            if entries[name] != nil { throw location(key, place).error(file, "given twice") }
            entries[name] = value
        }
        return entries
    }

    func string(_ node: Node, field: String) throws(SweepError) -> String {
        guard case let .scalar(scalar) = node else { throw location(node, field).error(file, "must be text") }
        return scalar.string
    }

    func bool(_ node: Node, field: String) throws(SweepError) -> Bool {
        guard hasTag(node, .bool), let value = node.bool else {
            throw location(node, field).error(file, "must be true or false (got '\(node.string ?? "?")')")
        }
        return value
    }

    func number(_ node: Node, field: String) throws(SweepError) -> Double {
        guard hasTag(node, .int) || hasTag(node, .float), let value = node.float, value.isFinite else {
            throw location(node, field).error(file, "must be a number (got '\(node.string ?? "a collection")')")
        }
        return value
    }

    func positiveInteger(
        _ node: Node, field: String, limit: Int = ConvShape.maximumDimension, minimum: Int = 1
    ) throws(SweepError) -> Int {
        let what = minimum == 0 ? "an integer, 0 or more" : "a positive integer"
        guard hasTag(node, .int), let value = node.int else {
            throw location(node, field).error(file, "must be \(what) (got '\(node.string ?? "a collection")')")
        }
        guard value >= minimum else { throw location(node, field).error(file, "must be \(what) (got \(value))") }
        guard value <= limit else {
            throw location(node, field).error(file, "\(value) is larger than the limit \(limit)")
        }
        return value
    }

    func convert(_ error: YamlError) -> SweepError {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
            let .composer(context, problem, mark, _):
            let context = context.map { " (\($0.text) at \($0.mark.line):\($0.mark.column))" } ?? ""
            return SweepError(
                file: file, line: mark.line, column: mark.column, field: "(YAML)", message: "\(problem)\(context)")
        case let .duplicatedKeysInMapping(duplicates, context):
            // The mark is the first occurrence of the first duplicated key.
            return SweepError(
                file: file, line: context.mark.line, column: context.mark.column,
                field: duplicates.joined(separator: ", "), message: "given twice in one mapping")
        default:
            return SweepError(file: file, field: "(YAML)", message: "\(error)")
        }
    }

    // MARK: - Names and ids

    /// Letters, digits and `. _ : = + -`: the characters of a configuration id besides `/`.
    static func isIdentifierSafe(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII
            && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                || "._:=+-".unicodeScalars.contains(scalar))
    }

    /// Whether `name` can be a constant's name: a letter or `_`, then letters, digits and `_`.
    static func isName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.properties.isAlphabetic || first == "_" else { return false }
        return name.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0 == "_" || ("0"..."9").contains($0) }
    }

    /// `label` with every run of characters outside ``isIdentifierSafe(_:)`` replaced by one `_`.
    static func idSafe(_ label: String) -> String {
        var result = ""
        var replacing = false
        for scalar in label.unicodeScalars {
            if isIdentifierSafe(scalar) {
                result.unicodeScalars.append(scalar)
                replacing = false
            } else if !replacing {
                result += "_"
                replacing = true
            }
        }
        return result
    }
}
