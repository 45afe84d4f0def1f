import Basics
import ConvKernels
import Foundation
import Measurement
import Rows
import Sweeps
import TestSupport
import Testing

@testable import Runner

/// Every file of a run directory and its bytes (the lock file's state aside).
private func snapshot(_ path: String) -> [String: Data] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    var files: [String: Data] = [:]
    for name in names where name != ".lock" { files[name] = FileManager.default.contents(atPath: path + "/" + name) }
    return files
}

@Suite(.serialized, .computeThreadsExclusive) struct RoundsAndIdentityTests {
    private func firstRun(bootID: String) throws -> (
        sweep: (path: String, configurations: [SweepConfiguration]), out: String
    ) {
        let directory = temporaryDirectory()
        let sweep = try smallSweep(in: directory)
        var options = quickOptions()
        options.standIns.bootID = bootID
        let out = directory + "/run"
        _ = try RunDriver.run(
            sweepPaths: [sweep.path], configurations: sweep.configurations, options: options, outputDirectory: out)
        return (sweep, out)
    }

    @Test func aResumeOnAnotherBootIsRefusedUnlessAcceptedAndThenRecorded() throws {
        let (sweep, out) = try firstRun(bootID: "boot-A")
        let before = snapshot(out)
        var options = quickOptions()
        options.standIns.bootID = "boot-B"
        #expect {
            try RunDriver.run(
                sweepPaths: [sweep.path], configurations: sweep.configurations, options: options, outputDirectory: out)
        } throws: { error in
            guard case .machineChanged(let message) = error as? RunError else { return false }
            return message.contains("boot boot-A vs boot-B")
        }
        #expect(snapshot(out) == before, "a refused resume changes nothing")

        options.acceptMachineChange = true
        _ = try RunDriver.run(
            sweepPaths: [sweep.path], configurations: sweep.configurations, options: options, outputDirectory: out)
        let manifest = try RunManifest.read(path: out + "/manifest.json")
        #expect(manifest.sessions.count == 2)
        #expect(manifest.sessions[1].machineChangeAccepted?.contains("boot boot-A vs boot-B") == true)
        #expect(manifest.sessions[1].identity?.bootID == "boot-B")
        #expect(manifest.warnings.contains { $0.contains("accepted by the user") })
    }

    @Test func aResumeAtAReferenceRate20PercentAwayIsRefusedUnlessAccepted() throws {
        let (sweep, out) = try firstRun(bootID: "boot-A")
        let before = snapshot(out)
        var options = quickOptions()
        options.standIns.bootID = "boot-A"
        options.standIns.probeRateScale = 1.2
        #expect {
            try RunDriver.run(
                sweepPaths: [sweep.path], configurations: sweep.configurations, options: options, outputDirectory: out)
        } throws: { error in
            guard case .machineChanged(let message) = error as? RunError else { return false }
            return message.contains("reference sgemm rate") && !message.contains("boot boot-")
        }
        #expect(snapshot(out) == before)
        options.acceptMachineChange = true
        _ = try RunDriver.run(
            sweepPaths: [sweep.path], configurations: sweep.configurations, options: options, outputDirectory: out)
        let manifest = try RunManifest.read(path: out + "/manifest.json")
        #expect(manifest.sessions[1].machineChangeAccepted?.contains("reference sgemm rate") == true)
    }

    @Test func aCalibrationThatReadSlowIsReadAgainBeforeTheRateCountsAsDifferent() throws {
        let (sweep, out) = try firstRun(bootID: "boot-A")
        var options = quickOptions()
        options.standIns.bootID = "boot-A"
        options.standIns.probeRateScale = 0.8  // the calibration falls into a slow phase: 40 vs 50 GFLOP/s
        options.probeRecheckSeconds = 5
        options.standIns.referenceRecheck = 48  // reading on finds the machine's rate again
        _ = try RunDriver.run(
            sweepPaths: [sweep.path], configurations: sweep.configurations, options: options, outputDirectory: out)
        var manifest = try RunManifest.read(path: out + "/manifest.json")
        #expect(manifest.sessions.count == 2)
        #expect(manifest.sessions[1].machineChangeAccepted == nil)
        #expect(manifest.sessions[1].identity?.referenceGflops == 48)
        #expect(manifest.sessions[1].identity?.referenceSeconds != nil)
        #expect(manifest.warnings.contains { $0.contains("40.0 GFLOP/s, -20%") && $0.contains("within the tolerance") })

        // A machine that stays slower is still refused, and nothing changes.
        let before = snapshot(out)
        options.standIns.referenceRecheck = 42
        #expect {
            try RunDriver.run(
                sweepPaths: [sweep.path], configurations: sweep.configurations, options: options, outputDirectory: out)
        } throws: { error in
            guard case .machineChanged(let message) = error as? RunError else { return false }
            return message.contains("reference sgemm rate 50.0 vs 42.0")
        }
        #expect(snapshot(out) == before)
        manifest = try RunManifest.read(path: out + "/manifest.json")
        #expect(manifest.sessions.count == 2)
    }

    @Test func forgottenRowsAreRecordedAndMeasuredAgainOnResume() throws {
        let (sweep, out) = try firstRun(bootID: "boot-A")
        let run = RunDirectory(path: out)
        let rows = try MeasurementsFile.read(path: run.measurementsPath)
        let victim = try #require(rows.first { $0.status == .ok }).configID

        // Bad input changes nothing.
        let before = snapshot(out)
        #expect(throws: RunError.self) {
            try RunForgetter.forget(.configurations(["no-such-id"]), in: out, reason: "x")
        }
        #expect(throws: RunError.self) { try RunForgetter.forget(.session(7), in: out, reason: "x") }
        #expect(throws: RunError.self) { try RunForgetter.forget(.configurations([victim]), in: out, reason: " ") }
        #expect(snapshot(out) == before)

        let record = try RunForgetter.forget(.configurations([victim]), in: out, reason: "a build shared the core")
        #expect(record.configurations == [victim])
        var manifest = try RunManifest.read(path: run.manifestPath)
        #expect(manifest.status == .interrupted)
        #expect(manifest.forgotten?.last?.reason == "a build shared the core")
        #expect(try MeasurementsFile.read(path: run.measurementsPath).count == rows.count - 1)
        #expect(try MeasurementsFile.read(path: run.roundsPath).allSatisfy { $0.configID != victim })

        var options = quickOptions()
        options.standIns.bootID = "boot-A"
        let summary = try RunDriver.run(
            sweepPaths: [sweep.path], configurations: sweep.configurations, options: options, outputDirectory: out)
        #expect(summary.written == 1 && summary.alreadyPresent == rows.count - 1)
        let again = try MeasurementsFile.read(path: run.measurementsPath)
        #expect(again.count == rows.count && again.last?.configID == victim && again.last?.session == 2)
        manifest = try RunManifest.read(path: run.manifestPath)
        #expect(manifest.status == .complete)

        // Forgetting session 2 removes exactly what it measured.
        try RunForgetter.forget(.session(2), in: out, reason: "measured during a backup")
        let left = try MeasurementsFile.read(path: run.measurementsPath)
        #expect(left.count == rows.count - 1 && !left.contains { $0.configID == victim })
        #expect(try MeasurementsFile.read(path: run.roundsPath).allSatisfy { $0.session == 1 })
    }

    @Test func roundsSplitTheBudgetAndOneRoundKeepsASingleWindow() {
        var options = RunOptions()
        options.maxSeconds = 1.5
        options.maxRuns = 300
        #expect(options.roundStopRule.maxSeconds == 0.5 && options.roundStopRule.maxRuns == 100)
        #expect(options.effectiveMaxRounds == 6)
        options.fixedRuns = 2000
        #expect(options.roundStopRule.fixedRuns == 667)
        options.rounds = 1
        #expect(options.roundStopRule == options.stopRule && options.effectiveMaxRounds == 1)
        options.rounds = 0
        #expect(throws: RunError.self) { try RunSettings.validate(options) }
    }

    @Test func aRowComesFromItsFastestCleanRoundAndDisturbedRoundsAreMeasuredAgain() throws {
        // A machine whose every probe reading looks 80% slow after calibration: every round is
        // disturbed, measured again up to the limit, and the row says so. The session waits once
        // for the fast state, to the wait's limit or the budget's end (here the budget's: the
        // wait comes after a round of milliseconds), and then measures on without waiting again.
        // (Not 50%: a calibration that fell into one of the host's slow phases, at about 0.55 of
        // its fast rate, would let a halved reading of the fast state pass as clean.)
        let directory = temporaryDirectory()
        let sweep = try smallSweep(in: directory)
        var options = quickOptions()
        options.rounds = 2
        options.maxRounds = 3
        options.slowPhaseWait = 0.3
        options.standIns.probeRateScaleWhileMeasuring = 0.2
        let session = try RunSession(
            sweepFiles: [], configurations: sweep.configurations, options: options,
            outputDirectory: directory + "/run", commandLine: [], toolVersion: BuildInfo.version)
        defer { session.release() }
        var opened = try session.resume(try session.identify())
        try session.measure(&opened)
        let summary = try session.close(opened)
        let rows = try MeasurementsFile.read(path: directory + "/run/measurements.csv")
        for row in rows where row.status == .ok {
            #expect(row.rounds == 3 && row.cleanRounds == 0 && row.window == .disturbed)
            #expect(row.medianMs == row.roundMinMs)
        }
        #expect(summary.manifest.sessions[0].probe!.disturbedRounds == 15)
        let waits = try #require(summary.manifest.sessions[0].slowPhaseWaits)
        // One wait that ran out; how long it took on the wall clock is the machine's business (the
        // budget's arithmetic has its own test, aSlowReadingWaits…, with no clock).
        #expect(waits.waits == 1 && waits.timedOut == 1 && waits.seconds > 0, "\(waits)")
        #expect(summary.manifest.settings.value("slowPhaseWait", as: Double.self) == 0.3)
    }

    @Test func aSlowReadingWaitsUntilAFastOneUnlessWaitingRanOutOrWouldMoreThanDoubleTheSession() {
        var wait = SlowPhaseWait(limit: 15)
        func ask(_ readsSlow: Bool, _ measuringSeconds: Double) -> Bool {
            wait.wait(readsSlow: readsSlow, measuringSeconds: measuringSeconds) != nil
        }
        #expect(!ask(false, 10))
        #expect(ask(true, 10))
        wait.waited(4, endedFast: true)
        // Fast again: the next slow reading waits again.
        #expect(ask(true, 12))
        wait.waited(15, endedFast: false)
        // A wait that ran out: no waiting while the machine stays slow…
        #expect(wait.suspended)
        #expect(!ask(true, 30))
        // …until a fast reading.
        #expect(!ask(false, 31))
        #expect(!wait.suspended)
        // Waited 19 s: not before the session has measured for longer than that.
        #expect(!ask(true, 18))
        #expect(ask(true, 20))
        #expect(wait.summary == .init(waits: 2, seconds: 19, timedOut: 1))
        // A wait lasts at most what the budget has left, so waiting never more than doubles the
        // session: 1 s after 20 s of measuring, the full limit after 40.
        let (at20, at40, at10) = (
            wait.wait(readsSlow: true, measuringSeconds: 20), wait.wait(readsSlow: true, measuringSeconds: 40),
            wait.wait(readsSlow: true, measuringSeconds: 10)
        )
        #expect(at20 == 1 && at40 == 15 && at10 == nil)
        // A budget of a quarter: 5 s of waiting needs 20 s of measuring.
        var quarter = SlowPhaseWait(limit: 15, budget: 0.25)
        quarter.waited(5, endedFast: true)
        let before20 = quarter.wait(readsSlow: true, measuringSeconds: 19) != nil
        let after20 = quarter.wait(readsSlow: true, measuringSeconds: 21) != nil
        #expect(!before20 && after20)
        // Against the session's estimated measuring time until it has measured longer: a run
        // expected to measure 10 s may wait out a slow phase it starts in, 10 s in all.
        var early = SlowPhaseWait(limit: 15)
        early.expectedMeasuringSeconds = 10
        let waitEarly = early.wait(readsSlow: true, measuringSeconds: 0.5)
        #expect(waitEarly == 10)
        early.waited(10, endedFast: true)
        let waitAgainAt5 = early.wait(readsSlow: true, measuringSeconds: 5)
        let waitAgainAt12 = early.wait(readsSlow: true, measuringSeconds: 12)
        #expect(waitAgainAt5 == nil && waitAgainAt12 == 2)
        // Off: never.
        var off = SlowPhaseWait(limit: 0)
        let waitsWhenOff = off.wait(readsSlow: true, measuringSeconds: 100) != nil
        #expect(!waitsWhenOff)
    }
}

/// A session that runs whole in a slow phase: judged against the machine's reference from the
/// cache (here three times its own rate), it says it starts slow and sends its rounds back.
@Test(.computeThreadsExclusive) func aSessionSlowerThanTheMachinesReferenceSaysSoAndJudgesItsRoundsAgainstIt() throws {
    let directory = temporaryDirectory()
    let (sweep, configurations) = try smallSweep(in: directory)
    var options = quickOptions()
    options.standIns.referenceRate = nil
    options.machineReferenceCacheDirectory = directory + "/cache"
    options.maxRounds = 4
    let cache = MachineReferenceCache(directory: directory + "/cache")
    let identity = MachineIdentity.capture(cpuModel: try Topology().cpuModel, referenceGflops: 0)
    cache.record(1e6, for: MachineReferenceCache.Kind(identity, threads: 1))
    let summary = try RunDriver.run(
        sweepPaths: [sweep], configurations: configurations, options: options, outputDirectory: directory + "/run")
    #expect(summary.warnings.contains { $0.hasPrefix("this session starts in a slow phase") }, "\(summary.warnings)")
    let session = summary.manifest.sessions[0]
    #expect(session.machineReference?.gflops == 1e6 && session.probe?.machineReferenceGflops == 1e6)
    // Every round was disturbed: each measured configuration went to the round limit.
    let rows = try MeasurementsFile.read(path: directory + "/run/measurements.csv").filter { $0.status == .ok }
    #expect(!rows.isEmpty && rows.allSatisfy { $0.rounds == 4 && $0.window == .disturbed })
}
