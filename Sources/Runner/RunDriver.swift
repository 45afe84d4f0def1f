import Basics
import ConvKernels
import Foundation
import Measurement
import Rows
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
/// appends its row, and resumes where a previous session stopped. Each call is one
/// ``RunSession``, taken in named steps.
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
        // A session binds the whole process: two at once in one process would move each other's
        // threads, so the second waits for the first.
        sessionLock.lock()
        defer { sessionLock.unlock() }
        let session = try RunSession(
            sweepFiles: sweepFiles,
            configurations: configurations, options: options,
            outputDirectory: outputDirectory, commandLine: commandLine, toolVersion: toolVersion)
        defer { session.release() }
        var opened = try session.resume(try session.identify())
        try session.measure(&opened)
        return try session.close(opened)
    }

    /// Held by the session of this process that is running (``run(sweepFiles:configurations:options:outputDirectory:commandLine:toolVersion:)``).
    private static let sessionLock = NSLock()

    /// The seed of a configuration's tensor values: `seed + 1` xor the stable hash of its id.
    public static func dataSeed(_ seed: UInt64, id: String) -> UInt64 { dataSeedBase(seed) ^ StableHash.of(id) }
    static func dataSeedBase(_ seed: UInt64) -> UInt64 { seed &+ 1 }
    static func verificationSeedBase(_ seed: UInt64) -> UInt64 { seed &+ 2 }

    /// Measures one round of a configuration under `rule`: memory check, preparation,
    /// verification of the first run's output, then warm-up and timed runs. Never throws: every
    /// failure becomes the row's status.
    static func measure(
        _ configuration: SweepConfiguration, options: RunOptions, rule: StopRule, evictor: CacheEvictor?
    ) -> (MeasurementRow, Samples?) {
        let shape = configuration.shape
        let algorithm = configuration.algorithm.resolved(for: shape)
        let threads = configuration.threads ?? options.threads
        func row(_ status: ConfigurationStatus) -> MeasurementRow {
            MeasurementRow(configuration: configuration, algorithm: algorithm, threads: threads, status: status)
        }
        guard configuration.isMeasured else { return (row(configuration.status), nil) }
        // A run of several counts pinned the most threads once; this one computes on the first p.
        if configuration.threads != nil, case let problems = ComputeThreads.recount(threads), !problems.isEmpty {
            return (row(.impossible("compute threads not bound: " + problems.joined(separator: "; "))), nil)
        }
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
        let check = Verification.checkSampled(
            conv, samples: options.verificationSamples,
            seed: verificationSeedBase(options.seed) ^ StableHash.of(configuration.id))
        if let failure = check.failure { return (row(.failedVerification(failure)), nil) }
        let sampler = Sampler(rule: rule, betweenRuns: evictor.map { e in { e.evict() } })
        // With rounds, the verified run above is the round's warm-up.
        let samples = sampler.measure(warmUp: options.rounds == 1, warmedUpBefore: options.rounds == 1 ? 0 : 1) {
            let phases = conv.run()
            return (phases.lowering, phases.gemm)
        }
        var result = row(.ok)
        result.record(samples)
        result.implementation = conv.dnnlChoice?.implementation
        result.layouts = conv.dnnlChoice?.layouts
        return (result, samples)
    }

    static func unique(_ items: [String]) -> [String] {
        var seen = Set<String>()
        return items.filter { seen.insert($0).inserted }
    }
}
