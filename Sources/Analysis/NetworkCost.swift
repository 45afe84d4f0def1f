import ConvKernels
import Rows
import Sweeps

/// What a network costs on the machine that measured its layers: the sum over its layers of
/// count × measured time, with an interval from the rounds, broken down by kind of layer.
///
/// Only the network's convolutions and fully-connected layers are summed: normalisation,
/// activations, pooling, additions and concatenations are not measured (they are memory-bound
/// element-wise passes whose cost depends on the framework's fusion; a convolution-level model,
/// as alpha-FLOPs is, does not predict them either).
public struct NetworkCost: Sendable {
    /// The share of time and of MACs of one kind of layer (``Network/kind(of:)``).
    public struct KindShare: Sendable {
        /// `KxK`, `1x1`, `stride 2`, `depthwise`, `fully connected`.
        public var kind: String
        /// Layers of the kind, repeats counted.
        public var layers: Int
        /// Their measured time, milliseconds.
        public var milliseconds: Double
        /// Their share of the network's measured time, 0…1.
        public var timeShare: Double
        /// Their share of the network's multiply–accumulates, 0…1.
        public var macShare: Double
    }

    /// The network.
    public var network: String
    /// Σ count × median time of the layers, milliseconds.
    public var milliseconds: Double
    /// Σ count × the fastest and the slowest round median of each layer: the interval the rounds
    /// give (the median's where a row has no rounds).
    public var lowMilliseconds: Double
    /// See ``lowMilliseconds``.
    public var highMilliseconds: Double
    /// ``lowMilliseconds`` to ``highMilliseconds``.
    public var interval: ClosedRange<Double> {
        min(lowMilliseconds, highMilliseconds)...max(lowMilliseconds, highMilliseconds)
    }
    /// Multiply–accumulates of one pass, in GMACs.
    public var gmacs: Double
    /// Layers run, repeats counted.
    public var layers: Int
    /// By kind of layer, in the order KxK, 1x1, stride 2, depthwise, fully connected.
    public var kinds: [KindShare]

    /// The kinds of layer, in the order reports list them.
    public static let kindOrder = ["KxK", "1x1", "stride 2", "depthwise", "fully connected"]

    /// The cost of `network` from `rows` (a run or package of its layers): each layer's row is the
    /// measured row of the same layer computed by `algorithm` (auto resolved: any when nil), the
    /// network's own (its experiment's) where another network's row has the same layer.
    ///
    /// Rows of several thread counts (a run with `--threads 1,2`) give the cost at `threads`,
    /// the smallest count when nil; rows of one count are taken whatever it is.
    ///
    /// - Throws: ``RowFormatError`` naming the first layer the rows lack.
    public init(
        network: Network, rows: [MeasurementRow], algorithm: ConvAlgorithm? = nil, threads: Int? = nil
    ) throws {
        var byShape: [ConvShape: MeasurementRow] = [:]
        let counts = Set(rows.map(\.threads))
        let count = threads ?? counts.min() ?? 1
        let rows = counts.count > 1 ? rows.filter { $0.threads == count } : rows
        let own = rows.filter { $0.experiment == network.name }
        for row in own + rows where row.status.isOK && row.medianMs != nil {
            let wanted = algorithm.map { $0.resolved(for: row.shape) == row.algorithm } ?? true
            if wanted, byShape[row.shape] == nil { byShape[row.shape] = row }
        }
        var (total, low, high, macs) = (0.0, 0.0, 0.0, 0.0)
        var byKind: [String: (layers: Int, ms: Double, macs: Double)] = [:]
        for layer in network.layers {
            guard let row = byShape[layer.shape] else {
                throw RowFormatError(
                    "\(network.name): layer \(layer.name) (\(layer.shape)) has no measured row; measure the network with `convsweep run` of its file"
                )
            }
            let count = Double(layer.count)
            let median = row.medianMs!
            let layerMacs = Accounting(shape: layer.shape).macs * count
            total += count * median
            low += count * (row.roundMinMs ?? median)
            high += count * (row.roundMaxMs ?? median)
            macs += layerMacs
            let kind = Network.kind(of: layer.shape)
            let so = byKind[kind] ?? (0, 0, 0)
            byKind[kind] = (so.layers + layer.count, so.ms + count * median, so.macs + layerMacs)
        }
        self.network = network.name
        milliseconds = total
        lowMilliseconds = low
        highMilliseconds = high
        gmacs = macs / 1e9
        layers = network.layerCount
        kinds = NetworkCost.kindOrder.compactMap { kind in
            byKind[kind].map {
                KindShare(
                    kind: kind, layers: $0.layers, milliseconds: $0.ms, timeShare: $0.ms / total,
                    macShare: $0.macs / macs)
            }
        }
    }
}

extension NetworkCost {
    /// The batches `rows` hold `network` at beyond batch 1 (experiments `NAME-batchB`, a
    /// network-batch sweep's), smallest first.
    public static func throughputBatches(of network: Network, in rows: [MeasurementRow]) -> [Int] {
        Set(
            rows.compactMap { Network.batchOf(experiment: $0.experiment) }.filter { $0.network == network.name }
                .map(\.batch)
        ).sorted()
    }

    /// Images per second of `network` at `batch`: the batch over the cost of its layers at that
    /// batch, from `rows`.
    ///
    /// - Throws: ``RowFormatError`` naming the first layer at that batch the rows lack.
    public static func throughput(
        of network: Network, atBatch batch: Int, rows: [MeasurementRow], algorithm: ConvAlgorithm? = nil,
        threads: Int? = nil
    ) throws -> (imagesPerSecond: Double, cost: NetworkCost) {
        let cost = try NetworkCost(network: network.atBatch(batch), rows: rows, algorithm: algorithm, threads: threads)
        return (Double(batch) * 1000 / cost.milliseconds, cost)
    }
}
