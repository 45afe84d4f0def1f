import Basics
import ConvKernels
import Foundation
import Measurement
import Rows
import Sweeps

/// The measuring stage of a session: its rounds, the worker processes that measure them, and its
/// waits for the machine's fast state.
final class SessionRounds {
    /// The session's options.
    let options: RunOptions
    /// The PUs the session is bound to.
    let cpuset: [Int]
    /// The PUs of ``cpuset`` in the order the compute threads take them.
    let threadOrder: [Int]
    /// Worker processes started (one per pass, with ``RunOptions/workerLaunch``).
    private(set) var workerProcesses = 0
    /// When to wait for the machine's fast state, and the waits so far.
    private(set) var slowPhaseWait: SlowPhaseWait
    /// The threads of the last worker process at its end, as it stated them.
    private(set) var workerThreadsAtEnd: [ThreadAffinity]?
    /// The evictor of rounds measured in this process (a worker process makes its own), made at
    /// the first round that needs it.
    private var inProcessEvictor: CacheEvictor?

    /// The stage of a session with `options`, bound to `cpuset`, its compute threads taking
    /// `threadOrder`.
    init(options: RunOptions, cpuset: [Int], threadOrder: [Int]) {
        self.options = options
        self.cpuset = cpuset
        self.threadOrder = threadOrder
        slowPhaseWait = SlowPhaseWait(limit: options.slowPhaseWait, budget: options.slowPhaseBudget)
    }

    /// Measure: every configuration without a row, in rounds. Each pass measures one round of
    /// every configuration that still needs one, in its own seeded order; the drift probe is read
    /// after a round (at most every 0.1 s), so that each round lies between two readings. A round
    /// next to a slow reading is disturbed and measured again in a later pass; a configuration is
    /// done when ``RoundPolicy`` says (``RunOptions/rounds`` clean rounds, one of them a witness of
    /// its fastest round within the round tolerance), or when it reaches the round limit. Every round is appended to
    /// rounds.csv as it ends, every row to measurements.csv as its configuration is done: a kill
    /// loses at most one round.
    func measure(_ opened: inout RunSession.Opened, warnings: inout [String]) throws {
        let pending = opened.run.shardConfigurations.filter { !opened.done.contains($0.id) }
        let roofs = opened.run.roofs
        var pass = Pass(
            work: WorkCredit(
                model: options.measuringTimeModel(
                    rates: .init(
                        gflops: roofs.computeGflops, gigabytesPerSecond: roofs.bandwidthGBps,
                        source: "this session's roofs"))),
            before: opened.run.journal.last)
        let expected = pending.map(pass.work.model.seconds).reduce(0, +)
        slowPhaseWait.expectedMeasuringSeconds = expected
        pass.progress = ProgressReporter(
            total: pending.map { $0.isMeasured ? options.rounds : 1 }.reduce(0, +), totalWork: expected,
            enabled: options.showProgress)
        for warning in warnings { pass.progress.message("warning: " + warning) }
        if let scale = options.standIns.probeRateScaleWhileMeasuring {
            pass.before = opened.run.journal.scaleRate(scale)
        }
        var left = pending
        while !left.isEmpty {
            pass.number += 1
            let order =
                options.order == .random
                ? ConfigurationOrder.shuffled(left, seed: options.seed &+ UInt64(pass.number)) : left
            // Each pass measures in a fresh worker process, when the run starts them.
            defer { if let worker = pass.worker { workerThreadsAtEnd = worker.finish() } }
            pass.worker = nil
            for configuration in order { try measureRound(of: configuration, in: &opened, pass: &pass) }
            if let worker = pass.worker { workerThreadsAtEnd = worker.finish() }
            pass.worker = nil
            left = left.filter { !opened.done.contains($0.id) }
        }
        pass.progress.close()
        if !pass.noisy.isEmpty {
            let warning =
                "\(pass.noisy.count) configuration(s) have an interquartile spread over \(Int(RunDriver.spreadWarningThreshold * 100))% of the median: "
                + pass.noisy.prefix(10).joined(separator: ", ") + (pass.noisy.count > 10 ? ", …" : "")
            warnings.append(warning)
            pass.progress.message("warning: " + warning)
        }
    }

    /// What measuring carries from one round to the next.
    private struct Pass {
        /// The progress line's work credit.
        var work: WorkCredit
        /// The probe's reading before the next round.
        var before: DriftProbe.Reading
        /// The pass's number, from 1.
        var number = 0
        /// The pass's worker process, once started.
        var worker: WorkerProcess?
        /// The progress line.
        var progress = ProgressReporter(total: 0, totalWork: 0, enabled: false)
        /// Configurations whose row spreads widely.
        var noisy: [String] = []
        /// When measuring started.
        let started = MonotonicClock.now()
    }

    /// Measures, judges and keeps one round of `configuration`; writes its row when it is done;
    /// then waits out a slow phase if the policy says so.
    private func measureRound(
        of configuration: SweepConfiguration, in opened: inout RunSession.Opened, pass: inout Pass
    ) throws {
        let journal = opened.run.journal
        pass.progress.starting(configuration.id)
        var (round, timings) = try measure(configuration, worker: &pass.worker, evictionBytes: opened.run.evictionBytes)
        round.session = opened.run.sessionNumber
        guard round.status.isOK else {
            try finish(configuration, with: round, in: &opened)
            pass.progress.finished(configuration.id, work: pass.work.credit(configuration, finished: true))
            return
        }
        round.round = (opened.roundsSoFar[configuration.id]?.compactMap(\.round).max() ?? 0) + 1
        let after = try journal.judge(
            &round, since: pass.before, file: opened.files.probes, session: opened.run.sessionNumber,
            progress: pass.progress)
        pass.before = after
        try opened.files.rounds.append(round.csvLine(layerColumns: opened.files.layerColumns))
        if let timings, let samples = opened.files.samples, let number = round.round {
            try samples.append(SamplesFile.lines(configuration.id, round: number, timings))
        }
        opened.roundsSoFar[configuration.id, default: []].append(round)
        let row = RoundPolicy(options, run: opened.run.manifest.settings).row(
            from: opened.roundsSoFar[configuration.id] ?? [])
        pass.progress.finished(configuration.id, work: pass.work.credit(configuration, finished: row != nil))
        if let row {
            try finish(configuration, with: row, in: &opened)
            if let p25 = row.p25Ms, let p75 = row.p75Ms, let median = row.medianMs,
                (p75 - p25) / median > RunDriver.spreadWarningThreshold
            {
                pass.noisy.append(configuration.id)
            }
        }
        // The round is written: wait out a slow phase before the next one, if the policy says so.
        let measuring = MonotonicClock.now() - pass.started - slowPhaseWait.summary.seconds
        if let seconds = slowPhaseWait.wait(readsSlow: journal.readsSlow(after), measuringSeconds: measuring) {
            let waited = try journal.waitForFastState(
                atMost: seconds, progress: pass.progress, file: opened.files.probes,
                session: opened.run.sessionNumber)
            slowPhaseWait.waited(waited.seconds, endedFast: waited.endedFast)
            pass.before = journal.last
        }
    }

    /// One round of `configuration`: in the pass's worker process when the run starts them
    /// (starting it at the pass's first measured configuration), else in this process.
    private func measure(
        _ configuration: SweepConfiguration, worker: inout WorkerProcess?, evictionBytes: Int?
    ) throws -> (MeasurementRow, Samples?) {
        guard let launch = options.workerLaunch, configuration.isMeasured else {
            return RunDriver.measure(
                configuration, options: options, rule: options.roundStopRule, evictor: evictor(evictionBytes))
        }
        let running =
            try worker
            ?? WorkerProcess(
                launch,
                setup: .init(options: options, evictionBytes: evictionBytes, cpuset: cpuset, threadOrder: threadOrder))
        if worker == nil { workerProcesses += 1 }
        worker = running
        return try running.measure(configuration)
    }

    private func evictor(_ bytes: Int?) -> CacheEvictor? {
        guard let bytes else { return nil }
        if inProcessEvictor == nil { inProcessEvictor = CacheEvictor(bytes: bytes) }
        return inProcessEvictor
    }

    /// Appends the row of a configuration that is done, with its place under the session's roofs.
    private func finish(
        _ configuration: SweepConfiguration, with row: MeasurementRow, in opened: inout RunSession.Opened
    ) throws {
        var row = row
        let roofs = opened.run.roofs
        if row.status.isOK, let gflops = row.gflops {
            let intensity = Accounting(shape: row.shape).arithmeticIntensity
            row.arithmeticIntensity = intensity
            row.attainedShare = gflops / roofs.attainable(intensity: intensity)
            row.bound = roofs.bound(intensity: intensity)
        }
        try opened.files.measurements.append(row.csvLine(layerColumns: opened.files.layerColumns))
        opened.done.insert(configuration.id)
        opened.roundsSoFar[configuration.id] = nil
        opened.summary.written += 1
        if row.status.isOK { opened.summary.measured += 1 } else { opened.summary.notMeasured += 1 }
        if opened.summary.written == FailPoint.stopAfterRows { raise(SIGSTOP) }
    }

}
