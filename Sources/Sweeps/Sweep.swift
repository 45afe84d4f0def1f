import Basics
import ConvKernels
import Foundation

/// A loaded sweep file: one experiment, its series, and every configuration it names.
///
/// ```swift
/// let sweep = try Sweep.load(path: "sweeps/paper/exp-b.yaml")
/// for configuration in sweep.configurations where configuration.isMeasured { … }
/// ```
///
/// The format is described in `sweeps/README.md`.
public struct Sweep: Sendable {
    /// The experiment name (`A` … `G`, `regression`): the ``SweepConfiguration/experiment`` of
    /// every configuration.
    public var name: String
    /// What the sweep is for, where it comes from, how it differs from the papers.
    public var description: String
    /// The file it was loaded from, as given.
    public var path: String
    /// The bytes of the file, exactly as read (for the runner to hash and record).
    public var contents: Data
    /// The series, in file order.
    public var series: [SweepSeries]
    /// The seeded sample, if the file draws one.
    public var sample: SweepSample?
    /// The bounds that drop configurations (empty when the file gives none).
    public var limits: SweepLimits
    /// How many configurations the series expand to before sampling.
    public var expansionCount: Int
    /// The configurations in a deterministic order: series in file order, points in loop order
    /// (see ``SweepSeries``), only the drawn ones when the file samples. Those a limit drops are
    /// kept, with the reason as their ``SweepConfiguration/status``.
    public var configurations: [SweepConfiguration]

    /// The most configurations a sweep may list without `sample`; above it, draw a sample.
    public static let maximumUnsampledCount = 5_000_000

    /// Reads and expands the sweep file at `path`.
    ///
    /// - Throws: ``SweepError`` naming the file, line, column and field of the first problem:
    ///   malformed YAML, an unknown or missing field, a wrong type, a zero or negative value, an
    ///   expression with an unknown name, a cycle, a division by zero or a non-integer result.
    ///
    /// An ONNX model (`.onnx`) is imported (``ONNXImport``) and read as its network's sweep; its
    /// ``contents`` are the model's bytes, so a run records the model's digest.
    public static func load(path: String) throws(SweepError) -> Sweep {
        if ONNXImport.isModel(path) {
            let network = try ONNXImport.network(at: path)
            let contents = try SweepFileReader.contents(of: path)
            guard SHA256Hex.of(contents) == network.model?.sha256 else {
                throw SweepError(file: path, message: "the model changed while it was read")
            }
            return Sweep(network: network, contents: contents, path: path)
        }
        return try Sweep(contents: try SweepFileReader.contents(of: path), path: path)
    }

    /// Expands the sweep file held in `contents`; `path` names it in errors and in ``path``. A
    /// network file (``Network``) gives the sweep of its distinct layers.
    public init(contents: Data, path: String) throws(SweepError) {
        guard let text = String(data: contents, encoding: .utf8) else {
            throw SweepError(file: path, message: "the file is not UTF-8 text")
        }
        // A network file (sweeps/networks/) is the sweep of its distinct layers.
        if Network.isNetwork(text) {
            self = Sweep(network: try Network(contents: contents, path: path), contents: contents, path: path)
            return
        }
        // A network-batch sweep (sweeps/networks-batch8.yaml): every network's layers at a batch.
        if NetworkBatchSweep.isNetworkBatch(text) {
            self = Sweep(
                networkBatch: try NetworkBatchSweep(contents: contents, path: path), contents: contents, path: path)
            return
        }
        let file = try SweepFileReader(file: path).read(yaml: text)
        self.name = file.name
        self.description = file.description
        self.path = path
        self.contents = contents
        self.series = file.series
        self.sample = file.sample
        self.limits = file.limits

        expansionCount = try Sweep.countExpansion(of: file, path: path)
        configurations = try Sweep.expand(file, total: expansionCount, path: path)
    }

    /// How many configurations the series of `file` expand to, refused above
    /// ``maximumUnsampledCount`` for a file that draws no sample.
    private static func countExpansion(of file: SweepFileReader.Contents, path: String) throws(SweepError) -> Int {
        var total = 0
        for series in file.series {
            let (sum, overflow) = total.addingReportingOverflow(series.count)
            guard !overflow else { throw SweepError(file: path, field: "series", message: "too many configurations") }
            total = sum
        }
        if file.sample == nil, total > Sweep.maximumUnsampledCount {
            throw SweepError(
                file: path, field: "series",
                message: "the series expand to \(total) configurations, more than \(Sweep.maximumUnsampledCount); "
                    + "add sample: {count, seed} to draw from them")
        }
        return total
    }

    /// The configurations of `file`, whose series expand to `total`: all of them, or the sample
    /// it draws (stratified when it says so), each with its status under the file's limits.
    private static func expand(
        _ file: SweepFileReader.Contents, total: Int, path: String
    ) throws(SweepError) -> [SweepConfiguration] {
        let indices: [Int]
        if let sample = file.sample {
            indices = SweepSample(count: sample.stratified?.pool ?? sample.count, seed: sample.seed).indices(
                population: total)
        } else {
            indices = Array(0..<total)
        }
        let excluded = try Sweep.networkLayers(file.excludedNetworks, sweepPath: path)
        // Walk the ascending global indices through the series they fall in.
        var configurations: [SweepConfiguration] = []
        configurations.reserveCapacity(indices.count)
        var seriesIndex = 0
        var seriesStart = 0
        for index in indices {
            while index >= seriesStart + file.series[seriesIndex].count {
                seriesStart += file.series[seriesIndex].count
                seriesIndex += 1
            }
            let series = file.series[seriesIndex]
            let shape = try series.shape(at: index - seriesStart)
            do { try shape.validateGeometry() } catch { throw series.geometryError(shape, error) }
            configurations.append(
                SweepConfiguration(
                    id: SweepConfiguration.identifier(experiment: file.name, seriesKey: series.key, shape: shape),
                    experiment: file.name, series: series.label, shape: shape,
                    status: Sweep.status(of: shape, limits: file.limits, excluded: excluded)))
        }
        guard let sample = file.sample, let design = sample.stratified else { return configurations }
        let candidates = configurations.filter(\.status.isOK)
        let chosen = design.select(
            count: sample.count, flops: candidates.map(\.flops),
            kernelOne: candidates.map { $0.shape.kernelSize == 1 }, seed: sample.seed)
        return chosen.map { candidates[$0] }
    }
}

extension Sweep {
    /// The layers of every network file in `directory` (relative to the sweep file), each with the
    /// first network that has it; empty when no directory is named.
    static func networkLayers(_ directory: String?, sweepPath: String) throws(SweepError) -> [ConvShape: String] {
        guard let directory else { return [:] }
        let root =
            directory.hasPrefix("/")
            ? directory
            : ((sweepPath as NSString).deletingLastPathComponent as NSString).appendingPathComponent(directory)
        var layers: [ConvShape: String] = [:]
        for network in try Network.loadAll(directory: root, namedBy: sweepPath, field: "exclude_networks") {
            for layer in network.layers where layers[layer.shape] == nil { layers[layer.shape] = network.name }
        }
        return layers
    }

    /// A configuration's status: a limit's, or dropped as a layer of an excluded network.
    static func status(of shape: ConvShape, limits: SweepLimits, excluded: [ConvShape: String]) -> ConfigurationStatus {
        let status = limits.status(of: shape)
        guard status.isOK, let network = excluded[shape] else { return status }
        return .dropped("a layer of \(network) (exclude_networks)")
    }
}

extension SweepConfiguration {
    /// The identifier of a configuration: `EXPERIMENT/SERIES/HhxWw-Cinc-Coutd-Kk1xk2-Nn`,
    /// e.g. `B/Cin=150/H16xW16-Cin150-Cout150-K19x19-N1`, followed by the layer's fields that
    /// differ from the grid's: `-S<sh>x<sw>` (stride), `-P<top>_<left>_<bottom>_<right>`
    /// (padding, whenever it is not 'same'), `-D<dh>x<dw>` (dilation), `-G<groups>`; a
    /// fully-connected layer is `EXPERIMENT/SERIES/FC-M<rows>-In<in>-Out<out>`.
    ///
    /// `seriesKey` is the series label with every run of characters other than letters, digits
    /// and `. _ : = + -` replaced by `_` (``SweepSeries/key``). Ids hold only `[A-Za-z0-9._:=+/-]`,
    /// so they need no quoting in CSV, and depend only on what they name: the same point of the
    /// same series has the same id in every sweep file and every run.
    public static func identifier(experiment: String, seriesKey: String, shape: ConvShape) -> String {
        if shape.kind == .fullyConnected {
            return "\(experiment)/\(seriesKey)/FC-M\(shape.batch)-In\(shape.inputChannels)-Out\(shape.outputChannels)"
        }
        var id =
            "\(experiment)/\(seriesKey)/H\(shape.height)xW\(shape.width)-Cin\(shape.inputChannels)"
            + "-Cout\(shape.outputChannels)-K\(shape.kernelHeight)x\(shape.kernelWidth)-N\(shape.batch)"
        for field in shape.nonDefaultFields {
            switch field.name {
            case "stride": id += "-S" + field.value
            case "pad": id += "-P" + field.value.replacingOccurrences(of: ",", with: "_")
            case "dilation": id += "-D" + field.value
            case "groups": id += "-G" + field.value
            default: break
            }
        }
        return id
    }

    /// Bytes the configuration holds while it runs: tensors and im2col workspace
    /// (see ``SweepLimits/memoryBytes(of:)``).
    public var memoryBytes: Int { SweepLimits.memoryBytes(of: shape) }
}
