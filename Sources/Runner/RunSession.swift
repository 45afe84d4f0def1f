import Basics
import ConvKernels
import Foundation
import Measurement
import Sweeps

/// One invocation on a run directory (one entry of the manifest's `sessions`), in the steps
/// ``RunDriver/run(sweepFiles:configurations:options:outputDirectory:commandLine:toolVersion:)``
/// takes them: prepare (``init(sweepFiles:configurations:options:outputDirectory:commandLine:toolVersion:)``:
/// check, lock), ``identify()`` (bind, capture the machine, the manifest), ``resume()`` (rows
/// already present), ``measure()`` and ``close()``.
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

    /// The configurations of this directory (after sharding), in measuring order.
    private(set) var shardConfigurations: [SweepConfiguration] = []
    private(set) var manifest: RunManifest!
    private var evictor: CacheEvictor?
    private var warnings: [String] = []
    private var measurements: AppendOnlyFile!
    private var samples: AppendOnlyFile?
    private var done = Set<String>()
    private var summary: RunSummary!

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
        try directory.prepare()
        lock = try directory.lock()
        self.options = options
        self.configurations = configurations
        self.sweepFiles = sweepFiles
        self.commandLine = commandLine
        self.toolVersion = toolVersion
    }

    /// Releases the directory's lock.
    func release() { lock.release() }

    /// Identify: binds the process, measures the timer, captures the machine, and builds this
    /// session's manifest, refusing a directory that holds a different run.
    func identify() throws {
        OpenBLAS.setThreadCount(options.threads)
        let binding: ProcessBinding
        do { binding = try ProcessBinding.bind(topology, to: cpuset) } catch { throw RunError.machine("\(error)") }
        let timer = TimerCalibration.measure()
        let environment = EnvironmentSnapshot.capture(topology: topology, cpuset: cpuset)
        evictor = options.cache == .cold ? CacheEvictor(lastLevelCacheBytes: topology.lastLevelCacheBytes) : nil
        warnings = environment.warnings(busyThreshold: Double(environment.processingUnits))
        shardConfigurations = ConfigurationOrder.arrange(
            configurations, order: options.order, seed: options.seed, shard: options.shard)
        let commit = BuildInfo.gitCommit()
        let session = RunManifest.Session(
            commandLine: commandLine, startedAt: Timestamp.now(), endedAt: nil, loadAverage: environment.loadAverage,
            hostName: environment.hostName, rowsWritten: 0, tornLinesDropped: 0, gitCommit: commit)
        let settings = RunManifest.Settings(
            cpuset: CPUSet.format(cpuset),
            cpusetChosenBy: options.cpuset == nil ? "default: first PU of the last core (hwloc)" : "--cpuset",
            threads: options.threads, stopRule: options.stopRule, stopRuleDescription: options.stopRule.summary,
            order: options.order, seed: options.seed, dataSeed: RunDriver.dataSeedBase(options.seed),
            verificationSeed: RunDriver.verificationSeedBase(options.seed),
            verificationSamples: options.verificationSamples, cache: options.cache, evictionBytes: evictor?.bytes,
            workspaceLimit: options.workspaceLimit, shard: options.shard, keepSamples: options.keepSamples,
            openBLASThreads: OpenBLAS.threadCount)
        manifest = RunManifest(
            status: "running", tool: .init(version: toolVersion, gitCommit: commit), sweeps: sweepFiles,
            configurationCount: configurations.count, shardConfigurationCount: shardConfigurations.count,
            settings: settings, machine: environment, binding: binding, timer: timer, sessions: [session],
            warnings: [], mergedFrom: nil)
        if let previous {
            if let reason = previous.incompatibility(with: manifest) {
                throw RunError.directory(
                    "\(directory.path) holds a different run (\(reason)); refusing to add to it — choose another output directory"
                )
            }
            // Keep the first session's facts; add this session.
            var resumed = previous
            resumed.status = "running"
            resumed.sessions.append(session)
            resumed.binding = binding
            manifest = resumed
        }
    }

    /// Resume: reads the rows already present (dropping a torn last line), checks they belong to
    /// this run, writes the topology once and the manifest of the running session.
    func resume() throws {
        measurements = try AppendOnlyFile(path: directory.measurementsPath, header: MeasurementsFile.header)
        let known = Set(shardConfigurations.map(\.id))
        for row in try MeasurementsFile.read(path: directory.measurementsPath) {
            guard known.contains(row.configID) else {
                throw RunError.format(
                    "\(directory.measurementsPath) has configuration \(row.configID), not in this run's sweeps")
            }
            guard done.insert(row.configID).inserted else {
                throw RunError.format("\(directory.measurementsPath) has configuration \(row.configID) twice")
            }
        }
        var torn = measurements.droppedTornLines
        if options.keepSamples {
            torn += try SamplesFile.keepOnly(done, path: directory.samplesPath, directory: directory)
            samples = try AppendOnlyFile(path: directory.samplesPath, header: SamplesFile.header)
        }
        if torn > 0 { warnings.append("dropped \(torn) torn last line(s) left by an interrupted session") }
        manifest.sessions[manifest.sessions.count - 1].tornLinesDropped = torn
        if !FileManager.default.fileExists(atPath: directory.topologyPath) {
            do {
                try directory.writeAtomically(Data(try topology.exportXML().utf8), to: directory.topologyPath)
            } catch let error as TopologyError { throw RunError.machine(error.description) }
        }
        manifest.warnings = RunDriver.unique(manifest.warnings + warnings)
        try directory.writeAtomically(try manifest.encoded(), to: directory.manifestPath)
        summary = RunSummary(
            directory: directory.path, total: shardConfigurations.count, alreadyPresent: done.count, written: 0,
            measured: 0, notMeasured: 0, tornLinesDropped: torn, warnings: warnings, manifest: manifest)
    }

    /// Measure: every configuration without a row, one after the other, each row appended as
    /// soon as it is measured.
    func measure() throws {
        let pending = shardConfigurations.filter { !done.contains($0.id) }
        let timeModel = options.measuringTimeModel
        func work(_ configuration: SweepConfiguration) -> Double {
            configuration.isMeasured ? timeModel.seconds(configuration) : 0
        }
        let progress = ProgressReporter(
            total: pending.count, totalWork: pending.map(work).reduce(0, +), enabled: options.showProgress)
        for warning in warnings { progress.message("warning: " + warning) }
        var noisy: [String] = []
        for configuration in pending {
            progress.starting(configuration.id)
            let (row, timings) = RunDriver.measure(configuration, options: options, evictor: evictor)
            if let timings, let samples {
                try samples.append(SamplesFile.lines(configuration.id, timings))
            }
            try measurements.append(row.csvLine)
            summary.written += 1
            if row.status.isOK { summary.measured += 1 } else { summary.notMeasured += 1 }
            if let p25 = row.p25Ms, let p75 = row.p75Ms, let median = row.medianMs,
                (p75 - p25) / median > RunDriver.spreadWarningThreshold
            {
                noisy.append(configuration.id)
            }
            progress.finished(configuration.id, work: work(configuration))
        }
        progress.close()
        if !noisy.isEmpty {
            warnings.append(
                "\(noisy.count) configuration(s) have an interquartile spread over \(Int(RunDriver.spreadWarningThreshold * 100))% of the median: "
                    + noisy.prefix(10).joined(separator: ", ") + (noisy.count > 10 ? ", …" : ""))
            progress.message("warning: " + warnings.last!)
        }
    }

    /// Close: ends the session in the manifest, with the run's status.
    func close() throws -> RunSummary {
        manifest.sessions[manifest.sessions.count - 1].endedAt = Timestamp.now()
        manifest.sessions[manifest.sessions.count - 1].rowsWritten = summary.written
        manifest.warnings = RunDriver.unique(manifest.warnings + warnings)
        manifest.status = done.count + summary.written == shardConfigurations.count ? "complete" : "interrupted"
        try directory.writeAtomically(try manifest.encoded(), to: directory.manifestPath)
        summary.warnings = warnings
        summary.manifest = manifest
        return summary
    }
}
