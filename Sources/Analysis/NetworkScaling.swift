import Basics
import Foundation
import Rows
import Sweeps

/// Each network's latency (and throughput, where its layers were measured at a larger batch) at
/// every thread count of a run of several: the network's cost summed from one count's rows
/// (``NetworkCost``), its speedup over the one-thread cost with the interval the rounds give, and
/// its parallel efficiency. A package of several counts writes it as `threads/networks.csv`.
public struct NetworkScaling: Sendable {
    /// One network at one thread count.
    public struct Row: Sendable, Equatable {
        /// The network.
        public var network: String
        /// The thread count p.
        public var threads: Int
        /// Its layers' summed median time at p, and the rounds' interval of the sum.
        public var milliseconds: Double
        /// The sum of each layer's fastest round median.
        public var lowMilliseconds: Double
        /// The sum of each layer's slowest round median.
        public var highMilliseconds: Double
        /// T(1)/T(p), and its interval (the fastest one-thread sum over the slowest p-thread one,
        /// and the other way round).
        public var speedup: Double
        /// The interval's lower end.
        public var speedupLow: Double
        /// The interval's upper end.
        public var speedupHigh: Double
        /// Speedup / p.
        public var efficiency: Double
        /// Images per second at ``throughputBatch`` on p threads (nil when the network's layers
        /// were not measured at a larger batch).
        public var imagesPerSecond: Double?
        /// The batch of ``imagesPerSecond``.
        public var throughputBatch: Int?
    }

    /// Every network at every count, network by network, counts ascending.
    public let rows: [Row]

    /// The scaling of `networks` from `measurements` (rows of several thread counts; empty for
    /// rows of one count).
    ///
    /// - Throws: ``RowFormatError`` naming a layer a count's rows lack.
    public init(networks: [Network], measurements: [MeasurementRow]) throws {
        let counts = Set(measurements.map(\.threads)).sorted()
        guard counts.count > 1, counts.first == 1 else {
            rows = []
            return
        }
        var rows: [Row] = []
        for network in networks {
            let costs = try counts.map { try NetworkCost(network: network, rows: measurements, threads: $0) }
            let batch = NetworkCost.throughputBatches(of: network, in: measurements).last
            let one = costs[0]
            for (p, cost) in zip(counts, costs) {
                let throughput = try batch.map {
                    try NetworkCost.throughput(of: network, atBatch: $0, rows: measurements, threads: p).imagesPerSecond
                }
                rows.append(
                    Row(
                        network: network.name, threads: p, milliseconds: cost.milliseconds,
                        lowMilliseconds: cost.lowMilliseconds, highMilliseconds: cost.highMilliseconds,
                        speedup: one.milliseconds / cost.milliseconds,
                        speedupLow: one.lowMilliseconds / cost.highMilliseconds,
                        speedupHigh: one.highMilliseconds / cost.lowMilliseconds,
                        efficiency: one.milliseconds / cost.milliseconds / Double(p), imagesPerSecond: throughput,
                        throughputBatch: throughput == nil ? nil : batch))
            }
        }
        self.rows = rows
    }

    /// The columns of ``csv``.
    public static let columns = [
        "network", "threads", "measured_ms", "low_ms", "high_ms", "speedup", "speedup_low", "speedup_high",
        "efficiency", "images_per_second", "throughput_batch",
    ]

    /// The table as CSV (six significant digits).
    public var csv: String {
        func number(_ x: Double) -> String { String(format: "%.6g", x) }
        var text = CSVText.line(Self.columns)
        for row in rows {
            text += CSVText.line([
                row.network, "\(row.threads)", number(row.milliseconds), number(row.lowMilliseconds),
                number(row.highMilliseconds), number(row.speedup), number(row.speedupLow), number(row.speedupHigh),
                number(row.efficiency), row.imagesPerSecond.map(number) ?? "",
                row.throughputBatch.map { "\($0)" } ?? "",
            ])
        }
        return text
    }
}
