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
    /// The PUs of ``cpuset`` in the order the compute threads take them (``RunOptions/threadOrder(of:on:)``).
    let threadOrder: [Int]
    private let previous: RunManifest?
    private let lock: RunLock
    private let processingUnits: ProcessingUnitLease

    private var warnings: [String] = []
    /// The measuring stage: its rounds, worker processes and waits.
    private let rounds: SessionRounds

    /// What ``RunSession/identify()`` established: the machine bound and captured, its probe
    /// calibrated, and the run's manifest with this session as its last entry.
    struct Identified {
        /// The run's manifest: the first session's facts, this session last.
        var manifest: RunManifest
        /// This session's roofs, measured once the process was bound.
        let roofs: Roofs
        /// Bytes of a cold-cache eviction (nil with warm caches).
        let evictionBytes: Int?
        /// The configurations of this directory (after sharding), in measuring order.
        let shardConfigurations: [SweepConfiguration]
        /// The drift probe, calibrated, and what it has written.
        let journal: ProbeJournal
        /// This kind of machine's reference in the cache.
        let reference: SessionReference
        /// 1-based index of this session in the manifest.
        var sessionNumber: Int { manifest.sessions.count }
        /// This session's entry in the manifest (its last).
        var thisSession: RunManifest.Session {
            get { manifest.sessions[manifest.sessions.count - 1] }
            set { manifest.sessions[manifest.sessions.count - 1] = newValue }
        }
    }

    /// What ``RunSession/resume(_:)`` opened: the run's files, and the rows and rounds so far.
    struct Opened {
        /// What identifying established.
        var run: Identified
        /// The files, open for appending.
        let files: RunFiles
        /// The configurations with a row.
        var done: Set<String>
        /// Rounds already measured of the configurations without a row.
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
        try RunSettings.validate(options)
        var seen = Set<String>()
        for c in configurations where !seen.insert(c.id).inserted {
            throw RunError.badSetting(.sweeps, "name configuration id \(c.id) more than once")
        }
        do { topology = try Topology() } catch { throw RunError.machine("\(error)") }
        let options = try options.resolvingAllThreads(on: topology)
        cpuset = try options.chosenCPUSet(on: topology)
        threadOrder = options.threadOrder(of: cpuset, on: topology)
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
        // Each configuration with each algorithm at each thread count, a configuration of its own.
        self.configurations = options.expanded(configurations)
        self.sweepFiles = sweepFiles
        self.commandLine = commandLine
        self.toolVersion = toolVersion
        rounds = SessionRounds(options: options, cpuset: cpuset, threadOrder: threadOrder)
    }

    /// Releases the directory's lock and the PUs' locks.
    func release() {
        processingUnits.release()
        lock.release()
    }

    /// Identify: binds the process, measures the timer, calibrates the probe, captures the
    /// machine, and builds this session's manifest, refusing a directory that holds a different run.
    func identify() throws -> Identified {
        ComputeThreads.setCount(options.threads)
        let binding: ProcessBinding
        do { binding = try ProcessBinding.bind(topology, to: cpuset, under: processingUnits) } catch {
            throw RunError.machine("\(error)")
        }
        // Rounds measured here: each compute thread on its own PU (a worker process pins its own).
        if options.workerLaunch == nil {
            warnings += ComputeThreads.pin(options.computeThreadUnits(in: threadOrder))
        }
        let timer = TimerCalibration.measure()
        let environment = EnvironmentSnapshot.capture(topology: topology, cpuset: cpuset)
        let journal = ProbeJournal(options: options)
        let roofs =
            options.standIns.quickRoofs ? Roofs.measure(sgemmSize: 256, streamElements: 1 << 20) : Roofs.measure()
        var identity = MachineIdentity.capture(cpuModel: environment.cpuModel, referenceGflops: journal.startReference)
        if let boot = options.standIns.bootID { identity.bootID = boot }
        let reference = SessionReference(options: options, identity: identity)
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
        session.machineReference = reference.judge(journal, warn: { warnings.append($0) })
        // What the measuring process sees: a worker on several threads gets the quiet environment from us.
        let measuring =
            options.threads > 1
            ? ComputeThreads.quietEnvironment(ProcessInfo.processInfo.environment)
            : ProcessInfo.processInfo.environment
        session.kernelSelection = Dictionary(
            uniqueKeysWithValues: EnvironmentSnapshot.kernelSelection(in: measuring).map { ($0.name, $0.value) })
        let settings = RunManifest.Settings(
            options: options, cpuset: cpuset, evictionBytes: evictionBytes, openBLASThreads: OpenBLAS.threadCount)
        var manifest = RunManifest(
            status: .running, tool: .init(version: toolVersion, gitCommit: commit), sweeps: sweepFiles,
            configurationCount: configurations.count, shardConfigurationCount: shardConfigurations.count,
            settings: settings, machine: environment, binding: binding, timer: timer, sessions: [session],
            warnings: [], mergedFrom: nil)
        if let previous { manifest = try joining(previous, manifest, journal: journal, reference: reference) }
        return Identified(
            manifest: manifest, roofs: roofs, evictionBytes: evictionBytes, shardConfigurations: shardConfigurations,
            journal: journal, reference: reference)
    }

    /// The manifest of `previous` with this session (the last of `manifest`) added: refused when
    /// the run is a different one, or when the machine is not the one it started on unless the
    /// user accepts the change.
    private func joining(
        _ previous: RunManifest, _ manifest: RunManifest, journal: ProbeJournal, reference: SessionReference
    ) throws -> RunManifest {
        if let reason = previous.incompatibility(with: manifest) {
            throw RunError.directory(
                "\(directory.path) holds a different run (\(reason)); refusing to add to it — choose another output directory"
            )
        }
        var session = manifest.sessions[manifest.sessions.count - 1]
        if let first = previous.referenceIdentity, var identity = session.identity {
            if !first.acceptsRate(identity.referenceGflops) {
                identity = reference.recheck(identity, against: first, journal: journal, warn: { warnings.append($0) })
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
        resumed.binding = manifest.binding
        return resumed
    }

    /// Resume: reads the rows already present (dropping a torn last line), checks they belong to
    /// this run, writes the topology once and the manifest of the running session.
    func resume(_ identified: Identified) throws -> Opened {
        var run = identified
        let files = try RunFiles(
            directory: directory, configurations: configurations, known: Set(run.shardConfigurations.map(\.id)),
            keepSamples: options.keepSamples)
        let torn = files.tornLinesDropped
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
            directory: directory.path, total: run.shardConfigurations.count, alreadyPresent: files.done.count,
            written: 0, measured: 0, notMeasured: 0, tornLinesDropped: torn, warnings: warnings, manifest: run.manifest)
        return Opened(run: run, files: files, done: files.done, roundsSoFar: files.roundsSoFar, summary: summary)
    }

    /// Measure: every configuration without a row, in rounds (``SessionRounds``).
    func measure(_ opened: inout Opened) throws {
        try rounds.measure(&opened, warnings: &warnings)
    }

    /// Close: ends the session in the manifest, with the run's status.
    func close(_ opened: Opened) throws -> RunSummary {
        var run = opened.run
        try run.journal.write(to: opened.files.probes, session: run.sessionNumber)
        run.reference.record(run.journal, warn: { warnings.append($0) })
        run.thisSession.probe = run.journal.summary(standIns: options.standIns)
        run.thisSession.endedAt = Timestamp.now()
        let threads = ProcessBinding.currentThreads()
        run.thisSession.threadsAtEnd = threads
        run.thisSession.workerThreadsAtEnd = rounds.workerThreadsAtEnd
        for (whose, threads) in [("", threads), (" (its last worker process)", rounds.workerThreadsAtEnd ?? [])] {
            let unbound = threads.filter { !ProcessBinding.inside($0, cpuset) }
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
        let units = options.computeThreadUnits(in: threadOrder)
        if !units.isEmpty {
            let measuring = options.workerLaunch == nil ? threads : rounds.workerThreadsAtEnd ?? []
            run.thisSession.computeThreadUnits = units
            run.thisSession.computeThreads = ComputeThreadCheck.computing(measuring)
            warnings += ComputeThreadCheck.problems(measuring, pinnedTo: units).map {
                "session \(run.sessionNumber): \($0)"
            }
        }
        run.thisSession.rowsWritten = opened.summary.written
        if options.workerLaunch != nil { run.thisSession.workerProcesses = rounds.workerProcesses }
        if options.slowPhaseWait > 0 { run.thisSession.slowPhaseWaits = rounds.slowPhaseWait.summary }
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
