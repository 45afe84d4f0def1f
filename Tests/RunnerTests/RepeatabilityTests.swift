import ConvKernels
import Foundation
import Measurement
import Rows
import Sweeps
import TestSupport
import Testing

@testable import Runner

@Suite("What a run's own rounds say about a second run", .computeThreadsExclusive)
struct RepeatabilityTests {
    /// A round of configuration `id`: round `round` of session 1, median `ms`, in `window`.
    private func round(_ id: Int, _ round: Int, _ ms: Double, _ window: MeasurementWindow = .clean) -> MeasurementRow {
        let shape = ConvShape(height: 4 + id, width: 4, inputChannels: 2, outputChannels: 2, kernel: 1)
        let configuration = SweepConfiguration(
            id: SweepConfiguration.identifier(experiment: "r", seriesKey: "s", shape: shape), experiment: "r",
            series: "s", shape: shape)
        var row = MeasurementRow(configuration: configuration, algorithm: .auto, threads: 1, status: .ok)
        row.record(Samples(times: [ms / 1e3], lowering: [0], gemm: [ms / 1e3], warmUpRuns: 1, stopReason: .maxRuns))
        (row.session, row.round, row.window) = (1, round, window)
        return row
    }

    @Test("rounds dealt alternately into two halves; each half's fastest round; median, 90th percentile")
    func splitHalves() throws {
        let rounds = [
            // Halves {10, 12} and {11}: |10/11 − 1| = 9.09%.
            round(0, 1, 10), round(0, 2, 11), round(0, 3, 12),
            // Halves {2.0, 2.2} and {2.1, 3.0 disturbed}: the fastest of each, as a run keeps its
            // fastest round whatever its window; |2/2.1 − 1| = 4.76%.
            round(1, 1, 2.0), round(1, 2, 2.1), round(1, 3, 2.2), round(1, 4, 3.0, .disturbed),
            // Equal halves: 0%.
            round(2, 2, 5), round(2, 1, 5),
            // Halves {8 clean, 7 disturbed} and {7}: the disturbed round is its half's fastest, 0%
            // (with clean rounds alone, 14.3%).
            round(3, 1, 8), round(3, 2, 7), round(3, 3, 7, .disturbed),
            // One round: no estimate.
            round(4, 1, 7),
        ]
        let r = try #require(Repeatability(rounds: rounds, separateProcesses: false))
        #expect(r.configurations == 4)
        let (m, l) = (100 * (1 - 2.0 / 2.1), 100 * (1 - 10.0 / 11))
        // numpy.percentile([0, 0, 4.76, 9.09], [50, 90]) = 2.38 and 4.76 + 0.7 · (9.09 − 4.76).
        #expect(abs(r.medianPercent - m / 2) < 1e-9)
        #expect(abs(r.largestPercent - l) < 1e-9)
        #expect(abs(r.percentile90Percent - (m + 0.7 * (l - m))) < 1e-9)
        #expect(r.statement.contains("4 configurations") && r.statement.contains("median |t₁/t₂ − 1| 2.4%"))
        #expect(Repeatability(rounds: [round(0, 1, 1)], separateProcesses: false) == nil)
        // Whether the rounds sampled separate processes is said.
        #expect(r.statement.hasSuffix("(every round in one process: what a process fixes at its start is not seen)"))
        let workers = try #require(Repeatability(rounds: rounds, separateProcesses: true))
        #expect(workers.statement.contains("its rounds come from a worker process per pass"))
    }

    @Test("a complete run in rounds states it in its manifest; a run in one round does not")
    func manifestStatesIt() throws {
        let directory = temporaryDirectory()
        let sweep = try smallSweep(in: directory)
        var options = quickOptions()
        options.rounds = 2
        // Rounds judged clean whatever the probe reads: a suite running beside it makes the machine
        // read slow, and this test is of the statement, not of the probe.
        options.probeSlowdown = 0.99
        let summary = try RunDriver.run(
            sweepPaths: [sweep.path], configurations: sweep.configurations, options: options,
            outputDirectory: directory + "/run")
        let stated = try #require(summary.manifest.repeatability)
        #expect(stated.configurations >= 1 && stated.configurations <= sweep.configurations.count)
        #expect(try RunManifest.read(path: directory + "/run/manifest.json").repeatability == stated)
        options.rounds = 1
        let single = try RunDriver.run(
            sweepPaths: [sweep.path], configurations: sweep.configurations, options: options,
            outputDirectory: directory + "/single")
        #expect(single.manifest.repeatability == nil)
    }
}
