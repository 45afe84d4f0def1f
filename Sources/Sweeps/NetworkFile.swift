import ConvKernels
import Foundation
import Yams

/// A network as data (`sweeps/networks/*.yaml`): every convolution and fully-connected layer in
/// execution order, consecutive repeats written once with their count.
///
/// ```yaml
/// network: resnet50
/// source: torchvision 0.29.2 models.resnet50(weights=None), input 1x3x224x224
/// published_gmacs: 4.089
/// layers:
///   - {name: conv1, H: 224, W: 224, Cin: 3, Cout: 64, K: 7, stride: 2, padding: 3}
///   - {name: layer1.0.conv3, H: 56, W: 56, Cin: 64, Cout: 256, K: 1, padding: 0, count: 2}
///   - {name: fc, layer: fc, batch: 1, Cin: 2048, Cout: 1000}
/// ```
///
/// A layer takes the axes of a sweep series as single numbers (sweeps/README.md): a convolution's
/// `H`, `W`, `Cin`, `Cout`, `K` (or `K1`, `K2`), `stride`, `padding`, `dilation`, `groups`; a
/// fully-connected layer's `layer: fc`, `batch` (its rows), `Cin`, `Cout`. Read as a sweep
/// (``Sweep/load(path:)``), a network is its distinct layers, measured once each.
public struct Network: Sendable {
    /// One entry of `layers`: a layer and how many times in a row the network runs it.
    public struct Layer: Sendable {
        /// The module's name in the definition (the first of a run of repeats).
        public var name: String
        /// The layer.
        public var shape: ConvShape
        /// How many times in a row the network runs it.
        public var count: Int

        /// A layer `name` of `shape`, run `count` times in a row.
        public init(name: String, shape: ConvShape, count: Int) {
            self.name = name
            self.shape = shape
            self.count = count
        }
    }

    /// The network's name (`resnet50`): the experiment of its configurations.
    public var name: String
    /// Where the definition comes from.
    public var source: String
    /// The multiply-accumulate total its authors published, in GMACs (nil for an imported model).
    public var publishedGMACs: Double?
    /// The ONNX model the network was imported from (`convsweep networks import`), if any.
    public var model: ImportedModel?
    /// The operators of the model that are not counted (not convolutions or fully-connected
    /// layers), by type, the most frequent first; empty for a network written by hand.
    public var uncounted: [UncountedOperator]
    /// The layers, in execution order.
    public var layers: [Layer]

    /// Where an imported network comes from: the file's digest, its opset and the input shape
    /// the shapes were inferred at.
    public struct ImportedModel: Hashable, Sendable {
        /// Hex SHA-256 of the ONNX file's bytes.
        public var sha256: String
        /// The model's opset (default ONNX domain).
        public var opset: Int
        /// The input shape the layers' shapes were inferred at (N, C, H, W).
        public var input: [Int]
        /// The program that wrote the model, as the model names it (may be empty).
        public var producer: String

        /// A model of digest `sha256` and `opset`, inferred at `input`, written by `producer`.
        public init(sha256: String, opset: Int, input: [Int], producer: String) {
            self.sha256 = sha256
            self.opset = opset
            self.input = input
            self.producer = producer
        }
    }

    /// An operator type the network runs that is not counted, and how many times it runs.
    public struct UncountedOperator: Hashable, Sendable {
        /// The operator's type (`Relu`, `MatMul (between activations)`, `com.microsoft.Gelu`).
        public var op: String
        /// How many nodes of the type the model has.
        public var count: Int

        /// `count` nodes of type `op`.
        public init(op: String, count: Int) {
            self.op = op
            self.count = count
        }
    }

    /// Layers run, repeats counted.
    public var layerCount: Int { layers.map(\.count).reduce(0, +) }
    /// Convolutions run, repeats counted.
    public var convolutionCount: Int { layers.filter { $0.shape.kind == .convolution }.map(\.count).reduce(0, +) }
    /// Fully-connected layers run, repeats counted.
    public var fullyConnectedCount: Int { layerCount - convolutionCount }
    /// Multiply–accumulates of one forward pass of its convolution and fully-connected layers.
    public var macs: Double { total { Accounting(shape: $0).macs } }
    /// The weights of its convolution and fully-connected layers (biases not counted).
    public var parameters: Int { Int(total { Double($0.weightCount) }) }
    /// The bytes its convolution and fully-connected layers move (``Accounting/movedBytes``),
    /// counted under `convention`.
    public func movedBytes(_ convention: BytesConvention = .algorithm) -> Double {
        total { Double(Accounting(shape: $0, bytes: convention).movedBytes) }
    }
    /// Σ count × `value` over the layers.
    public func total(_ value: (ConvShape) -> Double) -> Double {
        layers.map { value($0.shape) * Double($0.count) }.reduce(0, +)
    }
    /// The distinct layers, in order of first use.
    public var distinctShapes: [ConvShape] {
        var seen = Set<ConvShape>()
        return layers.map(\.shape).filter { seen.insert($0).inserted }
    }

    /// A network of `layers`.
    public init(
        name: String, source: String, publishedGMACs: Double?, model: ImportedModel? = nil,
        uncounted: [UncountedOperator] = [], layers: [Layer]
    ) {
        self.name = name
        self.source = source
        self.publishedGMACs = publishedGMACs
        self.model = model
        self.uncounted = uncounted
        self.layers = layers
    }

    /// Reads the network file at `path`, or imports the ONNX model at `path` (`.onnx`, with
    /// ``ONNXImport``: its own input shape, its file name as the network's name).
    ///
    /// - Throws: ``SweepError`` naming the file, line, column and field of the first problem (the
    ///   node, for a model).
    public static func load(path: String) throws(SweepError) -> Network {
        if ONNXImport.isModel(path) { return try ONNXImport.network(at: path) }
        return try Network(contents: try SweepFileReader.contents(of: path), path: path)
    }

    /// The network files (`*.yaml`) and ONNX models (`*.onnx`) of `directory`, in name order, as
    /// paths in it; empty when it holds none or cannot be read.
    public static func files(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".yaml") || ONNXImport.isModel($0) }.sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
    }

    /// Reads every network file (`*.yaml`) and ONNX model (`*.onnx`) of `directory`, in name order.
    ///
    /// - Throws: ``SweepError`` for a directory without network files (`field` names what
    ///   pointed to it, with `source` the file it is in) or a network file that does not read.
    public static func loadAll(directory: String, namedBy source: String? = nil, field: String? = nil)
        throws(SweepError) -> [Network]
    {
        let paths = files(in: directory)
        guard !paths.isEmpty else {
            throw SweepError(file: source ?? directory, field: field, message: "\(directory) holds no network files")
        }
        var networks: [Network] = []
        var files: [String: String] = [:]
        for path in paths {
            let network = try load(path: path)
            if let other = files.updateValue(path, forKey: network.name) {
                throw SweepError(file: path, field: "network", message: "\(other) is network \(network.name) too")
            }
            networks.append(network)
        }
        return networks
    }

    /// Reads a network file held in `contents`; `path` names it in errors.
    public init(contents: Data, path: String) throws(SweepError) {
        guard let text = String(data: contents, encoding: .utf8) else {
            throw SweepError(file: path, message: "the file is not UTF-8 text")
        }
        self = try NetworkFileReader(reader: SweepFileReader(file: path)).read(yaml: text)
    }

    /// The configurations of the network's sweep: its distinct layers, each once, experiment =
    /// the network's name, series = the kind of layer (``kind(of:)``).
    public var configurations: [SweepConfiguration] {
        distinctShapes.map { shape in
            let kind = Network.kind(of: shape)
            return SweepConfiguration(
                id: SweepConfiguration.identifier(
                    experiment: name, seriesKey: SweepFileReader.idSafe(kind), shape: shape),
                experiment: name, series: kind, shape: shape)
        }
    }

    /// Whether `name` can name a network (it starts every configuration id of its sweep): letters,
    /// digits and `. _ : = + -`, not empty.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy(SweepFileReader.isIdentifierSafe)
    }

    /// Whether `yaml` is a network file rather than a sweep (its top level has `network:`).
    public static func isNetwork(_ text: String) -> Bool {
        text.split(separator: "\n").contains { $0.hasPrefix("network:") }
    }

    /// The kind of a layer, as networks are broken down: `fully connected`, `depthwise` (and
    /// grouped), `stride 2` (dense, any stride above 1), `1x1` (dense pointwise), `KxK` (dense).
    public static func kind(of shape: ConvShape) -> String {
        if shape.kind == .fullyConnected { return "fully connected" }
        if shape.groups > 1 { return "depthwise" }
        if shape.strideHeight > 1 || shape.strideWidth > 1 { return "stride 2" }
        return shape.kernelSize == 1 ? "1x1" : "KxK"
    }
}

/// Reads a network file's YAML, layer by layer through the sweep reader's series rules.
struct NetworkFileReader {
    let reader: SweepFileReader

    func read(yaml: String) throws(SweepError) -> Network {
        let file = reader.file
        let root = try reader.compose(yaml, empty: "a network needs network, source and layers")
        let top = try reader.mapping(
            root, field: "", allowed: ["network", "source", "published_gmacs", "onnx", "uncounted", "layers"])
        for key in ["network", "source", "layers"] where top[key] == nil {
            throw reader.location(root, key).error(file, "missing")
        }
        let name = try reader.string(top["network"]!, field: "network")
        guard Network.isValidName(name) else {
            throw reader.location(top["network"]!, "network").error(
                file, "'\(name)' must be letters, digits and . _ : = + -")
        }
        var published: Double?
        if let node = top["published_gmacs"] { published = try reader.number(node, field: "published_gmacs") }
        guard case let .sequence(entries) = top["layers"]!, !entries.isEmpty else {
            throw reader.location(top["layers"]!, "layers").error(file, "must be a non-empty list of layers")
        }
        var layers: [Network.Layer] = []
        for (index, entry) in entries.enumerated() {
            layers.append(try layer(entry, field: "layers[\(index)]"))
        }
        return Network(
            name: name, source: try reader.string(top["source"]!, field: "source"), publishedGMACs: published,
            model: try top["onnx"].map { node throws(SweepError) in try model(node) },
            uncounted: try top["uncounted"].map { node throws(SweepError) in try uncounted(node) } ?? [],
            layers: layers)
    }

    /// `onnx: {sha256: HEX, opset: 17, input: 1x3x224x224, producer: TEXT}`.
    private func model(_ node: Node) throws(SweepError) -> Network.ImportedModel {
        let fields = try reader.mapping(node, field: "onnx", allowed: ["sha256", "opset", "input", "producer"])
        for key in ["sha256", "opset", "input"] where fields[key] == nil {
            throw reader.location(node, "onnx.\(key)").error(reader.file, "missing")
        }
        let sha256 = try reader.string(fields["sha256"]!, field: "onnx.sha256")
        guard sha256.count == 64, sha256.allSatisfy(\.isHexDigit) else {
            throw reader.location(fields["sha256"]!, "onnx.sha256").error(reader.file, "must be 64 hex digits")
        }
        let text = try reader.string(fields["input"]!, field: "onnx.input")
        let input = text.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) ?? 0 }
        guard input.count >= 1, input.allSatisfy({ $0 > 0 }) else {
            throw reader.location(fields["input"]!, "onnx.input").error(
                reader.file, "'\(text)' must be positive sizes joined by x (1x3x224x224)")
        }
        return Network.ImportedModel(
            sha256: sha256, opset: try reader.positiveInteger(fields["opset"]!, field: "onnx.opset"), input: input,
            producer: try fields["producer"].map { node throws(SweepError) in
                try reader.string(node, field: "onnx.producer")
            } ?? "")
    }

    /// `uncounted: [{op: Relu, count: 17}, …]`.
    private func uncounted(_ node: Node) throws(SweepError) -> [Network.UncountedOperator] {
        guard case let .sequence(entries) = node else {
            throw reader.location(node, "uncounted").error(reader.file, "must be a list of {op, count}")
        }
        var operators: [Network.UncountedOperator] = []
        for (index, entry) in entries.enumerated() {
            let field = "uncounted[\(index)]"
            let fields = try reader.mapping(entry, field: field, allowed: ["op", "count"])
            guard let op = fields["op"], let count = fields["count"] else {
                throw reader.location(entry, field).error(reader.file, "needs op and count")
            }
            operators.append(
                Network.UncountedOperator(
                    op: try reader.string(op, field: field + ".op"),
                    count: try reader.positiveInteger(count, field: field + ".count")))
        }
        return operators
    }

    /// One layer: `name` and `count` here, the rest read as a one-point sweep series.
    private func layer(_ node: Node, field: String) throws(SweepError) -> Network.Layer {
        let entries = try reader.mapping(
            node, field: field, allowed: ["name", "count", "layer"] + SweepAxis.allCases.map(\.rawValue),
            what: "axis or field")
        guard let nameNode = entries["name"] else {
            throw reader.location(node, field + ".name").error(reader.file, "missing")
        }
        var count = 1
        if let countNode = entries["count"] { count = try reader.positiveInteger(countNode, field: field + ".count") }
        // The series reader wants `label` where a layer has `name`, and no `count`.
        guard case let .mapping(mapping) = node else { preconditionFailure("checked by mapping(_:)") }
        var pairs: [(Node, Node)] = []
        for (key, value) in mapping where key.string != "count" {
            pairs.append((key.string == "name" ? Node("label") : key, value))
        }
        let series = try reader.readSeries(.mapping(Node.Mapping(pairs)), field: field)
        for (axis, value) in series.axes where !value.isNumber {
            throw series.axisLocations[axis]!.error(reader.file, "a network's layer takes single numbers")
        }
        let shape = try series.shape(at: 0)
        do { try shape.validateGeometry() } catch { throw series.geometryError(shape, error) }
        return Network.Layer(name: try reader.string(nameNode, field: field + ".name"), shape: shape, count: count)
    }
}

extension Sweep {
    /// The sweep of a network: its distinct layers, each once, experiment = the network's name,
    /// series = the kind of layer (``Network/kind(of:)``).
    init(network: Network, contents: Data, path: String) {
        self.name = network.name
        self.description = "The distinct layers of \(network.name) (\(network.source))."
        self.path = path
        self.contents = contents
        self.series = []
        self.sample = nil
        self.limits = SweepLimits()
        self.configurations = network.configurations
        self.expansionCount = configurations.count
    }
}
