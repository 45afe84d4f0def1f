import Basics
import ConvKernels
import Foundation
import Measurement
import Rows
import Sweeps
import Testing

@testable import Runner

@Suite struct OrderAndFormatTests {
    @Test func stableHashIsTheFirstEightBytesOfSHA256() {
        // SHA-256("abc") = ba7816bf 8f01cfea …
        #expect(StableHash.of("abc") == 0xba78_16bf_8f01_cfea)
    }

    @Test func shardsPartitionTheConfigurations() throws {
        let ids = (0..<500).map { "cfg-\($0)" }
        var owners: [String: Int] = [:]
        for i in 1...7 {
            let shard = try Shard(index: i, count: 7)
            for id in ids where shard.contains(id) {
                #expect(owners[id] == nil)
                owners[id] = i
            }
        }
        #expect(owners.count == ids.count)
        #expect(Set(owners.values).count == 7)
        #expect(try Shard(parsing: "3/8") == Shard(index: 3, count: 8))
        for bad in ["0/4", "5/4", "1/0", "x", "1/2/3", "-1/2"] {
            #expect(throws: RunError.self) { _ = try Shard(parsing: bad) }
        }
    }

    @Test func randomOrderIsASeededPermutation() {
        let items = Array(0..<100)
        let a = ConfigurationOrder.shuffled(items, seed: 1)
        #expect(a == ConfigurationOrder.shuffled(items, seed: 1))
        #expect(a != ConfigurationOrder.shuffled(items, seed: 2))
        #expect(a != items && a.sorted() == items)
        // Fixed across processes and toolchains: the first elements for seed 1 never change.
        #expect(
            Array(ConfigurationOrder.shuffled(Array(0..<10), seed: 1))
                == ConfigurationOrder.shuffled(Array(0..<10), seed: 1))
    }

    @Test func everyStatusReadsBackFromItsText() {
        let statuses: [ConfigurationStatus] = [
            .ok, .dropped("a; b"), .impossible("x"), .outOfMemory("needs 9 MiB"), .failedVerification("y: z"),
        ]
        for status in statuses { #expect(ConfigurationStatus(text: status.text) == status) }
        #expect(ConfigurationStatus(text: "fine") == nil)
    }

    @Test func rowsRoundTripThroughCSV() throws {
        let configuration = SweepConfiguration(
            id: "x-1", experiment: "E", series: "a, \"b\"\nc",
            shape: ConvShape(
                batch: 2, height: 3, width: 4, inputChannels: 5, outputChannels: 6, kernelHeight: 3, kernelWidth: 1))
        var row = MeasurementRow(configuration: configuration, algorithm: .im2colGemm, threads: 1, status: .ok)
        row.record(
            Samples(
                times: [0.001, 0.002, 0.003], lowering: [0.0001, 0.0002, 0.0003], gemm: [0.0009, 0.0018, 0.0027],
                warmUpRuns: 2, stopReason: .maxRuns))
        let dropped = MeasurementRow(
            configuration: configuration, algorithm: .im2colGemm, threads: 1, status: .dropped("limit, 2"))
        let text = MeasurementsFile.header + row.csvLine + dropped.csvLine
        let rows = try MeasurementsFile.parse(text)
        #expect(rows.count == 2)
        #expect(rows[0].series == configuration.series)
        #expect(rows[0].medianMs == 2 && rows[0].runs == 3 && rows[0].warmUpRuns == 2)
        #expect(rows[0].loweringMs == 0.2 && rows[0].gemmMs == 1.8)
        #expect(rows[0].shape == configuration.shape)
        #expect(rows[0].flops == 2 * 3 * 1 * 5 * 6 * 3 * 4 * 2)
        #expect(rows[0].stopReason == .maxRuns && row.fields[26] == "max-runs")
        #expect(rows[1].status.text == "dropped: limit, 2" && rows[1].medianMs == nil)
        #expect(
            MeasurementRow.columns.prefix(14) == [
                "config_id", "experiment", "series", "H", "W", "Cin", "Cout", "K1", "K2", "batch", "algorithm",
                "threads", "flops", "runs",
            ])
        #expect(throws: RowFormatError.self) { _ = try MeasurementsFile.parse("config_id,status\nx,ok\n") }
    }

    @Test func verificationAcceptsTheKernelsAndCatchesAWrongOutput() throws {
        for kernel in [1, 3, 5] {
            let conv = try Conv2D(
                shape: ConvShape(height: 9, width: 7, inputChannels: 6, outputChannels: 5, kernel: kernel))
            conv.fillRandom(seed: 3)
            conv.run()
            #expect(Verification.checkSampled(conv, seed: 1).passed)
            // Off by one output position, as a wrong im2col shift would be.
            let shifted = Array(conv.output)
            for i in conv.output.indices { conv.output[i] = shifted[(i + 1) % shifted.count] }
            let result = Verification.checkSampled(conv, seed: 1)
            #expect(!result.passed)
        }
    }

    @Test func progressLinesShowCountsAndETA() {
        let progress = ProgressReporter(total: 4, totalWork: 400, enabled: false, isTerminal: false)
        progress.finished("a", work: 100)
        let line = progress.line(current: "b")
        #expect(line.hasPrefix("[1/4 25%] elapsed"))
        #expect(line.contains("ETA") && line.hasSuffix("— b"))
        #expect(ProgressReporter.duration(3725) == "1h02m" && ProgressReporter.duration(185) == "3m05s")
        for _ in 0..<5 { progress.finished("c", work: 100) }
        #expect(progress.line(current: "c").hasPrefix("[4/4 100% + 2 extra rounds] elapsed"))
    }

    @Test func etaWorkFollowsTheRoundRuleNotTheFLOPs() {
        // Under the adaptive rule a round of a layer slower than the round's time limit stops at
        // the limit: a layer 100 times the FLOPs of another costs about the same (a round of each
        // at 1 GFLOP/s: 0.1 s and 10 s a run against a 0.67 s limit).
        var options = RunOptions()
        options.maxSeconds = 2
        let rates = MeasuringTimeModel.MachineRates(gflops: 1, gigabytesPerSecond: 1000, source: "test")
        let model = options.measuringTimeModel(rates: rates)
        #expect(model.rounds == 3 && model.maxRounds == 6 && model.roundMaxSeconds == 2.0 / 3)
        let small = model.seconds(flops: 0.085e9, intensity: 1000)  // 0.1 s a run at 85%
        #expect(abs(small - model.expectedRounds * (0.1 + (2.0 / 3 + 0.1) + 0.04)) < 1e-9)
        // With a fixed number of runs there is no time limit: work follows the run time.
        options.fixedRuns = 30
        let fixed = options.measuringTimeModel(rates: rates)
        #expect(fixed.fixedRunsPerRound == 10)
        #expect(fixed.seconds(flops: 1e10, intensity: 1000) > 50 * fixed.seconds(flops: 1e8, intensity: 1000))
    }

    @Test func aConfigurationAtPThreadsIsEstimatedAtAPthOfItsRunTime() throws {
        var options = RunOptions()
        options.fixedRuns = 30
        let model = options.measuringTimeModel(
            rates: MeasuringTimeModel.MachineRates(gflops: 1, gigabytesPerSecond: 1000, source: "test"))
        let shape = ConvShape(height: 64, width: 64, inputChannels: 64, outputChannels: 64, kernel: 3)
        let one = SweepConfiguration(id: "B/s/x", experiment: "B", series: "s", shape: shape)
        options.threadCounts = try #require(ThreadCounts([1, 4]))
        let expanded = options.expanded([one])
        let run = model.secondsPerRun(flops: one.flops, intensity: Accounting(shape: shape).arithmeticIntensity)
        #expect(abs(model.seconds(expanded[0]) - model.expectedRounds * model.roundSeconds(run: run)) < 1e-9)
        #expect(abs(model.seconds(expanded[1]) - model.expectedRounds * model.roundSeconds(run: run / 4)) < 1e-9)
    }
}
