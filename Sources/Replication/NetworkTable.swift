import AlphaFit
import Analysis
import Basics
import ConvKernels
import Foundation
import Rows
import Runner
import Sweeps

/// The networks section of a package (`networks/`): what each measured network costs on the
/// machine — the sum over its convolution and fully-connected layers of count × measured time —
/// and what every model, fitted on the package's sample (the regression sample and the layer
/// sample, which holds no layer of the zoo), predicts it costs.
///
/// Files (docs/replication-package.md): `networks/networks.csv` (one row a network),
/// `networks/kinds.csv` (time and MACs by kind of layer), `networks/ranking.csv` (how each
/// indicator and each model orders the networks against their measured times),
/// `networks/fits.json` (the parametric fits that predicted them) and `networks/definitions/`
/// (the network files measured).
public struct NetworkTable: Sendable {
    /// One network.
    public struct Row: Sendable, Equatable {
        /// The network's name.
        public var network: String
        /// Layers run, repeats counted.
        public var layers: Int
        /// Weights of its layers.
        public var parameters: Int
        /// Multiply–accumulates of one pass, GMACs.
        public var gmacs: Double
        /// Bytes its layers move, MB.
        public var megabytesMoved: Double
        /// Measured: Σ count × median, and the rounds' interval, milliseconds.
        public var measuredMs: Double, lowMs: Double, highMs: Double
        /// The batch its throughput was measured at, and the images per second there (its layers'
        /// time at that batch); nil when the rows hold no such measurement.
        public var throughputBatch: Int?, throughputPerSecond: Double?
        /// Each model's prediction (``NetworkTable/models`` order), milliseconds; nil where the
        /// model cannot predict one of its layers (no fit of the layer's group).
        public var predictedMs: [Double?]
    }

    /// The models, in the order of the prediction columns: the parametric ones, then the trees
    /// when scikit-learn was there.
    public var models: [String]
    /// The networks, in name order.
    public var rows: [Row]
    /// Their costs by kind of layer, in the same order.
    public var costs: [NetworkCost]
    /// The networks, in the same order.
    public var networks: [Network]
    /// The parametric models' fits on the sample (a model the sample cannot fit is missing, and
    /// said in ``notFitted``).
    public var fits: [FitReport]
    /// Why a parametric model has no fit, by model.
    public var notFitted: [String: String]
    /// The trees' model and library, or why they did not predict.
    public var ceiling: String
    /// How the bytes moved (networks.csv's `mb_moved`, the ranking's "bytes moved") and the
    /// data-movement model's bytes were counted: the fits' convention.
    public var bytesConvention: BytesConvention = .algorithm

    /// The parametric models, in the order of the columns: the proxy first.
    public static let parametricModels: [FitModel] = [
        .flops, .alpha, .alphaChannels, .dataMovement, .tensorBytes, .gemmWork,
    ]

    /// The table of `networks` measured in `measurements` (each network's rows are those of its
    /// experiment), predicted by each of `models` fitted with `options` on `sample`; by the trees
    /// too when `shippedFiles` is given. A package's table is recomputed with the models it states
    /// (one written before a model was added lacks it).
    public static func build(
        networks: [Network], measurements: [MeasurementRow], sample: FitDataset, options: FitOptions,
        models parametric: [FitModel] = parametricModels, shippedFiles: ShippedFiles?
    ) throws -> NetworkTable {
        let (fits, notFitted) = fitting(parametric, on: sample, options: options)
        let shapes = Array(Set(networks.flatMap(\.distinctShapes))).sorted { "\($0)" < "\($1)" }
        var treeOf: [ConvShape: Double] = [:]
        var ceiling = "not asked for"
        if let shippedFiles {
            switch TreeCeiling.predict(training: sample.rows, query: shapes, shippedFiles: shippedFiles) {
            case .predictions(let values, let model):
                treeOf = Dictionary(uniqueKeysWithValues: zip(shapes, values))
                ceiling = model
            case .unavailable(let reason): ceiling = "unavailable: \(reason)"
            }
        }
        let hasTrees = !treeOf.isEmpty
        let models = fits.map(\.model.rawValue) + (hasTrees ? [TreeCeiling.name] : [])
        var rows: [Row] = []
        var costs: [NetworkCost] = []
        for network in networks {
            let cost = try NetworkCost(
                network: network, rows: measurements.filter { $0.experiment == network.name })
            costs.append(cost)
            // Throughput: the network's layers measured at a larger batch (experiment NAME-batchB).
            let batch = NetworkCost.throughputBatches(of: network, in: measurements).first
            let throughput = try batch.map { b in
                try NetworkCost.throughput(
                    of: network, atBatch: b, rows: measurements.filter { $0.experiment == "\(network.name)-batch\(b)" }
                ).imagesPerSecond
            }
            func sum(_ predict: (ConvShape) throws -> Double?) -> Double? {
                var total = 0.0
                for layer in network.layers {
                    guard let value = try? predict(layer.shape) else { return nil }
                    total += value * Double(layer.count)
                }
                return total
            }
            let predicted = fits.map { fit in sum { try fit.predict($0) } } + (hasTrees ? [sum { treeOf[$0] }] : [])
            rows.append(
                Row(
                    network: network.name, layers: network.layerCount, parameters: network.parameters,
                    gmacs: network.macs / 1e9, megabytesMoved: network.movedBytes(options.bytesConvention) / 1e6,
                    measuredMs: cost.milliseconds, lowMs: cost.lowMilliseconds, highMs: cost.highMilliseconds,
                    throughputBatch: batch, throughputPerSecond: throughput, predictedMs: predicted))
        }
        return NetworkTable(
            models: models, rows: rows, costs: costs, networks: networks, fits: fits, notFitted: notFitted,
            ceiling: ceiling, bytesConvention: options.bytesConvention)
    }

    /// Each of `models` fitted on `sample` with `options` (its own start and bounds), and why
    /// those that could not be fitted were not.
    static func fitting(
        _ models: [FitModel], on sample: FitDataset, options: FitOptions
    ) -> (fits: [FitReport], notFitted: [String: String]) {
        var fits: [FitReport] = []
        var notFitted: [String: String] = [:]
        for model in models {
            var modelOptions = options
            modelOptions.model = model
            modelOptions.start = nil
            modelOptions.bounds = nil
            do { fits.append(try AlphaFitter(options: modelOptions).fit(sample)) } catch var error as FitInputError {
                // The file's name, not where the package happened to be: the README states it.
                error.input = error.input.components(separatedBy: ", ").map { ($0 as NSString).lastPathComponent }
                    .joined(separator: ", ")
                notFitted[model.rawValue] = "\(error)"
            } catch {
                notFitted[model.rawValue] = "\(error)"
            }
        }
        return (fits, notFitted)
    }

    /// How each model predicts the networks it can predict (models that predict fewer than
    /// three networks are not ranked, and left out).
    public var accuracy: [NetworkPredictionAccuracy] {
        models.indices.compactMap { m in
            let predicted = zip(rows, costs).compactMap { row, cost in row.predictedMs[m].map { (cost, $0) } }
            guard predicted.count >= 3 else { return nil }
            return NetworkPredictionAccuracy(
                model: models[m], names: predicted.map(\.0.network), predicted: predicted.map(\.1),
                measured: predicted.map(\.0.milliseconds), intervals: predicted.map(\.0.interval))
        }
    }

    /// How parameters, MACs and bytes moved order the networks against their measured times, and
    /// (where every network has it) their time per image at the throughput batch: whether latency
    /// and throughput order them alike.
    public var onPaper: [NetworkRanking] {
        var rankings = NetworkRanking.onPaper(networks, costs: costs, bytes: bytesConvention)
        let perImage = rows.compactMap { $0.throughputPerSecond.map { 1000 / $0 } }
        if perImage.count == rows.count, let batch = rows.first?.throughputBatch {
            rankings.append(
                NetworkRanking(
                    indicator: "time per image at batch \(batch)", names: rows.map(\.network), values: perImage,
                    measured: rows.map(\.measuredMs), intervals: costs.map(\.interval)))
        }
        return rankings
    }

    /// Whether any network's throughput was measured (networks.csv then has its columns).
    public var hasThroughput: Bool { rows.contains { $0.throughputPerSecond != nil } }

    // MARK: Files

    /// Where a package keeps the section.
    public static let directory = "networks"
    /// One row a network.
    public static let networksFile = "networks/networks.csv"
    /// Time and MACs by kind of layer.
    public static let kindsFile = "networks/kinds.csv"
    /// How each indicator and model orders the networks.
    public static let rankingFile = "networks/ranking.csv"
    /// The parametric fits that predicted the networks.
    public static let fitsFile = "networks/fits.json"
    /// The network files measured.
    public static let definitionsDirectory = "networks/definitions"

    /// `networks.csv`: network, layers, parameters, gmacs, mb_moved, measured_ms,
    /// measured_low_ms, measured_high_ms, (when measured) throughput_batch and throughput_per_s,
    /// then `<model>_ms` per model (empty where it cannot predict).
    public var networksTable: Table {
        let throughput = hasThroughput
        var table = Table(
            header: [
                "network", "layers", "parameters", "gmacs", "mb_moved", "measured_ms", "measured_low_ms",
                "measured_high_ms",
            ] + (throughput ? ["throughput_batch", "throughput_per_s"] : []) + models.map { "\($0)_ms" })
        for row in rows {
            let measured = [
                row.throughputBatch.map(String.init) ?? "", row.throughputPerSecond.map(NetworkTable.number) ?? "",
            ]
            table.rows.append(
                [row.network, String(row.layers), String(row.parameters)]
                    + [row.gmacs, row.megabytesMoved, row.measuredMs, row.lowMs, row.highMs].map(NetworkTable.number)
                    + (throughput ? measured : []) + row.predictedMs.map { $0.map(NetworkTable.number) ?? "" })
        }
        return table
    }

    /// `kinds.csv`: network, kind, layers, measured_ms, time_share, mac_share.
    public var kindsTable: Table {
        var table = Table(header: ["network", "kind", "layers", "measured_ms", "time_share", "mac_share"])
        for cost in costs {
            for kind in cost.kinds {
                table.rows.append(
                    [cost.network, kind.kind, String(kind.layers)]
                        + [kind.milliseconds, kind.timeShare, kind.macShare].map(NetworkTable.number))
            }
        }
        return table
    }

    /// Columns added to the section's files after its first version (`ranking.csv`'s resolved
    /// pairs, 2026-12-04): a package without them still verifies, on the columns it has.
    public static let addedColumns: Set<String> = ["resolved_discordant_pairs", "resolved_pairs"]

    /// `ranking.csv`: indicator, networks, within_10_percent, mape_percent, spearman, kendall,
    /// discordant_pairs, pairs, resolved_discordant_pairs, resolved_pairs (the pairs whose
    /// measured intervals do not overlap, and those of them ordered the other way), displaced
    /// (networks displaced by two places or more, `;`-separated); the indicators on paper first
    /// (no accuracy), then each model.
    public var rankingTable: Table {
        var table = Table(header: [
            "indicator", "networks", "within_10_percent", "mape_percent", "spearman", "kendall", "discordant_pairs",
            "pairs", "resolved_discordant_pairs", "resolved_pairs", "displaced",
        ])
        func line(_ r: NetworkRanking, within: Int?, mape: Double?) -> [String] {
            [
                r.indicator, String(r.n), within.map(String.init) ?? "", mape.map(NetworkTable.number) ?? "",
                NetworkTable.number(r.spearman), NetworkTable.number(r.kendall), String(r.discordantPairs),
                String(r.pairs), r.resolvedDiscordantPairs.map(String.init) ?? "",
                r.resolvedPairs.map(String.init) ?? "", r.displaced.joined(separator: ";"),
            ]
        }
        if rows.count >= 3 { for r in onPaper { table.rows.append(line(r, within: nil, mape: nil)) } }
        for a in accuracy { table.rows.append(line(a.ranking!, within: a.withinTenPercent, mape: a.mapePercent)) }
        return table
    }

    /// A number written with every digit a double needs to read back equal.
    static func number(_ value: Double) -> String { "\(value)" }

    /// Writes the section's files into the package at `root`, with the network files' bytes
    /// (`definitions`, by network name).
    func write(to root: URL, definitions: [String: Data]) throws {
        let manager = FileManager.default
        let folder = root.appendingPathComponent(NetworkTable.definitionsDirectory)
        try manager.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, contents) in definitions {
            try contents.write(to: folder.appendingPathComponent("\(name).yaml"), options: .atomic)
        }
        try networksTable.write(to: root.appendingPathComponent(NetworkTable.networksFile))
        try kindsTable.write(to: root.appendingPathComponent(NetworkTable.kindsFile))
        try rankingTable.write(to: root.appendingPathComponent(NetworkTable.rankingFile))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(fits).write(to: root.appendingPathComponent(NetworkTable.fitsFile), options: .atomic)
    }

    /// The networks a run measured: those of its sweep files that are network files, read from
    /// where the run read them or, when that path does not hold them (a package built from another
    /// directory), from `shipped` (the shipped networks) by file name; unchanged since, with each
    /// file's bytes.
    ///
    /// - Throws: ``PackageError`` when a network file the run measured is missing or changed.
    static func measuredNetworks(_ manifests: [RunManifest], shipped: String) throws -> [(
        network: Network, contents: Data
    )] {
        var found: [String: (network: Network, contents: Data)] = [:]
        for sweep in manifests.flatMap(\.sweeps) {
            if ONNXImport.isModel(sweep.path) {
                // An ONNX model the run measured: imported again, the same model by its digest.
                guard FileManager.default.fileExists(atPath: sweep.path) else {
                    throw PackageError("the run measured \(sweep.path), which is missing: the package needs it")
                }
                let network: Network
                do { network = try Network.load(path: sweep.path) } catch { throw PackageError("\(error)") }
                guard network.model?.sha256 == sweep.sha256 else {
                    throw PackageError(
                        "\(sweep.path) changed since the run measured it (SHA-256 differs): the package needs the network as measured"
                    )
                }
                found[network.name] = (network, Data(network.fileText().utf8))
                continue
            }
            let fallback = (shipped as NSString).appendingPathComponent((sweep.path as NSString).lastPathComponent)
            let candidates = [sweep.path, fallback].compactMap { FileManager.default.contents(atPath: $0) }
            guard let contents = candidates.first(where: { SHA256Hex.of($0) == sweep.sha256 }) ?? candidates.first,
                let text = String(data: contents, encoding: .utf8)
            else {
                if sweep.path.contains("networks/") {
                    throw PackageError("the run measured \(sweep.path), which is missing: the package needs it")
                }
                continue
            }
            guard Network.isNetwork(text) else { continue }
            guard SHA256Hex.of(contents) == sweep.sha256 else {
                throw PackageError(
                    "\(sweep.path) changed since the run measured it (SHA-256 differs): the package needs the network as measured"
                )
            }
            let network: Network
            do { network = try Network(contents: contents, path: sweep.path) } catch {
                throw PackageError("\(error)")
            }
            found[network.name] = (network, contents)
        }
        return found.keys.sorted().map { found[$0]! }
    }

    /// The networks of a package (`networks/definitions/`); empty when it has no section.
    static func definitions(package root: URL) throws -> [Network] {
        let folder = root.appendingPathComponent(definitionsDirectory).path
        guard FileManager.default.fileExists(atPath: folder) else { return [] }
        do { return try Network.loadAll(directory: folder) } catch { throw PackageError("\(error)") }
    }
}
