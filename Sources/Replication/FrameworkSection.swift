import Analysis
import Basics
import Foundation
import Runner
import Sweeps

/// A framework's end-to-end time of the package's networks beside convsweep's sums of their layers
/// (`networks/reference.json`, a `convsweep networks reference` of the same machine, copied in by
/// `replicate --reference DIR` or `package --reference DIR`): per network the framework's time
/// with its rounds' interval, the layer sum and the share of the framework's time the sum accounts
/// for (`networks/framework.csv`); how the sums, MACs, parameters and each model's predictions
/// order the networks against the framework's times (in the README).
public struct FrameworkSection: Sendable {
    /// One network the reference timed.
    public struct Row: Sendable, Equatable {
        /// The network.
        public var network: String
        /// The framework's median of round medians, and its rounds' fastest and slowest.
        public var frameworkMs: Double
        /// The fastest round median.
        public var lowMs: Double
        /// The slowest round median.
        public var highMs: Double
        /// convsweep's measured sum of the network's convolution and fully-connected layers.
        public var layerSumMs: Double
        /// layerSumMs / frameworkMs.
        public var share: Double
    }

    /// Where the package keeps the reference, and the per-network table.
    public static let referenceFile = "networks/reference.json"
    /// The per-network table.
    public static let tableFile = "networks/framework.csv"

    /// The framework and its settings, as the reference names them (e.g. `onnxruntime 1.32.0, 1
    /// thread`).
    public var label: String
    /// The networks both the reference and the package hold, in the package's order.
    public var rows: [Row]
    /// How the layer sums, MACs, parameters and each model's predictions order the networks
    /// against the framework's times (with three networks or more).
    public var rankings: [NetworkRanking]

    /// The section of `table`'s networks that `reference` timed.
    ///
    /// - Throws: `PackageError` when the reference times none of the table's networks.
    public init(reference: FrameworkReference, table: NetworkTable) throws {
        var rows: [Row] = []
        var predicted: [[Double?]] = []
        var networks: [Network] = []
        for (index, row) in table.rows.enumerated() {
            guard let entry = reference.entry(row.network) else { continue }
            rows.append(
                Row(
                    network: row.network, frameworkMs: entry.milliseconds, lowMs: entry.interval.lowerBound,
                    highMs: entry.interval.upperBound, layerSumMs: row.measuredMs,
                    share: row.measuredMs / entry.milliseconds))
            predicted.append(row.predictedMs)
            networks.append(table.networks[index])
        }
        guard let first = rows.first.flatMap({ reference.entry($0.network) }) else {
            throw PackageError(
                "the framework reference times none of the package's networks (\(table.rows.map(\.network).joined(separator: ", ")))"
            )
        }
        label = first.label
        self.rows = rows
        let names = rows.map(\.network)
        let times = rows.map(\.frameworkMs)
        let intervals = rows.map { $0.lowMs...$0.highMs }
        guard rows.count >= 3 else {
            rankings = []
            return
        }
        var rankings = [
            NetworkRanking(
                indicator: "measured layer sum", names: names, values: rows.map(\.layerSumMs), measured: times,
                intervals: intervals),
            NetworkRanking(
                indicator: "MACs", names: names, values: networks.map(\.macs), measured: times, intervals: intervals),
            NetworkRanking(
                indicator: "parameters", names: names, values: networks.map { Double($0.parameters) },
                measured: times, intervals: intervals),
        ]
        for (column, model) in table.models.enumerated() {
            let values = predicted.map { $0[column] }
            guard values.allSatisfy({ $0 != nil }) else { continue }
            rankings.append(
                NetworkRanking(
                    indicator: "\(model) prediction", names: names, values: values.map { $0! }, measured: times,
                    intervals: intervals))
        }
        self.rankings = rankings
    }

    /// `networks/framework.csv`.
    public var table: Table {
        Table(
            header: ["network", "framework", "framework_ms", "low_ms", "high_ms", "layer_sum_ms", "share"],
            rows: rows.map {
                [
                    $0.network, label, NetworkTable.number($0.frameworkMs), NetworkTable.number($0.lowMs),
                    NetworkTable.number($0.highMs),
                    NetworkTable.number($0.layerSumMs), NetworkTable.number($0.share),
                ]
            })
    }

    /// The reference a package holds (nil without one), refused when it is not of the machine
    /// that measured the package (`manifest`: its CPU model and host).
    public static func reference(package root: URL, manifest: RunManifest) throws -> FrameworkReference? {
        let path = root.appendingPathComponent(referenceFile).path
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try checked(path: path, manifest: manifest)
    }

    /// The reference at `path` (a `reference.json` or its directory), refused unless measured on
    /// the machine of `manifest`.
    public static func checked(path: String, manifest: RunManifest) throws -> FrameworkReference {
        let reference: FrameworkReference
        do { reference = try FrameworkReference.load(path: path) } catch { throw PackageError("\(error)") }
        guard reference.cpuModel == manifest.machine.cpuModel, reference.host == manifest.machine.hostName else {
            throw PackageError(
                "\(path): measured on \(reference.host) (\(reference.cpuModel)), not on the machine of the run, \(manifest.machine.hostName) (\(manifest.machine.cpuModel))"
            )
        }
        return reference
    }
}
