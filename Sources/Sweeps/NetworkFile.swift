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
    /// The published multiply-accumulate total, in GMACs.
    public var publishedGMACs: Double
    /// The layers, in execution order.
    public var layers: [Layer]

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
    public init(name: String, source: String, publishedGMACs: Double, layers: [Layer]) {
        self.name = name
        self.source = source
        self.publishedGMACs = publishedGMACs
        self.layers = layers
    }

    /// Reads the network file at `path`.
    ///
    /// - Throws: ``SweepError`` naming the file, line, column and field of the first problem.
    public static func load(path: String) throws(SweepError) -> Network {
        try Network(contents: try SweepFileReader.contents(of: path), path: path)
    }

    /// Reads every network file (`*.yaml`) of `directory`, in name order.
    ///
    /// - Throws: ``SweepError`` for a directory without network files (`field` names what
    ///   pointed to it, with `source` the file it is in) or a network file that does not read.
    public static func loadAll(directory: String, namedBy source: String? = nil, field: String? = nil)
        throws(SweepError) -> [Network]
    {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".yaml") }.sorted()
        guard !names.isEmpty else {
            throw SweepError(file: source ?? directory, field: field, message: "\(directory) holds no network files")
        }
        var networks: [Network] = []
        for name in names { networks.append(try load(path: (directory as NSString).appendingPathComponent(name))) }
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
        let root = try reader.compose(yaml, empty: "a network needs network, source, published_gmacs and layers")
        let top = try reader.mapping(root, field: "", allowed: ["network", "source", "published_gmacs", "layers"])
        for key in ["network", "source", "published_gmacs", "layers"] where top[key] == nil {
            throw reader.location(root, key).error(file, "missing")
        }
        let name = try reader.string(top["network"]!, field: "network")
        guard !name.isEmpty, name.unicodeScalars.allSatisfy(SweepFileReader.isIdentifierSafe), !name.contains("/")
        else {
            throw reader.location(top["network"]!, "network").error(
                file, "'\(name)' must be letters, digits and . _ : = + -")
        }
        let published = try reader.number(top["published_gmacs"]!, field: "published_gmacs")
        guard case let .sequence(entries) = top["layers"]!, !entries.isEmpty else {
            throw reader.location(top["layers"]!, "layers").error(file, "must be a non-empty list of layers")
        }
        var layers: [Network.Layer] = []
        for (index, entry) in entries.enumerated() {
            layers.append(try layer(entry, field: "layers[\(index)]"))
        }
        return Network(
            name: name, source: try reader.string(top["source"]!, field: "source"), publishedGMACs: published,
            layers: layers)
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
