import ConvKernels
import Foundation

/// A sweep of networks at a larger batch: the throughput sweep (`sweeps/networks-batch8.yaml`).
///
/// ```yaml
/// name: networks-batch8
/// description: every network of networks/ at batch 8, for throughput
/// networks: networks     # a directory of network files, relative to this file
/// batch: 8
/// ```
///
/// Its configurations are every network's distinct layers with the batch multiplied (a
/// convolution's images, a fully-connected layer's rows), experiment `NAME-batchB`
/// (``Network/atBatch(_:)``): a network's time at batch B gives its throughput, B images per that
/// time.
public struct NetworkBatchSweep: Sendable {
    /// The sweep's name.
    public var name: String
    /// What it is for.
    public var description: String
    /// The batch every network is measured at (at least 2).
    public var batch: Int
    /// The networks at that batch, in name order.
    public var networks: [Network]

    /// Whether `yaml` is a network-batch sweep (its top level has `networks:`).
    public static func isNetworkBatch(_ text: String) -> Bool {
        text.split(separator: "\n").contains { $0.hasPrefix("networks:") }
    }

    /// Reads the network-batch sweep held in `contents`; `path` names it in errors and anchors
    /// its `networks` directory.
    ///
    /// - Throws: ``SweepError`` with file, line and field: a missing or unknown field, a batch
    ///   below 2, a directory without network files, a network file that does not read.
    public init(contents: Data, path: String) throws(SweepError) {
        guard let text = String(data: contents, encoding: .utf8) else {
            throw SweepError(file: path, message: "the file is not UTF-8 text")
        }
        let reader = SweepFileReader(file: path)
        let root = try reader.compose(text, empty: "a network-batch sweep needs name, networks and batch")
        let top = try reader.mapping(root, field: "", allowed: ["name", "description", "networks", "batch"])
        for key in ["name", "networks", "batch"] where top[key] == nil {
            throw reader.location(root, key).error(path, "missing")
        }
        name = try reader.string(top["name"]!, field: "name")
        let directory = try reader.string(top["networks"]!, field: "networks")
        if let node = top["description"] {
            description = try reader.string(node, field: "description")
        } else {
            description = "The networks of \(directory) at a larger batch."
        }
        batch = try reader.positiveInteger(top["batch"]!, field: "batch")
        guard batch >= 2 else {
            throw reader.location(top["batch"]!, "batch").error(path, "must be 2 or more (batch 1 is the network file)")
        }
        let folder =
            directory.hasPrefix("/")
            ? directory
            : ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(directory)
        let factor = batch
        networks = try Network.loadAll(directory: folder, namedBy: path, field: "networks").map { $0.atBatch(factor) }
    }
}

extension Network {
    /// The network at batch `batch`: every layer's batch (a fully-connected layer's rows)
    /// multiplied by it, named `NAME-batchB`, its published MACs scaled alike.
    public func atBatch(_ batch: Int) -> Network {
        Network(
            name: "\(name)-batch\(batch)", source: "\(source), at batch \(batch)",
            publishedGMACs: publishedGMACs.map { $0 * Double(batch) }, model: model, uncounted: uncounted,
            layers: layers.map { layer in
                var shape = layer.shape
                shape.batch *= batch
                return Layer(name: layer.name, shape: shape, count: layer.count)
            })
    }

    /// The batch-1 network's name and the batch of an experiment named by ``atBatch(_:)``
    /// (`resnet50-batch8` → `resnet50`, 8); nil for any other name.
    public static func batchOf(experiment: String) -> (network: String, batch: Int)? {
        guard let range = experiment.range(of: "-batch", options: .backwards),
            let batch = Int(experiment[range.upperBound...]), batch >= 2
        else { return nil }
        return (String(experiment[..<range.lowerBound]), batch)
    }
}

extension Sweep {
    /// The sweep of networks at a batch: every network's distinct layers at that batch.
    init(networkBatch: NetworkBatchSweep, contents: Data, path: String) {
        self.name = networkBatch.name
        self.description = networkBatch.description
        self.path = path
        self.contents = contents
        self.series = []
        self.sample = nil
        self.limits = SweepLimits()
        self.configurations = networkBatch.networks.flatMap(\.configurations)
        self.expansionCount = configurations.count
    }
}
