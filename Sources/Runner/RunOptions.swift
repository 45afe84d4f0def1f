import Basics
import ConvKernels
import Measurement
import Sweeps

/// How to run a sweep: binding, threads, stop rule, order, cache state, sharding, resumption.
///
/// The defaults are those of `convsweep run`.
public struct RunOptions: Codable, Hashable, Sendable {
    /// How configurations are ordered.
    public enum Order: String, Codable, CaseIterable, Sendable {
        /// A seeded random permutation, so that a drift of the machine does not look like a trend.
        case random
        /// The order of the sweep files.
        case given
    }

    /// The cache state each timed run starts from.
    public enum CacheState: String, Codable, CaseIterable, Sendable {
        /// Whatever the previous run left (no eviction).
        case warm
        /// The last-level cache evicted between runs, outside the timed region.
        case cold
    }

    /// The PUs to bind to (operating-system indexes); `nil` picks the last core of the machine.
    public var cpuset: [Int]?
    /// The thread counts every configuration is measured at (``ThreadCounts``): OpenBLAS's
    /// threads and oneDNN's OpenMP team; one by default.
    public var threadCounts = ThreadCounts(1)
    /// The largest thread count: the PUs a run binds and the compute threads it pins. Setting it
    /// measures at that one count.
    public var threads: Int {
        get { threadCounts.most }
        set { threadCounts = ThreadCounts(newValue) }
    }
    /// Where the threads go when no cpuset is named (``ThreadPlacement``).
    public var placement: ThreadPlacement.Policy = .close
    /// What a thread may be placed on when no cpuset is named.
    public var places: ThreadPlacement.Places = .cores
    /// Relative half-width of the median's 95% CI to reach.
    public var target: Double = 0.01
    /// Fewest timed runs (adaptive rule).
    public var minRuns: Int = 5
    /// Most timed runs (adaptive rule).
    public var maxRuns: Int = 2000
    /// Most seconds of timed runs per configuration (adaptive rule).
    public var maxSeconds: Double = 2
    /// A fixed number of timed runs instead of the adaptive rule.
    public var fixedRuns: Int?
    /// Configuration order.
    public var order: Order = .random
    /// Seed of the random order and of the tensors' values.
    public var seed: UInt64 = 20_210_301
    /// Cache state.
    public var cache: CacheState = .warm
    /// Keep every timed run in samples.csv.
    public var keepSamples: Bool = false
    /// Run only shard `index` (1-based) of `count`, by a stable hash of the configuration id.
    public var shard: Shard?
    /// The largest im2col buffer in bytes.
    public var workspaceLimit: Int = Conv2D.defaultWorkspaceLimit
    /// The algorithms every configuration is measured with: `auto` (im2col + OpenBLAS) alone by
    /// default; several, a configuration each (``SweepConfiguration/measured(with:)``).
    public var algorithms: [ConvAlgorithm] = [.auto]
    /// Require an existing run directory to resume (rerunning into one resumes anyway).
    public var resume: Bool = false
    /// Output elements checked against a direct computation on each configuration's first run.
    public var verificationSamples: Int = 64
    /// Write progress lines to standard error.
    public var showProgress: Bool = true
    /// Rounds per configuration: each round is a pass over the configurations in its own seeded
    /// order, with 1/`rounds` of the stop rule's budget; 1 is a single window per configuration.
    public var rounds: Int = 3
    /// The most rounds of one configuration, its disturbed and disagreeing rounds included
    /// (nil: `2 × rounds`, or 1 with a single round).
    public var maxRounds: Int?
    /// A configuration with no clean round (other than its fastest) within this share of its
    /// fastest round gets another round (the fastest needs a clean second witness).
    public var roundTolerance: Double = 0.02
    /// A round is disturbed when the drift probe next to it reads this share or more below the
    /// session's reference rate.
    public var probeSlowdown: Double = 0.10
    /// Seconds of probe readings that set the session's reference rate before measuring.
    public var probeCalibrationSeconds: Double = 0.5
    /// After a round the probe read slow, the most seconds to wait for the machine's fast state
    /// before measuring on (``SlowPhaseWait``); 0 never waits.
    public var slowPhaseWait: Double = 15
    /// The most a session waits out slow phases, as a share of its measuring time (1: waiting at
    /// most doubles a session).
    public var slowPhaseBudget: Double = 1
    /// When a resume's calibration reads a reference rate more than 10% from the run's first
    /// session, the probe reads on for up to this many seconds before the rate counts as
    /// different (0: never).
    public var probeRecheckSeconds: Double = 10
    /// Add to a run measured on another machine, boot or speed (recorded in the manifest).
    public var acceptMachineChange: Bool = false
    /// Wait at most this many seconds for PUs another process holds (``ProcessingUnitLocks``);
    /// nil refuses a held PU at once.
    public var processingUnitWait: Double?
    /// The directory of the machine reference cache (``MachineReferenceCache``); nil for the
    /// user's (`$CONVSWEEP_CACHE_DIR`, `$XDG_CACHE_HOME/convsweep`, `~/.cache/convsweep`).
    public var machineReferenceCacheDirectory: String?
    /// How to start the worker processes that measure the rounds, a fresh one per pass over the
    /// sweep (``WorkerLaunch``); nil measures every round in this process. `convsweep run` and
    /// `replicate` start `convsweep measure-worker` unless given `--one-process`.
    public var workerLaunch: WorkerLaunch?
    /// Tests only: what a session reads of the machine, stood in for (``MachineStandIns``);
    /// empty in every real run.
    var standIns = MachineStandIns()

    /// The PUs the compute threads are bound to, one each, thread 0 first, from `cpuset` (the
    /// session's): its first ``threads`` PUs; empty for one thread (the process binding is it).
    /// A run of several counts pins the most once: a count p computes on the first p of them.
    public func computeThreadUnits(in cpuset: [Int]) -> [Int] { threads > 1 ? Array(cpuset.prefix(threads)) : [] }

    /// `configurations` as a run with these options measures them: each with every algorithm
    /// (``SweepConfiguration/expand(_:algorithms:)``), each of those at every thread count
    /// (``SweepConfiguration/expand(_:threads:)``; `all` resolved first, ``resolvingAllThreads(on:)``).
    public func expanded(_ configurations: [SweepConfiguration]) -> [SweepConfiguration] {
        SweepConfiguration.expand(
            SweepConfiguration.expand(configurations, algorithms: algorithms), threads: threadCounts.counts)
    }

    /// The round limit in effect.
    public var effectiveMaxRounds: Int { maxRounds ?? (rounds == 1 ? 1 : 2 * rounds) }

    /// The defaults (see each property).
    public init() {}

    /// The defaults, for a front end's declarations (one place for each default value).
    public static let defaults = RunOptions()

    /// The stop rule these options describe, for a whole configuration.
    public var stopRule: StopRule {
        StopRule(target: target, minRuns: minRuns, maxRuns: maxRuns, maxSeconds: maxSeconds, fixedRuns: fixedRuns)
    }

    /// The stop rule of one round: the budget of ``stopRule`` shared by ``rounds`` rounds (the
    /// seconds, the fewest and the most runs divided, the fewest and a fixed count rounding up);
    /// the target may stop a round from 3 runs (every run within it of the median), since the
    /// rounds' agreement, not one round, makes the row precise; no warm-up of its own (the run
    /// that verifies the round's output warms it).
    public var roundStopRule: StopRule {
        guard rounds > 1 else { return stopRule }
        let share = Double(rounds)
        let fewest = (minRuns + rounds - 1) / rounds
        return StopRule(
            target: target, minRuns: fewest, maxRuns: max(fewest, maxRuns / rounds), maxSeconds: maxSeconds / share,
            fixedRuns: fixedRuns.map { ($0 + rounds - 1) / rounds }, warmUpSeconds: 0, targetFromRuns: 3)
    }

    /// The measuring-time model of these options' round rule on a machine of `rates` (see
    /// ``MeasuringTimeModel``): for the progress line, `sweeps estimate` and Slurm time limits.
    public func measuringTimeModel(rates: MeasuringTimeModel.MachineRates = .assumed) -> MeasuringTimeModel {
        let rule = roundStopRule
        var model = MeasuringTimeModel(
            rates: rates, rounds: rounds, maxRounds: effectiveMaxRounds, roundMinRuns: rule.minRuns,
            roundMaxRuns: rule.maxRuns, roundMaxSeconds: rule.maxSeconds, fixedRunsPerRound: rule.fixedRuns)
        model.roundWarmUpSeconds = rule.warmUpSeconds
        return model
    }
}

/// One of `count` deterministic parts of a sweep (`--shard index/count`, index from 1).
public struct Shard: Codable, Hashable, Sendable, CustomStringConvertible {
    /// 1 … count.
    public var index: Int
    /// The number of shards.
    public var count: Int

    /// Shard `index` of `count`; throws unless 1 ≤ index ≤ count.
    public init(index: Int, count: Int) throws(RunError) {
        guard count >= 1, (1...count).contains(index) else {
            throw RunError.badSetting(.shard, "must be i/n with 1 ≤ i ≤ n, got \(index)/\(count)")
        }
        self.index = index
        self.count = count
    }

    /// Parses `i/n`.
    public init(parsing text: String) throws(RunError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw RunError.badSetting(.shard, "must be i/n (for example 2/8), got \"\(text)\"")
        }
        try self.init(index: i, count: n)
    }

    /// `i/n`.
    public var description: String { "\(index)/\(count)" }

    /// Whether configuration `id` belongs to this shard.
    public func contains(_ id: String) -> Bool {
        Int(StableHash.of(id) % UInt64(count)) == index - 1
    }
}

/// Why a run cannot start, or stopped.
public enum RunError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A setting's value is out of range or malformed: the setting, and what is wrong with it.
    case badSetting(RunSetting, String)
    /// The output directory belongs to another run, is locked, or cannot be written.
    case directory(String)
    /// The binding or the machine's topology failed.
    case machine(String)
    /// A file of a run directory does not parse.
    case format(String)
    /// Run directories to merge disagree.
    case mismatch(String)
    /// A resume on another machine, boot or speed than the run's first session, not accepted: what
    /// differs.
    case machineChanged(String)
    /// A PU of the cpuset is in use by another measuring process (or its lock cannot be used).
    case processingUnitBusy(String)

    /// The message.
    public var description: String {
        switch self {
        case let .badSetting(setting, problem): return "\(setting) \(problem)"
        case let .directory(m), let .machine(m), let .format(m), let .mismatch(m), let .machineChanged(m),
            let .processingUnitBusy(m):
            return m
        }
    }
}

/// Tests only: what a session would read of the machine, stood in for, so that a test of resuming,
/// merging or the round policy does not depend on how fast a shared machine ran during a 50-ms
/// calibration. One value, internal to the module, empty (its defaults) in every real run.
struct MachineStandIns: Codable, Hashable, Sendable {
    /// A factor applied to the probe's rates, to impersonate a faster or slower machine.
    var probeRateScale: Double = 1
    /// The probe's rate factor from the start of measuring on (a machine that turns slow).
    var probeRateScaleWhileMeasuring: Double?
    /// The boot id to record instead of this boot's.
    var bootID: String?
    /// The session's start reference rate to record (identity and probe summary) instead of the
    /// one the probe measured (times ``probeRateScale``).
    var referenceRate: Double?
    /// The reference rate a resume's re-reading of the probe finds, instead of reading it.
    var referenceRecheck: Double?
    /// Smaller roof measurements (a 256³ sgemm, 4 MiB arrays).
    var quickRoofs = false
}
