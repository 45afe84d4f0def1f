import ConvKernels
import Rows
import Sweeps
import Testing

@testable import Runner

/// The settling rule alone, on rounds made up here: no kernel runs.
@Suite struct RoundPolicyTests {
    private let configuration = SweepConfiguration(
        id: "p", experiment: "E", series: "s",
        shape: ConvShape(height: 8, width: 8, inputChannels: 4, outputChannels: 4, kernel: 3))

    private func round(_ number: Int, _ medianMs: Double, _ window: MeasurementWindow = .clean) -> MeasurementRow {
        var row = MeasurementRow(configuration: configuration, algorithm: .auto, threads: 1, status: .ok)
        (row.round, row.medianMs, row.window, row.runs) = (number, medianMs, window, 5)
        return row
    }

    private let policy = RoundPolicy(rounds: 3, maxRounds: 5, tolerance: 0.02)

    @Test func threeCleanRoundsWhoseTwoFastestAgreeSettleOnTheFastest() throws {
        #expect(policy.row(from: [round(1, 1.00), round(2, 1.01)]) == nil)  // two clean rounds: one more
        let row = try #require(policy.row(from: [round(1, 1.00), round(2, 1.01), round(3, 1.30)]))
        #expect(row.medianMs == 1.00 && row.round == 1 && row.window == .clean)
        #expect(row.rounds == 3 && row.cleanRounds == 3 && row.roundMinMs == 1.00 && row.roundMaxMs == 1.30)
    }

    @Test func aFastestRoundWithoutASecondWitnessGetsAnotherRound() throws {
        // 1.00 and 1.05 disagree by 5% > 2%: not settled until a witness or the limit.
        let rounds = [round(1, 1.00), round(2, 1.05), round(3, 1.06)]
        #expect(policy.row(from: rounds) == nil)
        let witnessed = try #require(policy.row(from: rounds + [round(4, 1.01)]))
        #expect(witnessed.medianMs == 1.00 && witnessed.window == .clean && witnessed.rounds == 4)
        let atLimit = try #require(policy.row(from: rounds + [round(4, 1.07), round(5, 1.08)]))
        #expect(atLimit.medianMs == 1.00 && atLimit.window == .unsettled && atLimit.rounds == 5)
    }

    @Test func disturbedRoundsDoNotCountButFillTheLimit() throws {
        // Disturbed rounds never settle a configuration; a disturbed round slower than the clean
        // ones changes nothing.
        let slower = [round(1, 1.30, .disturbed), round(2, 1.00), round(3, 1.01)]
        #expect(policy.row(from: slower) == nil)
        let settled = try #require(policy.row(from: slower + [round(4, 1.02)]))
        #expect(settled.medianMs == 1.00 && settled.cleanRounds == 3 && settled.rounds == 4)
        #expect(settled.window == .clean && settled.roundMaxMs == 1.02)
        // A disturbed round faster than every clean one is the least disturbed window (the probe
        // reads another kernel and missed what slowed the clean ones): it is the row, and until a
        // clean round witnesses it the configuration is not settled.
        let rounds = [round(1, 0.90, .disturbed), round(2, 1.00), round(3, 1.01)]
        #expect(policy.row(from: rounds + [round(4, 1.02)]) == nil)
        let row = try #require(policy.row(from: rounds + [round(4, 0.95, .disturbed), round(5, 1.02)]))
        #expect(row.medianMs == 0.90 && row.round == 1 && row.cleanRounds == 3 && row.rounds == 5)
        #expect(row.window == .unsettled && row.roundMinMs == 0.90 && row.roundMaxMs == 1.02)
        let witnessed = try #require(policy.row(from: rounds + [round(4, 0.91)]))
        #expect(witnessed.medianMs == 0.90 && witnessed.window == .clean && witnessed.rounds == 4)
        // No clean round at the limit: the fastest round, said to be disturbed.
        let never = try #require(policy.row(from: (1...5).map { round($0, Double($0), .disturbed) }))
        #expect(never.medianMs == 1 && never.window == .disturbed && never.cleanRounds == 0)
    }

    /// A run started before 0.16.0 records no row rule: its rows, a newer convsweep's resume
    /// included, keep taking their fastest clean round, so the run stays one rule; and that
    /// difference of a resuming session's settings is not an incompatibility.
    @Test func aRunStartedBeforeKeepsItsRuleWhenResumed() throws {
        var old = policy
        old.fastestOfAll = false
        let rounds = [round(1, 0.90, .disturbed), round(2, 1.00), round(3, 1.01)]
        let row = try #require(old.row(from: rounds + [round(4, 1.02)]))
        #expect(row.medianMs == 1.00 && row.window == .clean && row.rounds == 4 && row.roundMaxMs == 1.02)
        #expect(try #require(policy.row(from: rounds + [round(4, 0.95, .disturbed), round(5, 1.02)])).medianMs == 0.90)
        let settings = RunManifest.Settings(options: RunOptions(), cpuset: [1], evictionBytes: nil, openBLASThreads: 1)
        #expect(settings.rowRound == RunManifest.Settings.fastestRound)
        var before = settings
        before.rowRound = nil
        #expect(RunManifest.Settings.differences(before, settings).isEmpty)
    }

    @Test func theOptionsGiveThePolicy() {
        var options = RunOptions()
        options.rounds = 4
        options.roundTolerance = 0.05
        #expect(RoundPolicy(options) == RoundPolicy(rounds: 4, maxRounds: 8, tolerance: 0.05))
    }
}
