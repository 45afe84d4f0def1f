import Analysis
import Basics
import ConvKernels
import Foundation
import Rows
import Runner
import Sweeps
import TestSupport
import Testing

@Suite struct RankStatisticsTests {
    // Reference values from SciPy's documentation and scipy.stats (1.17).
    @Test func ranksAverageTies() {
        #expect(RankStatistics.ranks([0, 2, 3, 2]) == [1, 2.5, 4, 2.5])
        #expect(RankStatistics.ranks([]) == [])
    }

    @Test func spearmanMatchesSciPy() {
        // scipy.stats.spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]).statistic
        #expect(abs(RankStatistics.spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) - 0.8207826816681233) < 1e-12)
        #expect(RankStatistics.spearman([1, 2, 3], [3, 2, 1]) == -1)
        #expect(RankStatistics.spearman([1, 1, 1], [3, 2, 1]).isNaN)
    }

    @Test func kendallTauBMatchesSciPy() {
        // scipy.stats.kendalltau([12, 2, 1, 12, 2], [1, 4, 7, 1, 0]).statistic
        #expect(
            abs(RankStatistics.kendallTauB([12, 2, 1, 12, 2], [1, 4, 7, 1, 0]) - (-0.47140452079103173)) < 1e-12)
        #expect(RankStatistics.kendallTauB([1, 2, 3, 4], [1, 2, 3, 4]) == 1)
    }
}

@Suite struct FlopsRankingTests {
    private func row(_ id: String, experiment: String, series: String, cout: Int, ms: Double) -> MeasurementRow {
        let configuration = SweepConfiguration(
            id: id, experiment: experiment, series: series,
            shape: ConvShape(height: 10, width: 10, inputChannels: 8, outputChannels: cout, kernel: 3))
        var row = MeasurementRow(configuration: configuration, algorithm: .im2colGemm, threads: 1, status: .ok)
        row.medianMs = ms
        return row
    }

    @Test func aSeriesCountsDisplacedConfigurationsAndInvertedPairs() throws {
        // FLOPs grow with Cout 1, 2, 4, 8; the times put the largest first.
        let rows = [
            row("a", experiment: "E", series: "s", cout: 1, ms: 2),
            row("b", experiment: "E", series: "s", cout: 2, ms: 3),
            row("c", experiment: "E", series: "s", cout: 4, ms: 4),
            row("d", experiment: "E", series: "s", cout: 8, ms: 1),
        ]
        let r = FlopsRanking(experiment: "E", series: "s", rows: rows)
        #expect(r.n == 4)
        // FLOPs ranks 1, 2, 3, 4; time ranks 2, 3, 4, 1: only d moves by two or more.
        #expect(r.displacedShare == 0.25)
        // Pairs 2x apart: every pair but none (all differ by >= 2x): 6; d is faster than a, b, c.
        #expect(r.pairsTwiceApart == 6 && r.invertedShare == 0.5)
        #expect(abs(r.spearman - RankStatistics.spearman([1, 2, 4, 8], [2, 3, 4, 1])) < 1e-15)
        #expect(r.slowestToFastest == 4)
    }

    @Test func rankingsGroupSeriesAndTheWholeRegressionSample() {
        let rows = [
            row("r1", experiment: "regression", series: "grid", cout: 1, ms: 1),
            row("r2", experiment: "regression", series: "grid", cout: 2, ms: 2),
            row("b1", experiment: "B", series: "Cin=50", cout: 3, ms: 1),
            row("b2", experiment: "B", series: "Cin=50", cout: 3, ms: 3),
        ]
        let rankings = FlopsRanking.rankings(of: rows)
        #expect(rankings.map(\.experiment) == ["regression", "B"])
        #expect(rankings[0].series == "all" && rankings[0].spearman == 1)
        #expect(rankings[1].spearman.isNaN && rankings[1].slowestToFastest == 3)
    }

    @Test func theCommittedPackageReads() throws {
        let rows = try MeasurementSource.rows(
            at: repositoryRoot.appendingPathComponent("results/amd-epyc-2pu/quick").path)
        let rankings = FlopsRanking.rankings(of: rows)
        let regression = try #require(rankings.first { $0.experiment == "regression" })
        #expect(regression.n == rows.filter { $0.experiment == "regression" && $0.status.isOK }.count)
        #expect(regression.spearman > 0.5)
        #expect(throws: RowFormatError.self) { try MeasurementSource.rows(at: temporaryDirectory()) }
    }
}

@Suite struct RunComparisonTests {
    /// A row of configuration `id` at `ms`, and its rounds at `ms × factors` (all clean).
    private func measured(_ id: String, ms: Double, factors: [Double]) -> (MeasurementRow, [MeasurementRow]) {
        let configuration = SweepConfiguration(
            id: id, experiment: "E", series: "s",
            shape: ConvShape(height: 10, width: 10, inputChannels: 8, outputChannels: 8, kernel: 3))
        var row = MeasurementRow(configuration: configuration, algorithm: .im2colGemm, threads: 1, status: .ok)
        row.medianMs = ms * (factors.min() ?? 1)
        let rounds = factors.enumerated().map { index, factor -> MeasurementRow in
            var round = row
            round.round = index + 1
            round.medianMs = ms * factor
            round.window = .clean
            return round
        }
        return (row, rounds)
    }

    private func run(_ scale: Double, jitter: [[Double]]) -> ([MeasurementRow], [MeasurementRow]) {
        var rows: [MeasurementRow] = []
        var rounds: [MeasurementRow] = []
        for (i, factors) in jitter.enumerated() {
            let (row, its) = measured("c\(i)", ms: Double(i + 1) * scale, factors: factors)
            rows.append(row)
            rounds += its
        }
        return (rows, rounds)
    }

    @Test func theSameMachineTwiceIsNoSignificantChangeAndTwiceAsSlowIsSlower() throws {
        let jitterA = (0..<40).map { i in [1.0, 1.004 + 0.001 * Double(i % 3), 1.008] }
        let jitterB = (0..<40).map { i in [1.002, 1.0, 1.006 + 0.001 * Double(i % 2)] }
        let (a, ra) = run(1, jitter: jitterA)
        let (b, rb) = run(1, jitter: jitterB)
        let same = try RunComparison(a: a, roundsA: ra, b: b, roundsB: rb)
        #expect(same.configurations.allSatisfy { $0.verdict == .unchanged })
        let overall = try #require(same.groups.last)
        #expect(overall.experiment == "all" && overall.n == 40 && overall.low < 1 && overall.high > 1)
        #expect(same.rankings.last?.spearman == 1 && same.rankings.last?.topKAgreement == 1)

        let (slow, rs) = run(2, jitter: jitterB)
        let slower = try RunComparison(a: a, roundsA: ra, b: slow, roundsB: rs)
        #expect(slower.configurations.allSatisfy { $0.verdict == .slower && $0.low > 1.8 && $0.high < 2.2 })
        #expect(abs(slower.groups.last!.geometricMeanRatio - 2 * 1.0 / 1.0) < 0.01)
    }

    /// A configuration twice in either run, or a round of one twice in a rounds.csv (fuzz seed
    /// 21: a duplicated line of the other run a package holds verified), is refused: which of its
    /// times, or how many rounds, would count?
    @Test func aConfigurationOrARoundTwiceIsRefused() throws {
        let (a, ra) = run(1, jitter: [[1, 1.01, 1.02], [1, 1.01, 1.02]])
        #expect {
            try RunComparison(a: a, roundsA: ra, b: a + [a[1]], roundsB: ra)
        } throws: { error in
            "\(error)" == "run B holds configuration c1 twice (which of its times would count?)"
        }
        let directory = temporaryDirectory()
        try FileManager.default.copyItem(
            atPath: repositoryRoot.path + "/results/amd-epyc-2pu/quick/run", toPath: directory + "/run")
        #expect(try MeasurementSource.rounds(at: directory + "/run").count > 1000)
        let file = directory + "/run/rounds.csv"
        var lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(String.init)
        lines.insert(lines[7], at: 12)
        try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        #expect {
            try MeasurementSource.rounds(at: directory + "/run")
        } throws: { error in
            "\(error)".hasPrefix("\(file) line 13: ") && "\(error)".hasSuffix(" again (first on line 8)")
        }
    }

    @Test func runsWithNothingInCommonAreRefused() {
        let (a, ra) = run(1, jitter: [[1, 1, 1]])
        var b = a
        b[0].configID = "other"
        #expect(throws: ComparisonError.self) { try RunComparison(a: a, roundsA: ra, b: b, roundsB: []) }
    }

    @Test func aRunWithoutRoundsIsJudgedFromItsRowsInterval() throws {
        var (a, _) = run(1, jitter: [[1, 1, 1]])
        a[0].ci95LowMs = 0.99
        a[0].ci95HighMs = 1.01
        var b = a
        b[0].medianMs = 1.2
        let comparison = try RunComparison(a: a, roundsA: [], b: b, roundsB: [], noiseFloor: 0)
        #expect(comparison.configurations[0].verdict == .slower)
        #expect(comparison.configurations[0].roundsA == 0)
    }

    /// Two runs whose configurations each moved by a part of their own (a log-normal 3% here) that
    /// their tight rounds do not show: a fixed 1% floor calls many of them changed; the floor
    /// estimated from the runs calls about 5%, and still finds a real 2× slowdown everywhere.
    @Test func theNoiseFloorEstimatedFromTheRunsKeepsAnAAComparisonCalibrated() throws {
        var seed: UInt64 = 20_261_203
        func gaussian() -> Double {  // Box–Muller on a SplitMix-like sequence, reproducible.
            func uniform() -> Double {
                seed &+= 0x9E37_79B9_7F4A_7C15
                var z = seed
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return (Double((z ^ (z >> 31)) >> 11) + 0.5) / Double(1 << 53)
            }
            return (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform())
        }
        let tight = (0..<80).map { i in [1.0, 1.001 + 0.001 * Double(i % 3), 1.002] }
        let (a, ra) = run(1, jitter: tight)
        let shifts = (0..<80).map { _ in exp(0.03 * gaussian()) }
        let (b, rb) = run(1, jitter: zip(tight, shifts).map { factors, shift in factors.map { $0 * shift } })
        let fixed = try RunComparison(a: a, roundsA: ra, b: b, roundsB: rb, noiseFloor: 0.01)
        let flaggedFixed = fixed.configurations.filter { $0.verdict != .unchanged }.count
        #expect(flaggedFixed > 16, "a 1% floor flagged only \(flaggedFixed) of 80")
        let estimated = try RunComparison(a: a, roundsA: ra, b: b, roundsB: rb)
        #expect(estimated.noiseFloorSource == "estimated")
        // The per-run part of a 3% scatter of the ratio: 3%/√2.
        let floor = try #require(estimated.estimatedNoiseFloor)
        #expect(floor > 0.015 && floor < 0.03, "\(floor)")
        let flagged = estimated.configurations.filter { $0.verdict != .unchanged }.count
        #expect(flagged <= 8, "the estimated floor flagged \(flagged) of 80")

        let (slow, rs) = run(2, jitter: zip(tight, shifts).map { factors, shift in factors.map { $0 * shift } })
        let slower = try RunComparison(a: a, roundsA: ra, b: slow, roundsB: rs)
        #expect(slower.configurations.filter { $0.verdict == .slower }.count == 80)
        // Another kernel set: every configuration 2–4× slower by an amount of its own. The scatter
        // is the change, not noise: the floor stops at 5% and every configuration is called slower.
        let uneven = zip(tight, 0..<80).map { factors, i in factors.map { $0 * (2 + 2 * Double(i % 17) / 16) } }
        let (other, ro) = run(1, jitter: uneven)
        let kernels = try RunComparison(a: a, roundsA: ra, b: other, roundsB: ro)
        #expect(kernels.noiseFloorSource == "estimated, capped" && kernels.noiseFloor == 0.05)
        #expect(kernels.configurations.allSatisfy { $0.verdict == .slower })
    }

    /// A comparison of one configuration has groups without an interval: compare.json writes
    /// them as "nan" (JSON has no NaN) and reads them back; a plain decoder does not.
    @Test func compareJSONReadsBackItsNaN() throws {
        let (a, ra) = run(1, jitter: [[1, 1.01, 1.02]])
        let (b, rb) = run(1.1, jitter: [[1, 1.01, 1.02]])
        let comparison = try RunComparison(a: a, roundsA: ra, b: b, roundsB: rb)
        #expect(comparison.groups.allSatisfy { $0.n == 1 && $0.low.isNaN && $0.high.isNaN })
        let data = try ComparisonFiles.jsonData(comparison)
        #expect(String(decoding: data, as: UTF8.self).contains("\"low\" : \"nan\""))
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(RunComparison.self, from: data) }
        let again = try StrictJSON.decode(RunComparison.self, from: data, decoder: ComparisonFiles.jsonDecoder)
        #expect(
            again.groups.allSatisfy { $0.low.isNaN }
                && again.configurations.map(\.ratio) == comparison.configurations.map(\.ratio))
        #expect(try ComparisonFiles.jsonData(again) == data)
        #expect(ComparisonFiles.csvText(again).hasPrefix(ComparisonFiles.columns.joined(separator: ",") + "\n"))
    }

    @Test func theProbesSayWhenTheMachineRanAtAnotherSpeedAndNormaliseTheOverallRatio() throws {
        let jitter = (0..<10).map { _ in [1.0, 1.001, 1.002] }
        let (a, ra) = run(1, jitter: jitter)
        let (b, rb) = run(1.2, jitter: jitter)
        let comparison = try RunComparison(
            a: a, roundsA: ra, b: b, roundsB: rb, probeRatesA: [100, 101, 99], probeRatesB: [80, 79, 81])
        #expect(abs(try #require(comparison.probeRatio) - 0.8) < 1e-12)
        let normalised = try #require(comparison.probeNormalisedGeometricMeanRatio)
        #expect(abs(normalised - 1.2 * pow(0.8, 0.75)) < 1e-9)
        let none = try RunComparison(a: a, roundsA: ra, b: b, roundsB: rb)
        #expect(none.probeRatio == nil && none.probeNormalisedGeometricMeanRatio == nil)
    }
}
