import ConvKernels
import Measurement
import Rows
import Runner
import Sweeps
import Testing

@testable import Analysis

@Suite("What a measured network costs")
struct NetworkCostTests {
    private func row(_ shape: ConvShape, median: Double, low: Double, high: Double, experiment: String = "n")
        -> MeasurementRow
    {
        let configuration = SweepConfiguration(
            id: SweepConfiguration.identifier(experiment: experiment, seriesKey: "s", shape: shape),
            experiment: experiment, series: "s", shape: shape)
        var row = MeasurementRow(configuration: configuration, algorithm: .auto, threads: 1, status: .ok)
        row.record(
            Samples(
                times: [median / 1e3], lowering: [0], gemm: [median / 1e3], warmUpRuns: 1, stopReason: .maxRuns))
        (row.roundMinMs, row.roundMaxMs) = (low, high)
        return row
    }

    @Test("the sum over layers of count × time, the rounds' interval, and the shares by kind")
    func sumsAndShares() throws {
        let stem = ConvShape(
            height: 32, width: 32, inputChannels: 3, outputChannels: 8, kernel: 3, stride: 2, padding: .uniform(1))
        let dense = ConvShape(height: 16, width: 16, inputChannels: 8, outputChannels: 8, kernel: 3)
        let depthwise = ConvShape(height: 16, width: 16, inputChannels: 8, outputChannels: 8, kernel: 3, groups: 8)
        let fc = ConvShape.fullyConnected(rows: 1, inputs: 8, outputs: 10)
        let network = Network(
            name: "n", source: "test", publishedGMACs: 0,
            layers: [
                .init(name: "stem", shape: stem, count: 1), .init(name: "block", shape: dense, count: 3),
                .init(name: "dw", shape: depthwise, count: 2), .init(name: "fc", shape: fc, count: 1),
            ])
        let rows = [
            row(stem, median: 1, low: 0.9, high: 1.2), row(dense, median: 2, low: 1.8, high: 2.1),
            row(depthwise, median: 0.5, low: 0.5, high: 0.6), row(fc, median: 0.25, low: 0.2, high: 0.3),
        ]
        let cost = try NetworkCost(network: network, rows: rows)
        let total: Double = 1 + 3 * 2 + 2 * 0.5 + 0.25
        let low: Double = 0.9 + 3 * 1.8 + 2 * 0.5 + 0.2
        let high: Double = 1.2 + 3 * 2.1 + 2 * 0.6 + 0.3
        #expect(cost.milliseconds == total)
        #expect(abs(cost.lowMilliseconds - low) < 1e-12 && abs(cost.highMilliseconds - high) < 1e-12)
        #expect(cost.layers == 7)
        #expect(cost.kinds.map(\.kind) == ["KxK", "stride 2", "depthwise", "fully connected"])
        let shares = Dictionary(uniqueKeysWithValues: cost.kinds.map { ($0.kind, $0) })
        let denseShare: Double = 6 / 8.25
        #expect(shares["KxK"]!.layers == 3 && abs(shares["KxK"]!.timeShare - denseShare) < 1e-12)
        let macs = network.macs
        #expect(abs(shares["depthwise"]!.macShare - 2 * Accounting(shape: depthwise).macs / macs) < 1e-12)
        #expect(abs(cost.kinds.map(\.timeShare).reduce(0, +) - 1) < 1e-12)
        #expect(abs(cost.kinds.map(\.macShare).reduce(0, +) - 1) < 1e-12)
        // Another network's row of the same layer, listed first, does not replace the network's own.
        let shared = [row(dense, median: 9, low: 9, high: 9, experiment: "other")] + rows
        #expect(try NetworkCost(network: network, rows: shared).milliseconds == total)
        // Rows of two thread counts, the 2-thread ones first: the smallest count unless asked.
        let twoThreads = rows.map { row -> MeasurementRow in
            var faster = row
            faster.threads = 2
            faster.medianMs = row.medianMs! / 2
            return faster
        }
        #expect(try NetworkCost(network: network, rows: twoThreads + rows).milliseconds == total)
        #expect(try NetworkCost(network: network, rows: twoThreads + rows, threads: 2).milliseconds == total / 2)
        // A layer the rows lack is named.
        #expect {
            try NetworkCost(network: network, rows: Array(rows.dropLast()))
        } throws: { error in
            "\(error)".contains("layer fc") && "\(error)".contains("no measured row")
        }
    }

    @Test("rank agreement: Spearman, Kendall, pairs the other way and networks displaced by two places")
    func ranking() {
        // Measured order a < b < c < d < e; the indicator swaps b and c and puts e first.
        let ranking = NetworkRanking(
            indicator: "MACs", names: ["a", "b", "c", "d", "e"], values: [2, 4, 3, 5, 1], measured: [1, 2, 3, 4, 5])
        #expect(ranking.pairs == 10)
        #expect(ranking.discordantPairs == 5)  // (b, c) and e against each of a–d
        #expect(abs(ranking.kendall - 0) < 1e-12)
        #expect(abs(ranking.spearman - -0.1) < 1e-12)  // 1 − 6·(1 + 4 + 0 + 1 + 16)/(5·24)
        #expect(ranking.displaced == ["b", "e"])  // b: rank 4 by MACs, 2 by time; e: 1 and 5
        let perfect = NetworkRanking(
            indicator: "x", names: ["a", "b", "c"], values: [1, 2, 3], measured: [10, 20, 30])
        #expect(
            perfect.spearman == 1 && perfect.kendall == 1 && perfect.discordantPairs == 0 && perfect.displaced.isEmpty)
        #expect(perfect.resolvedPairs == nil && perfect.resolvedDiscordantPairs == nil)
    }

    @Test("an inversion within the rounds' spread is told apart from one the measurement resolves")
    func resolvedPairs() {
        // a and b overlap (2.0–2.2 and 2.1–2.3), c is apart from both; the indicator inverts a and
        // b (within the spread) and then a and c (beyond it).
        let intervals: [ClosedRange<Double>] = [2.0...2.2, 2.1...2.3, 5.0...5.5]
        let inWithin = NetworkRanking(
            indicator: "MACs", names: ["a", "b", "c"], values: [2, 1, 3], measured: [2.0, 2.1, 5.0],
            intervals: intervals)
        #expect(inWithin.discordantPairs == 1 && inWithin.pairs == 3)
        #expect(inWithin.resolvedPairs == 2 && inWithin.resolvedDiscordantPairs == 0)
        let beyond = NetworkRanking(
            indicator: "MACs", names: ["a", "b", "c"], values: [3, 1, 2], measured: [2.0, 2.1, 5.0],
            intervals: intervals)
        #expect(beyond.discordantPairs == 2)  // (a, b) and (a, c)
        #expect(beyond.resolvedPairs == 2 && beyond.resolvedDiscordantPairs == 1)  // (a, c) only
        // A model's accuracy carries the intervals to its ranking.
        let accuracy = NetworkPredictionAccuracy(
            model: "alpha", names: ["a", "b", "c"], predicted: [2.2, 2.0, 5.1], measured: [2.0, 2.1, 5.0],
            intervals: intervals)
        #expect(accuracy.ranking?.discordantPairs == 1 && accuracy.ranking?.resolvedDiscordantPairs == 0)
    }

    @Test("two runs of the same networks: each network's time in both, B/A, and B's order against A's")
    func transfer() throws {
        let shapes = (1...4).map {
            ConvShape(height: 8 * $0, width: 8 * $0, inputChannels: 4, outputChannels: 4, kernel: 3)
        }
        let networks = shapes.enumerated().map { i, shape in
            Network(
                name: "n\(i)", source: "test", publishedGMACs: 0, layers: [.init(name: "l", shape: shape, count: 2)])
        }
        // A: n0 < n1 < n2 (n3 measured); B: n1 and n2 swapped, both within A's rounds; B lacks n3.
        let a = [
            row(shapes[0], median: 1, low: 1, high: 1.1, experiment: "n0"),
            row(shapes[1], median: 2, low: 2, high: 2.2, experiment: "n1"),
            row(shapes[2], median: 2.1, low: 2.1, high: 2.3, experiment: "n2"),
            row(shapes[3], median: 9, low: 9, high: 9, experiment: "n3"),
        ]
        let b = [
            row(shapes[0], median: 0.5, low: 0.5, high: 0.5, experiment: "n0"),
            row(shapes[1], median: 1.2, low: 1.2, high: 1.2, experiment: "n1"),
            row(shapes[2], median: 1.1, low: 1.1, high: 1.1, experiment: "n2"),
        ]
        let transfer = NetworkTransfer(networks: networks, a: a, b: b)
        #expect(transfer.rows.map(\.network) == ["n0", "n1", "n2"])
        #expect(transfer.rows[0].a.milliseconds == 2 && transfer.rows[0].b.milliseconds == 1)
        #expect(abs(transfer.rows[1].ratio - 0.6) < 1e-12)
        let ranking = try #require(transfer.ranking)
        #expect(ranking.discordantPairs == 1 && ranking.pairs == 3)
        // A's rounds separate n0 from n1 and n2 (2–2.2 and 4–4.4 against 4.2–4.6 overlap), and B keeps those.
        #expect(ranking.resolvedPairs == 2 && ranking.resolvedDiscordantPairs == 0)
        // Fewer than three networks in both: no ranking.
        #expect(NetworkTransfer(networks: networks, a: a, b: Array(b.prefix(2))).ranking == nil)
    }
}

@Suite("A network at every thread count")
struct NetworkScalingTests {
    private func row(_ shape: ConvShape, threads: Int, median: Double, batch: Int = 1) -> MeasurementRow {
        let experiment = batch == 1 ? "n" : "n-batch\(batch)"
        var configuration = SweepConfiguration(
            id: SweepConfiguration.identifier(experiment: experiment, seriesKey: "s", shape: shape),
            experiment: experiment, series: "s", shape: shape)
        configuration = configuration.measured(threads: threads)
        var row = MeasurementRow(configuration: configuration, algorithm: .auto, threads: threads, status: .ok)
        row.record(
            Samples(
                times: [median / 1e3], lowering: [0], gemm: [median / 1e3], warmUpRuns: 1, stopReason: .maxRuns))
        (row.roundMinMs, row.roundMaxMs) = (median * 0.9, median * 1.2)
        return row
    }

    @Test("each count's sum, its speedup with the rounds' interval, the throughput at the larger batch")
    func latencyAndThroughputPerCount() throws {
        let dense = ConvShape(height: 16, width: 16, inputChannels: 8, outputChannels: 8, kernel: 3)
        let fc = ConvShape.fullyConnected(rows: 1, inputs: 8, outputs: 10)
        let network = Network(
            name: "n", source: "test", publishedGMACs: 0,
            layers: [.init(name: "block", shape: dense, count: 2), .init(name: "fc", shape: fc, count: 1)])
        let eight = network.atBatch(8)
        var rows: [MeasurementRow] = []
        for (p, factor) in [(1, 1.0), (2, 0.6)] {
            rows += [row(dense, threads: p, median: 2 * factor), row(fc, threads: p, median: 0.5 * factor)]
            rows += [
                row(eight.layers[0].shape, threads: p, median: 12 * factor, batch: 8),
                row(eight.layers[1].shape, threads: p, median: 1 * factor, batch: 8),
            ]
        }
        let scaling = try NetworkScaling(networks: [network], measurements: rows)
        #expect(scaling.rows.map(\.threads) == [1, 2])
        let (one, two) = (scaling.rows[0], scaling.rows[1])
        #expect(abs(one.milliseconds - 4.5) < 1e-12 && abs(two.milliseconds - 2.7) < 1e-12)
        #expect(abs(two.speedup - 4.5 / 2.7) < 1e-12 && abs(two.efficiency - 4.5 / 2.7 / 2) < 1e-12)
        // The interval: the fastest one-thread sum over the slowest two-thread one, and back.
        #expect(abs(two.speedupLow - 4.5 * 0.9 / (2.7 * 1.2)) < 1e-12)
        #expect(abs(two.speedupHigh - 4.5 * 1.2 / (2.7 * 0.9)) < 1e-12)
        #expect(two.throughputBatch == 8 && abs(two.imagesPerSecond! - 8 * 1000 / (25 * 0.6)) < 1e-9)
        #expect(scaling.csv.hasPrefix(NetworkScaling.columns.joined(separator: ",") + "\n"))
        // Rows of one count: nothing to scale.
        #expect(try NetworkScaling(networks: [network], measurements: rows.filter { $0.threads == 1 }).rows.isEmpty)
        // A layer a count lacks is named.
        #expect(throws: (any Error).self) {
            try NetworkScaling(networks: [network], measurements: rows.filter { !($0.threads == 2 && $0.shape == fc) })
        }
    }
}
