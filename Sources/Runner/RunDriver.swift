import Basics
import ConvKernels
import Crypto
import Foundation
import Measurement
import Sweeps

/// What a call of ``RunDriver/run(sweepPaths:configurations:options:outputDirectory:commandLine:toolVersion:)`` did.
public struct RunSummary: Sendable {
    /// The run directory.
    public var directory: String
    /// Configurations of this directory (after sharding).
    public var total: Int
    /// Rows already present when the session started (resumed).
    public var alreadyPresent: Int
    /// Rows this session wrote.
    public var written: Int
    /// Of those, measured with status `ok`.
    public var measured: Int
    /// Of those, not measured (dropped by a limit, out of memory, impossible) or failed verification.
    public var notMeasured: Int
    /// Rows of a torn last line dropped before resuming.
    public var tornLinesDropped: Int
    /// Warnings raised by this session.
    public var warnings: [String]
    /// The manifest as written at the end.
    public var manifest: RunManifest
}

/// Runs sweeps into a run directory: binds the process, measures every configuration once,
/// appends its row, and resumes where a previous session stopped.
///
/// `Runner` is an alias for callers that prefer the shorter name.
public enum RunDriver {
    /// A relative interquartile spread above this marks a configuration as noisy.
    public static let spreadWarningThreshold = 0.10

    /// Creates or resumes the run directory `outputDirectory` and measures what it lacks.
    ///
    /// - Parameters:
    ///   - sweepPaths: the sweep files the configurations come from (hashed into the manifest).
    ///   - configurations: every configuration of those sweeps, dropped ones included (they get a
    ///     row with their reason); ids must be unique.
    ///   - commandLine: recorded in the manifest.
    /// - Throws: ``RunError`` for bad options, a directory of another run or in use, a binding that
    ///   fails or does not hold; nothing is overwritten in those cases.
    public static func run(
        sweepPaths: [String], configurations: [SweepConfiguration], options: RunOptions,
        outputDirectory: String, commandLine: [String] = CommandLine.arguments,
        toolVersion: String = BuildInfo.version
    ) throws -> RunSummary {
        let sweepFiles = try sweepPaths.map { path -> RunManifest.SweepFile in
            guard let data = FileManager.default.contents(atPath: path) else {
                throw RunError.badSetting(.sweeps, "cannot read the sweep file \(path)")
            }
            return RunManifest.SweepFile(path: path, sha256: SHA256Hex.of(data))
        }
        return try run(
            sweepFiles: sweepFiles, configurations: configurations, options: options,
            outputDirectory: outputDirectory, commandLine: commandLine, toolVersion: toolVersion)
    }

    /// Runs loaded sweeps: their configurations in file order, each file hashed from the bytes
    /// it was loaded from (``Sweep/contents``), so the hash is of exactly what was expanded.
    public static func run(
        sweeps: [Sweep], options: RunOptions, outputDirectory: String,
        commandLine: [String] = CommandLine.arguments, toolVersion: String = BuildInfo.version
    ) throws -> RunSummary {
        try run(
            sweepFiles: sweeps.map { RunManifest.SweepFile(path: $0.path, sha256: SHA256Hex.of($0.contents)) },
            configurations: sweeps.flatMap(\.configurations), options: options, outputDirectory: outputDirectory,
            commandLine: commandLine, toolVersion: toolVersion)
    }

    /// Like ``run(sweepPaths:configurations:options:outputDirectory:commandLine:toolVersion:)``,
    /// with the sweep files already hashed.
    public static func run(
        sweepFiles: [RunManifest.SweepFile], configurations: [SweepConfiguration], options: RunOptions,
        outputDirectory: String, commandLine: [String] = CommandLine.arguments,
        toolVersion: String = BuildInfo.version
    ) throws -> RunSummary {
        // 1. Check everything that can be checked before touching the directory.
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
        let topology: Topology
        do { topology = try Topology() } catch { throw RunError.machine("\(error)") }
        let cpuset: [Int]
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
                "(\(options.threads)) is more than the \(cpuset.count) PU(s) of cpuset \(CPUSet.format(cpuset))"
            )
        }

        // 2. The directory: refuse another run's, lock it.
        let directory = RunDirectory(path: outputDirectory)
        if options.resume && !directory.holdsRun {
            throw RunError.badSetting(.resume, "asked, but \(outputDirectory) holds no run (no manifest.json)")
        }
        let previous = directory.holdsRun ? try RunManifest.read(path: directory.manifestPath) : nil
        try directory.prepare()
        let lock = try directory.lock()
        defer { lock.release() }

        // 3. Bind, then measure the timer and capture the machine.
        OpenBLAS.setThreadCount(options.threads)
        let binding: ProcessBinding
        do { binding = try ProcessBinding.bind(topology, to: cpuset) } catch { throw RunError.machine("\(error)") }
        let timer = TimerCalibration.measure()
        let environment = EnvironmentSnapshot.capture(topology: topology, cpuset: cpuset)
        let evictor = options.cache == .cold ? CacheEvictor(lastLevelCacheBytes: topology.lastLevelCacheBytes) : nil
        var warnings = environment.warnings(busyThreshold: Double(environment.processingUnits))

        let shardConfigurations = ConfigurationOrder.arrange(
            configurations, order: options.order, seed: options.seed, shard: options.shard)
        let now = Timestamp.now()
        let commit = BuildInfo.gitCommit()
        let session = RunManifest.Session(
            commandLine: commandLine, startedAt: now, endedAt: nil, loadAverage: environment.loadAverage,
            hostName: environment.hostName, rowsWritten: 0, tornLinesDropped: 0, gitCommit: commit)
        let settings = RunManifest.Settings(
            cpuset: CPUSet.format(cpuset),
            cpusetChosenBy: options.cpuset == nil ? "default: first PU of the last core (hwloc)" : "--cpuset",
            threads: options.threads, stopRule: options.stopRule, stopRuleDescription: options.stopRule.summary,
            order: options.order, seed: options.seed, dataSeed: dataSeedBase(options.seed),
            verificationSeed: verificationSeedBase(options.seed), verificationSamples: options.verificationSamples,
            cache: options.cache, evictionBytes: evictor?.bytes, workspaceLimit: options.workspaceLimit,
            shard: options.shard, keepSamples: options.keepSamples, openBLASThreads: OpenBLAS.threadCount)
        var manifest = RunManifest(
            status: "running", tool: .init(version: toolVersion, gitCommit: commit), sweeps: sweepFiles,
            configurationCount: configurations.count, shardConfigurationCount: shardConfigurations.count,
            settings: settings, machine: environment, binding: binding, timer: timer, sessions: [session],
            warnings: [], mergedFrom: nil)
        if let previous {
            if let reason = previous.incompatibility(with: manifest) {
                throw RunError.directory(
                    "\(outputDirectory) holds a different run (\(reason)); refusing to add to it — choose another output directory"
                )
            }
            // Keep the first session's facts; add this session.
            var resumed = previous
            resumed.status = "running"
            resumed.sessions.append(session)
            resumed.binding = binding
            manifest = resumed
        }

        // 4. Existing rows (resume), torn last lines dropped.
        let measurements = try AppendOnlyFile(path: directory.measurementsPath, header: MeasurementsFile.header)
        let existingRows = try MeasurementsFile.read(path: directory.measurementsPath)
        let known = Set(shardConfigurations.map(\.id))
        var done = Set<String>()
        for row in existingRows {
            guard known.contains(row.configID) else {
                throw RunError.format(
                    "\(directory.measurementsPath) has configuration \(row.configID), not in this run's sweeps")
            }
            guard done.insert(row.configID).inserted else {
                throw RunError.format("\(directory.measurementsPath) has configuration \(row.configID) twice")
            }
        }
        var torn = measurements.droppedTornLines
        let samples: AppendOnlyFile?
        if options.keepSamples {
            torn += try SamplesFile.keepOnly(done, path: directory.samplesPath, directory: directory)
            samples = try AppendOnlyFile(path: directory.samplesPath, header: SamplesFile.header)
        } else {
            samples = nil
        }
        if torn > 0 { warnings.append("dropped \(torn) torn last line(s) left by an interrupted session") }
        manifest.sessions[manifest.sessions.count - 1].tornLinesDropped = torn
        if !FileManager.default.fileExists(atPath: directory.topologyPath) {
            do {
                try directory.writeAtomically(Data(try topology.exportXML().utf8), to: directory.topologyPath)
            } catch let error as TopologyError { throw RunError.machine(error.description) }
        }
        manifest.warnings = unique(manifest.warnings + warnings)
        try directory.writeAtomically(try manifest.encoded(), to: directory.manifestPath)

        // 5. Measure what is missing.
        let pending = shardConfigurations.filter { !done.contains($0.id) }
        let timeModel = options.measuringTimeModel
        func work(_ configuration: SweepConfiguration) -> Double {
            configuration.isMeasured ? timeModel.seconds(configuration) : 0
        }
        let progress = ProgressReporter(
            total: pending.count, totalWork: pending.map(work).reduce(0, +), enabled: options.showProgress)
        for warning in warnings { progress.message("warning: " + warning) }
        var summary = RunSummary(
            directory: outputDirectory, total: shardConfigurations.count, alreadyPresent: done.count, written: 0,
            measured: 0, notMeasured: 0, tornLinesDropped: torn, warnings: warnings, manifest: manifest)
        var noisy: [String] = []
        for configuration in pending {
            progress.starting(configuration.id)
            let (row, timings) = measure(configuration, options: options, evictor: evictor)
            if let timings, let samples {
                try samples.append(SamplesFile.lines(configuration.id, timings))
            }
            try measurements.append(row.csvLine)
            summary.written += 1
            if row.status.isOK { summary.measured += 1 } else { summary.notMeasured += 1 }
            if let p25 = row.p25Ms, let p75 = row.p75Ms, let median = row.medianMs,
                (p75 - p25) / median > spreadWarningThreshold
            {
                noisy.append(configuration.id)
            }
            progress.finished(configuration.id, work: work(configuration))
        }
        progress.close()
        if !noisy.isEmpty {
            warnings.append(
                "\(noisy.count) configuration(s) have an interquartile spread over \(Int(spreadWarningThreshold * 100))% of the median: "
                    + noisy.prefix(10).joined(separator: ", ") + (noisy.count > 10 ? ", …" : ""))
            progress.message("warning: " + warnings.last!)
        }

        // 6. Close the session in the manifest.
        manifest.sessions[manifest.sessions.count - 1].endedAt = Timestamp.now()
        manifest.sessions[manifest.sessions.count - 1].rowsWritten = summary.written
        manifest.warnings = unique(manifest.warnings + warnings)
        manifest.status = done.count + summary.written == shardConfigurations.count ? "complete" : "interrupted"
        try directory.writeAtomically(try manifest.encoded(), to: directory.manifestPath)
        summary.warnings = warnings
        summary.manifest = manifest
        return summary
    }

    /// The seed of a configuration's tensor values: `seed + 1` xor the stable hash of its id.
    public static func dataSeed(_ seed: UInt64, id: String) -> UInt64 { dataSeedBase(seed) ^ StableHash.of(id) }
    static func dataSeedBase(_ seed: UInt64) -> UInt64 { seed &+ 1 }
    static func verificationSeedBase(_ seed: UInt64) -> UInt64 { seed &+ 2 }

    /// Measures one configuration: memory check, preparation, verification on the first run,
    /// then warm-up and timed runs. Never throws: every failure becomes the row's status.
    static func measure(
        _ configuration: SweepConfiguration, options: RunOptions, evictor: CacheEvictor?
    ) -> (MeasurementRow, Samples?) {
        let shape = configuration.shape
        let algorithm = ConvAlgorithm.auto.resolved(for: shape)
        func row(_ status: ConfigurationStatus) -> MeasurementRow {
            MeasurementRow(configuration: configuration, algorithm: algorithm, threads: options.threads, status: status)
        }
        guard configuration.isMeasured else { return (row(configuration.status), nil) }
        do { try shape.validate() } catch { return (row(.impossible("\(error)")), nil) }
        let plan = Conv2D.plan(shape: shape, algorithm: algorithm, workspaceLimit: options.workspaceLimit)
        let needed = Accounting(shape: shape, workspaceBytes: plan.workspaceElements * 4).totalBytes
        if let available = SystemMemory.availableBytes, needed > available * 9 / 10 {
            return (row(.outOfMemory("needs \(needed >> 20) MiB, \(available >> 20) MiB available")), nil)
        }
        let conv: Conv2D
        do { conv = try Conv2D(shape: shape, algorithm: algorithm, workspaceLimit: options.workspaceLimit) } catch {
            return (row(.impossible("\(error)")), nil)
        }
        conv.fillRandom(seed: dataSeed(options.seed, id: configuration.id))
        conv.run()
        let check = Verification.check(
            conv, samples: options.verificationSamples,
            seed: verificationSeedBase(options.seed) ^ StableHash.of(configuration.id))
        if let failure = check.failure { return (row(.failedVerification(failure)), nil) }
        let sampler = Sampler(rule: options.stopRule, betweenRuns: evictor.map { e in { e.evict() } })
        let samples = sampler.measure {
            let phases = conv.run()
            return (phases.lowering, phases.gemm)
        }
        var result = row(.ok)
        result.record(samples)
        return (result, samples)
    }

    static func unique(_ items: [String]) -> [String] {
        var seen = Set<String>()
        return items.filter { seen.insert($0).inserted }
    }
}

/// The runner, by its shorter name.
public typealias Runner = RunDriver

/// samples.csv: one line per timed run.
public enum SamplesFile {
    public static let columns = ["config_id", "run", "time_ms", "lowering_ms", "gemm_ms"]
    public static var header: String { CSVText.line(columns) }

    static func lines(_ id: String, _ samples: Samples) -> String {
        var text = ""
        for i in samples.times.indices {
            text += CSVText.line([
                id, "\(i + 1)", String(format: "%.6g", samples.times[i] * 1e3),
                String(format: "%.6g", samples.lowering[i] * 1e3), String(format: "%.6g", samples.gemm[i] * 1e3),
            ])
        }
        return text
    }

    /// Drops the samples of configurations without a row (measured when a session was killed),
    /// and a torn last line; returns 1 if anything was dropped.
    static func keepOnly(_ ids: Set<String>, path: String, directory: RunDirectory) throws -> Int {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return 0 }
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var dropped = 0
        if lines.last == "" {
            lines.removeLast()
        } else {
            dropped = 1
            lines.removeLast()
        }
        guard let header = lines.first else { return dropped }
        let kept =
            [header]
            + lines.dropFirst().filter { line in
                let id = line.split(separator: ",", maxSplits: 1).first.map(String.init) ?? ""
                return ids.contains(id)
            }
        if kept.count != lines.count || dropped > 0 {
            try directory.writeAtomically(Data((kept.joined(separator: "\n") + "\n").utf8), to: path)
            return 1
        }
        return 0
    }
}
