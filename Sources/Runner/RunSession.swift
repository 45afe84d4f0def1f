import Basics
import ConvKernels
import Foundation
import Measurement
import Rows
import Sweeps

/// One invocation on a run directory (one entry of the manifest's `sessions`), in the steps
/// ``RunDriver/run(sweepFiles:configurations:options:outputDirectory:commandLine:toolVersion:)``
/// takes them: prepare (``init(sweepFiles:configurations:options:outputDirectory:commandLine:toolVersion:)``:
/// check, lock), ``identify()`` (bind, capture the machine, the manifest), ``resume(_:)`` (rows
/// already present), ``measure(_:)`` and ``close(_:)``.
///
/// Each step takes what the one before established and returns what it establishes
/// (``Identified``, then ``Opened``), so the steps cannot run out of order or twice.
final class RunSession {
    let options: RunOptions
    let configurations: [SweepConfiguration]
    let sweepFiles: [RunManifest.SweepFile]
    let directory: RunDirectory
    let commandLine: [String]
    let toolVersion: String
    let topology: Topology
    let cpuset: [Int]
    private let previous: RunManifest?
    private let lock: RunLock
    private let processingUnits: ProcessingUnitLease

    private var warnings: [String] = []
    private let probe = DriftProbe()
    private lazy var machineReferences = MachineReferenceCache(directory: options.machineReferenceCacheDirectory)
    private var machineKind: MachineReferenceCache.Kind?
    private var startReference = Double.nan
    private var probesWritten = 0
    private var slowReadings = 0
    private var disturbedRounds = 0
    /// Worker processes this session started (one per pass, with ``RunOptions/workerLaunch``).
    private var workerProcesses = 0
    /// When to wait for the machine's fast state, and the waits so far.
    private lazy var slowPhaseWait = SlowPhaseWait(limit: options.slowPhaseWait, budget: options.slowPhaseBudget)
    /// The threads of the last worker process at its end, as it stated them.
    private var workerThreadsAtEnd: [ThreadAffinity]?
    /// The shortest time between two probe readings while measuring, seconds.
    static let probeInterval = 0.1
    /// What ``RunSession/identify()`` established: the machine bound and captured, and the run's
    /// manifest with this session as its last entry.
    struct Identified {
        /// The run's manifest: the first session's facts, this session last.
        var manifest: RunManifest
        /// This session's roofs, measured once the process was bound.
        let roofs: Roofs
        /// Bytes of a cold-cache eviction (nil with warm caches).
        let evictionBytes: Int?
        /// The configurations of this directory (after sharding), in measuring order.
        let shardConfigurations: [SweepConfiguration]
        /// 1-based index of this session in the manifest.
        var sessionNumber: Int { manifest.sessions.count }
        /// This session's entry in the manifest (its last).
        var thisSession: RunManifest.Session {
            get { manifest.sessions[manifest.sessions.count - 1] }
            set { manifest.sessions[manifest.sessions.count - 1] = newValue }
        }
    }

    /// What ``RunSession/resume(_:)`` opened: the run's files, the rows and rounds they hold.
    struct Opened {
        /// What identifying established.
        var run: Identified
        /// measurements.csv, rounds.csv, probes.csv and (with samples kept) samples.csv, open for appending.
        let measurements: AppendOnlyFile, rounds: AppendOnlyFile, probes: AppendOnlyFile, samples: AppendOnlyFile?
        /// Whether the run's files carry the layer columns (a layer other than the grid's is in its sweeps).
        let layerColumns: Bool
        /// The configurations with a row.
        var done: Set<String>
        /// Rounds already measured of the configurations without a row (from rounds.csv).
        var roundsSoFar: [String: [MeasurementRow]]
        /// What this session did so far.
        var summary: RunSummary
    }

    /// Prepare: checks everything that can be checked before touching the directory, then
    /// refuses a directory of another kind and locks it.
    init(
        sweepFiles: [RunManifest.SweepFile], configurations: [SweepConfiguration], options: RunOptions,
        outputDirectory: String, commandLine: [String], toolVersion: String
    ) throws {
        do { try options.stopRule.validate() } catch {
            throw RunError.badSetting(.stopRule(error.setting), error.problem)
        }
        guard options.threads >= 1 else {
            throw RunError.badSetting(.threads, "must be at least 1, got \(options.threads)")
        }
        guard options.workspaceLimit > 0 else { throw RunError.badSetting(.workspaceLimit, "must be positive") }
        try options.validateRounds()
        var seen = Set<String>()
        for c in configurations where !seen.insert(c.id).inserted {
            throw RunError.badSetting(.sweeps, "name configuration id \(c.id) more than once")
        }
        do { topology = try Topology() } catch { throw RunError.machine("\(error)") }
        if let requested = options.cpuset {
            do { cpuset = try topology.cpuset(parsing: CPUSet.format(requested)) } catch {
                throw RunError.badSetting(.cpuset, "\(error)")
            }
        } else {
            cpuset = topology.lastCore
        }
        guard options.threads <= cpuset.count else {
            throw RunError.badSetting(
                .threads,
                "(\(options.threads)) is more than the \(cpuset.count) PU(s) of cpuset \(CPUSet.format(cpuset))")
        }
        directory = RunDirectory(path: outputDirectory)
        if options.resume && !directory.holdsRun {
            throw RunError.badSetting(.resume, "asked, but \(outputDirectory) holds no run (no manifest.json)")
        }
        previous = directory.holdsRun ? try RunManifest.read(path: directory.manifestPath) : nil
        // One measuring process per PU, taken before the directory is touched or anything bound.
        do {
            processingUnits = try ProcessingUnitLocks.acquire(
                cpuset, waitLimit: options.processingUnitWait,
                note: { FileHandle.standardError.write(Data("convsweep: \($0)\n".utf8)) })
        } catch {
            throw RunError.processingUnitBusy(error.description)
        }
        try directory.prepare()
        lock = try directory.lock()
        self.options = options
        self.configurations = configurations
        self.sweepFiles = sweepFiles
        self.commandLine = commandLine
        self.toolVersion = toolVersion
    }

    /// Releases the directory's lock and the PUs' locks.
    func release() {
        processingUnits.release()
        lock.release()
    }

    /// Identify: binds the process, measures the timer, captures the machine, and builds this
    /// session's manifest, refusing a directory that holds a different run.
    func identify() throws -> Identified {
        RunDriver.setThreadCounts(options.threads)
        let binding: ProcessBinding
        do { binding = try ProcessBinding.bind(topology, to: cpuset, under: processingUnits) } catch {
            throw RunError.machine("\(error)")
        }
        let timer = TimerCalibration.measure()
        let environment = EnvironmentSnapshot.capture(topology: topology, cpuset: cpuset)
        probe.rateScale = options.standIns.probeRateScale
        startReference = probe.calibrate(seconds: options.probeCalibrationSeconds)
        if let rate = options.standIns.referenceRate { startReference = rate * options.standIns.probeRateScale }
        let roofs =
            options.standIns.quickRoofs ? Roofs.measure(sgemmSize: 256, streamElements: 1 << 20) : Roofs.measure()
        var identity = MachineIdentity.capture(cpuModel: environment.cpuModel, referenceGflops: startReference)
        if let boot = options.standIns.bootID { identity.bootID = boot }
        machineKind = MachineReferenceCache.Kind(identity, threads: options.threads)
        let evictionBytes =
            options.cache == .cold ? CacheEvictor.bytes(lastLevelCacheBytes: topology.lastLevelCacheBytes) : nil
        warnings = environment.warnings(busyThreshold: Double(environment.processingUnits))
        let shardConfigurations = ConfigurationOrder.arrange(
            configurations, order: options.order, seed: options.seed, shard: options.shard)
        let commit = BuildInfo.gitCommit()
        var session = RunManifest.Session(
            commandLine: commandLine, startedAt: Timestamp.now(), endedAt: nil, loadAverage: environment.loadAverage,
            hostName: environment.hostName, rowsWritten: 0, tornLinesDropped: 0, gitCommit: commit,
            executableSHA256: BuildInfo.executableSHA256(), identity: identity, roofs: roofs)
        session.machineReference = judgeAgainstMachineReference()
        session.kernelSelection = Dictionary(
            uniqueKeysWithValues: EnvironmentSnapshot.kernelSelection().map { ($0.name, $0.value) })
        let settings = RunManifest.Settings(
            options: options, cpuset: cpuset, evictionBytes: evictionBytes, openBLASThreads: OpenBLAS.threadCount)
        var manifest = RunManifest(
            status: .running, tool: .init(version: toolVersion, gitCommit: commit), sweeps: sweepFiles,
            configurationCount: configurations.count, shardConfigurationCount: shardConfigurations.count,
            settings: settings, machine: environment, binding: binding, timer: timer, sessions: [session],
            warnings: [], mergedFrom: nil)
        if let previous {
            if let reason = previous.incompatibility(with: manifest) {
                throw RunError.directory(
                    "\(directory.path) holds a different run (\(reason)); refusing to add to it — choose another output directory"
                )
            }
            // The machine must be the one the run started on, unless the user accepts the change.
            if let first = previous.referenceIdentity {
                if !first.acceptsRate(identity.referenceGflops) {
                    identity = recheckReference(identity, against: first)
                    session.identity = identity
                }
                let differences = first.differences(from: identity)
                if !differences.isEmpty {
                    let text = differences.joined(separator: "; ")
                    guard options.acceptMachineChange else {
                        throw RunError.machineChanged(
                            "\(directory.path) was started on another machine, boot or speed: \(text)")
                    }
                    session.machineChangeAccepted = text
                    warnings.append(
                        "session \(previous.sessions.count + 1) resumed on another machine, boot or speed, accepted by the user: \(text)"
                    )
                }
            }
            // Keep the first session's facts; add this session.
            var resumed = previous
            resumed.status = .running
            resumed.sessions.append(session)
            resumed.binding = binding
            manifest = resumed
        }
        return Identified(
            manifest: manifest, roofs: roofs, evictionBytes: evictionBytes, shardConfigurations: shardConfigurations)
    }

    /// Looks up this kind of machine's reference in the cache and has the probe judge rounds
    /// against it too; says so when the session starts in a slow phase. Not with a test's fixed
    /// reference rate.
    private func judgeAgainstMachineReference() -> MachineReferenceCache.Reference? {
        guard options.standIns.referenceRate == nil, let machineKind,
            let reference = machineReferences.reference(for: machineKind, warn: { warnings.append($0) })
        else { return nil }
        probe.machineReferenceGflops = reference.gflops
        if startReference < reference.gflops * (1 - options.probeSlowdown) {
            warnings.append(
                String(
                    format:
                        "this session starts in a slow phase: the probe's calibration read %.1f GFLOP/s, %.0f%% below this machine's reference %.1f (%d earlier session(s), %@); its rounds are judged against the reference and measured again while the machine reads slow",
                    startReference, 100 * (1 - startReference / reference.gflops), reference.gflops,
                    reference.sessions, reference.file))
        }
        return reference
    }

    /// Records this session's fast-state rate in the machine reference cache, when the session
    /// read the probe long enough (a session of a few readings says little) and with its real rate.
    private func recordMachineReference() {
        guard options.standIns.referenceRate == nil, options.standIns.probeRateScale == 1, let machineKind,
            probe.readings.count >= RunSession.readingsToRecord
        else { return }
        machineReferences.record(probe.referenceGflops, for: machineKind, warn: { warnings.append($0) })
    }

    /// Readings a session needs before its rate enters the machine reference cache (about 5 s
    /// of measuring at one reading every 0.1 s).
    static let readingsToRecord = 50

    /// A resume whose calibration read a reference rate more than the tolerance away from the
    /// run's first session reads the probe on for up to ``RunOptions/probeRecheckSeconds``, until
    /// it is within the tolerance: a half-second calibration in a slow phase of a shared machine
    /// must not pass for another machine. Returns the identity with the rate read and the
    /// seconds it took; a warning records what happened.
    private func recheckReference(_ identity: MachineIdentity, against first: MachineIdentity) -> MachineIdentity {
        guard options.probeRecheckSeconds > 0 else { return identity }
        let calibrated = identity.referenceGflops
        let started = MonotonicClock.now()
        var rechecked = identity
        if let rate = options.standIns.referenceRecheck {
            rechecked.referenceGflops = rate
        } else {
            rechecked.referenceGflops = probe.recalibrate(
                forUpTo: options.probeRecheckSeconds, until: { first.acceptsRate($0) })
        }
        rechecked.referenceSeconds = options.probeCalibrationSeconds + (MonotonicClock.now() - started)
        startReference = rechecked.referenceGflops
        let verdict =
            first.acceptsRate(rechecked.referenceGflops) ? "within the tolerance" : "still beyond the tolerance"
        warnings.append(
            String(
                format:
                    "the calibration read the reference sgemm rate at %.1f GFLOP/s, %+.0f%% from the first session's %.1f; read for %.1f s more: %.1f GFLOP/s, ",
                calibrated, 100 * first.rateChange(to: identity), first.referenceGflops,
                rechecked.referenceSeconds! - options.probeCalibrationSeconds, rechecked.referenceGflops) + verdict)
        return rechecked
    }

    /// Resume: reads the rows already present (dropping a torn last line), checks they belong to
    /// this run, writes the topology once and the manifest of the running session.
    func resume(_ identified: Identified) throws -> Opened {
        var run = identified
        let header = MeasurementsFile.header(for: configurations.map(\.shape))
        let layerColumns = header == MeasurementsFile.header
        let measurements = try AppendOnlyFile(path: directory.measurementsPath, header: header)
        let known = Set(run.shardConfigurations.map(\.id))
        var done = Set<String>()
        var roundsSoFar: [String: [MeasurementRow]] = [:]
        for row in try MeasurementsFile.read(path: directory.measurementsPath) {
            guard known.contains(row.configID) else {
                throw RunError.format(
                    "\(directory.measurementsPath) has configuration \(row.configID), not in this run's sweeps")
            }
            guard done.insert(row.configID).inserted else {
                throw RunError.format("\(directory.measurementsPath) has configuration \(row.configID) twice")
            }
        }
        let roundsFile = try AppendOnlyFile(path: directory.roundsPath, header: header)
        let probesFile = try AppendOnlyFile(path: directory.probesPath, header: ProbesFile.header)
        var roundKeys = Set<String>()
        for round in try MeasurementsFile.read(path: directory.roundsPath) {
            guard known.contains(round.configID) else {
                throw RunError.format(
                    "\(directory.roundsPath) has configuration \(round.configID), not in this run's sweeps")
            }
            roundKeys.insert("\(round.configID)#\(round.round ?? 0)")
            if !done.contains(round.configID) { roundsSoFar[round.configID, default: []].append(round) }
        }
        var torn = measurements.droppedTornLines + roundsFile.droppedTornLines + probesFile.droppedTornLines
        var samples: AppendOnlyFile?
        if options.keepSamples {
            torn += try SamplesFile.keepOnly(roundKeys, path: directory.samplesPath, directory: directory)
            samples = try AppendOnlyFile(path: directory.samplesPath, header: SamplesFile.header)
        }
        if torn > 0 { warnings.append("dropped \(torn) torn last line(s) left by an interrupted session") }
        run.thisSession.tornLinesDropped = torn
        if !FileManager.default.fileExists(atPath: directory.topologyPath) {
            do {
                try directory.writeAtomically(Data(try topology.exportXML().utf8), to: directory.topologyPath)
            } catch let error as TopologyError { throw RunError.machine(error.description) }
        }
        run.manifest.warnings = RunDriver.unique(run.manifest.warnings + warnings)
        try directory.writeAtomically(try run.manifest.encoded(), to: directory.manifestPath)
        let summary = RunSummary(
            directory: directory.path, total: run.shardConfigurations.count, alreadyPresent: done.count, written: 0,
            measured: 0, notMeasured: 0, tornLinesDropped: torn, warnings: warnings, manifest: run.manifest)
        return Opened(
            run: run, measurements: measurements, rounds: roundsFile, probes: probesFile, samples: samples,
            layerColumns: layerColumns, done: done, roundsSoFar: roundsSoFar, summary: summary)
    }

    /// Measure: every configuration without a row, in rounds. Each pass measures one round of
    /// every configuration that still needs one, in its own seeded order; the drift probe is read
    /// after a round (at most every 0.1 s), so that each round lies between two readings. A round next to a slow
    /// reading is disturbed and measured again in a later pass; a configuration is done when it
    /// has ``RunOptions/rounds`` clean rounds the two fastest of which agree within the round
    /// tolerance, or when it reaches the round limit. Every round is appended to rounds.csv as it ends, every
    /// row to measurements.csv as its configuration is done: a kill loses at most one round.
    func measure(_ opened: inout Opened) throws {
        let pending = opened.run.shardConfigurations.filter { !opened.done.contains($0.id) }
        let roofs = opened.run.roofs
        var work = WorkCredit(
            model: options.measuringTimeModel(
                rates: .init(
                    gflops: roofs.computeGflops, gigabytesPerSecond: roofs.bandwidthGBps,
                    source: "this session's roofs")))
        let rule = options.roundStopRule
        let steps = pending.map { $0.isMeasured ? options.rounds : 1 }.reduce(0, +)
        let expected = pending.map(work.model.seconds).reduce(0, +)
        slowPhaseWait.expectedMeasuringSeconds = expected
        let progress = ProgressReporter(total: steps, totalWork: expected, enabled: options.showProgress)
        for warning in warnings { progress.message("warning: " + warning) }
        var noisy: [String] = []
        var left = pending
        var before = probe.readings.last!
        if let scale = options.standIns.probeRateScaleWhileMeasuring {
            probe.rateScale = scale
            before = probe.read()
        }
        let measuringStart = MonotonicClock.now()
        // The evictor of rounds measured in this process (a worker process makes its own).
        lazy var evictor = opened.run.evictionBytes.map { CacheEvictor(bytes: $0) }
        var pass = 0
        while !left.isEmpty {
            pass += 1
            let order =
                options.order == .random ? ConfigurationOrder.shuffled(left, seed: options.seed &+ UInt64(pass)) : left
            // Each pass measures in a fresh worker process, when the run starts them.
            var worker: WorkerProcess?
            defer { if let worker { workerThreadsAtEnd = worker.finish() } }
            for configuration in order {
                progress.starting(configuration.id)
                let number = (opened.roundsSoFar[configuration.id]?.compactMap(\.round).max() ?? 0) + 1
                var (round, timings) = try measureRound(
                    configuration, worker: &worker, evictionBytes: opened.run.evictionBytes, rule: rule,
                    evictor: evictor)
                round.session = opened.run.sessionNumber
                guard round.status.isOK else {
                    try finish(configuration, with: round, in: &opened)
                    progress.finished(configuration.id, work: work.credit(configuration, finished: true))
                    continue
                }
                round.round = number
                let after = try judge(&round, since: before, in: opened, progress: progress)
                before = after
                try keep(round, timings, of: configuration, in: &opened)
                let row = RoundPolicy(options).row(from: opened.roundsSoFar[configuration.id] ?? [])
                progress.finished(configuration.id, work: work.credit(configuration, finished: row != nil))
                if let row {
                    try finish(configuration, with: row, in: &opened)
                    if let p25 = row.p25Ms, let p75 = row.p75Ms, let median = row.medianMs,
                        (p75 - p25) / median > RunDriver.spreadWarningThreshold
                    {
                        noisy.append(configuration.id)
                    }
                }
                // The round is written: wait out a slow phase before the next one, if the policy says so.
                if let seconds = slowPhaseWait.wait(
                    readsSlow: probe.ratio(after) < 1 - options.probeSlowdown,
                    measuringSeconds: MonotonicClock.now() - measuringStart - slowPhaseWait.summary.seconds)
                {
                    before = try waitForFastState(progress, atMost: seconds, in: opened)
                }
            }
            left = left.filter { !opened.done.contains($0.id) }
        }
        progress.close()
        if !noisy.isEmpty {
            warnings.append(
                "\(noisy.count) configuration(s) have an interquartile spread over \(Int(RunDriver.spreadWarningThreshold * 100))% of the median: "
                    + noisy.prefix(10).joined(separator: ", ") + (noisy.count > 10 ? ", …" : ""))
            progress.message("warning: " + warnings.last!)
        }
    }

    /// One round of `configuration`: in the pass's worker process when the run starts them
    /// (starting it at the pass's first measured configuration), else in this process.
    private func measureRound(
        _ configuration: SweepConfiguration, worker: inout WorkerProcess?, evictionBytes: Int?, rule: StopRule,
        evictor: @autoclosure () -> CacheEvictor?
    ) throws -> (MeasurementRow, Samples?) {
        guard let launch = options.workerLaunch, configuration.isMeasured else {
            return RunDriver.measure(configuration, options: options, rule: rule, evictor: evictor())
        }
        if worker == nil {
            worker = try WorkerProcess(
                launch, setup: .init(options: options, evictionBytes: evictionBytes, cpuset: cpuset))
            workerProcesses += 1
        }
        return try worker!.measure(configuration)
    }

    /// Judges a round by the drift probe: reads it (at most every ``probeInterval`` seconds; a
    /// round shorter than that shares the reading after the previous one), writes the reading,
    /// and marks the round disturbed when the slower of the readings around it (`before` and the
    /// one returned) is below the slowdown threshold.
    private func judge(
        _ round: inout MeasurementRow, since before: DriftProbe.Reading, in opened: Opened, progress: ProgressReporter
    ) throws -> DriftProbe.Reading {
        let after = probe.secondsSinceLastReading >= RunSession.probeInterval ? probe.read() : before
        if after != before {
            try record(after, in: opened)
            let now = probe.ratio(after)
            progress.note =
                now < 1 - options.probeSlowdown ? String(format: "machine reads slow: %.2f of its reference", now) : nil
        }
        let ratio = min(probe.ratio(before), probe.ratio(after))
        round.probeRatio = ratio
        round.window = ratio < 1 - options.probeSlowdown ? .disturbed : .clean
        if round.window == .disturbed { disturbedRounds += 1 }
        return after
    }

    /// Appends a judged round to rounds.csv (and its timed runs to samples.csv, when kept) and
    /// adds it to its configuration's rounds so far.
    private func keep(
        _ round: MeasurementRow, _ timings: Samples?, of configuration: SweepConfiguration, in opened: inout Opened
    ) throws {
        try opened.rounds.append(round.csvLine(layerColumns: opened.layerColumns))
        if let timings, let samples = opened.samples, let number = round.round {
            try samples.append(SamplesFile.lines(configuration.id, round: number, timings))
        }
        opened.roundsSoFar[configuration.id, default: []].append(round)
    }

    /// Reads the probe until it reads the machine fast or `seconds` pass (a reading every 0.2 s
    /// or at the wait's end, each written to probes.csv), showing the wait on the progress line;
    /// returns the last reading.
    private func waitForFastState(
        _ progress: ProgressReporter, atMost seconds: Double, in opened: Opened
    ) throws -> DriftProbe.Reading {
        let started = MonotonicClock.now()
        var last = probe.readings.last!
        var fast = false
        while !fast && MonotonicClock.now() - started < seconds {
            progress.note = String(
                format: "machine reads slow: %.2f of its reference; waiting for its fast state, %.0f s",
                probe.ratio(last), MonotonicClock.now() - started)
            progress.starting("waiting")
            let left = seconds - (MonotonicClock.now() - started)
            usleep(UInt32(min(0.2, max(0.01, left)) * 1e6))
            last = probe.read()
            try record(last, in: opened)
            fast = probe.ratio(last) >= 1 - options.probeSlowdown
        }
        progress.note = nil
        slowPhaseWait.waited(MonotonicClock.now() - started, endedFast: fast)
        return last
    }

    /// Appends the row of a configuration that is done, with its place under the session's roofs.
    private func finish(_ configuration: SweepConfiguration, with row: MeasurementRow, in opened: inout Opened) throws {
        var row = row
        let roofs = opened.run.roofs
        if row.status.isOK, let gflops = row.gflops {
            let intensity = Accounting(shape: row.shape).arithmeticIntensity
            row.arithmeticIntensity = intensity
            row.attainedShare = gflops / roofs.attainable(intensity: intensity)
            row.bound = roofs.bound(intensity: intensity)
        }
        try opened.measurements.append(row.csvLine(layerColumns: opened.layerColumns))
        opened.done.insert(configuration.id)
        opened.roundsSoFar[configuration.id] = nil
        opened.summary.written += 1
        if row.status.isOK { opened.summary.measured += 1 } else { opened.summary.notMeasured += 1 }
        if opened.summary.written == FailPoint.stopAfterRows { raise(SIGSTOP) }
    }

    /// Appends probe readings not yet written (the calibration's, then each new one).
    private func record(_ reading: DriftProbe.Reading, in opened: Opened) throws {
        var text = ""
        for reading in probe.readings[probesWritten...] {
            if probe.ratio(reading) < 1 - options.probeSlowdown { slowReadings += 1 }
            text += ProbesFile.line(session: opened.run.sessionNumber, reading, reference: probe.referenceGflops)
        }
        probesWritten = probe.readings.count
        try opened.probes.append(text)
    }

    /// Close: ends the session in the manifest, with the run's status.
    func close(_ opened: Opened) throws -> RunSummary {
        var run = opened.run
        if probesWritten < probe.readings.count, let last = probe.readings.last { try record(last, in: opened) }
        recordMachineReference()
        var probeSummary = ProbeSummary(
            probe: probe, startReference: startReference, slow: slowReadings, disturbedRounds: disturbedRounds)
        if let rate = options.standIns.referenceRate {
            probeSummary.endReferenceGflops = rate * options.standIns.probeRateScale
        }
        run.thisSession.probe = probeSummary
        run.thisSession.endedAt = Timestamp.now()
        let threads = ProcessBinding.currentThreads()
        run.thisSession.threadsAtEnd = threads
        run.thisSession.workerThreadsAtEnd = workerThreadsAtEnd
        for (whose, threads) in [("", threads), (" (its last worker process)", workerThreadsAtEnd ?? [])] {
            let unbound = threads.filter { $0.allowed != cpuset }
            if !unbound.isEmpty {
                warnings.append(
                    "session \(run.sessionNumber)\(whose): thread(s) not bound to cpuset \(CPUSet.format(cpuset)) at its end: "
                        + unbound.map { "\($0.tid) (\($0.name)) on \(CPUSet.format($0.allowed))" }.joined(
                            separator: ", "))
            }
        }
        if options.algorithms.contains(where: { $0.backend == .onednn }) {
            run.thisSession.oneDNN =
                "oneDNN \(OneDNN.version ?? "missing"), ISA \(OneDNN.isa ?? "none"), OpenMP team \(OneDNN.threadCount ?? 0)"
        }
        run.thisSession.rowsWritten = opened.summary.written
        if options.workerLaunch != nil {
            run.thisSession.workerProcesses = workerProcesses
        }
        if options.slowPhaseWait > 0 {
            run.thisSession.slowPhaseWaits = slowPhaseWait.summary
        }
        run.manifest.warnings = RunDriver.unique(run.manifest.warnings + warnings)
        run.manifest.status = opened.done.count == run.shardConfigurations.count ? .complete : .interrupted
        if run.manifest.status == .complete, FileManager.default.fileExists(atPath: directory.roundsPath) {
            run.manifest.repeatability = Repeatability(
                rounds: try MeasurementsFile.read(path: directory.roundsPath),
                separateProcesses: run.manifest.settings.roundsInWorkerProcesses)
        }
        try directory.writeAtomically(try run.manifest.encoded(), to: directory.manifestPath)
        var summary = opened.summary
        summary.warnings = warnings
        summary.manifest = run.manifest
        return summary
    }
}

extension RunManifest.Settings {
    /// The settings a session with `options` would record on `topology`, read before anything is
    /// bound: the cpuset it would choose (nil when `options.cpuset` names PUs it cannot use, which
    /// the session refuses) and the eviction it would make.
    public static func planned(options: RunOptions, topology: Topology) -> Self? {
        let cpuset: [Int]
        if let requested = options.cpuset {
            guard let parsed = try? topology.cpuset(parsing: CPUSet.format(requested)) else { return nil }
            cpuset = parsed
        } else {
            cpuset = topology.lastCore
        }
        return Self(
            options: options, cpuset: cpuset,
            evictionBytes: options.cache == .cold
                ? CacheEvictor.bytes(lastLevelCacheBytes: topology.lastLevelCacheBytes) : nil,
            openBLASThreads: options.threads)
    }

    /// The settings a session with `options` records, bound to `cpuset`.
    public init(options: RunOptions, cpuset: [Int], evictionBytes: Int?, openBLASThreads: Int) {
        self.init(
            cpuset: CPUSet.format(cpuset),
            cpusetChosenBy: options.cpuset == nil ? "default: first PU of the last core (hwloc)" : "--cpuset",
            threads: options.threads, stopRule: options.stopRule, stopRuleDescription: options.stopRule.summary,
            order: options.order, seed: options.seed, dataSeed: RunDriver.dataSeedBase(options.seed),
            verificationSeed: RunDriver.verificationSeedBase(options.seed),
            verificationSamples: options.verificationSamples, cache: options.cache, evictionBytes: evictionBytes,
            workspaceLimit: options.workspaceLimit, shard: options.shard, keepSamples: options.keepSamples,
            openBLASThreads: openBLASThreads, rounds: options.rounds, maxRounds: options.effectiveMaxRounds,
            roundTolerance: options.roundTolerance, probeSlowdown: options.probeSlowdown,
            roundStopRuleDescription: options.roundStopRule.summary,
            algorithms: options.algorithms == [.auto] ? nil : options.algorithms,
            roundProcesses: options.workerLaunch == nil ? nil : RunManifest.Settings.workerPerPass,
            slowPhaseWait: options.slowPhaseWait, slowPhaseBudget: options.slowPhaseBudget)
    }
}

/// The progress line's measure of work done: the measuring-time model at the session's roofs,
/// each configuration's estimate credited a round at a time, the rest when its row is written
/// (none past it).
struct WorkCredit {
    /// The measuring-time model.
    let model: MeasuringTimeModel
    /// Seconds credited so far to each configuration without a row.
    private var credited: [String: Double] = [:]

    init(model: MeasuringTimeModel) { self.model = model }

    /// The seconds of work to credit for a round of `configuration`; all that is left of its
    /// estimate when it is `finished`.
    mutating func credit(_ configuration: SweepConfiguration, finished: Bool) -> Double {
        let whole = model.seconds(configuration)
        let before = credited[configuration.id, default: 0]
        let now = finished ? whole : min(whole, before + whole / model.expectedRounds)
        credited[configuration.id] = finished ? nil : now
        return now - before
    }
}
