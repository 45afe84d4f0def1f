import ArgumentParser
import ConvKernels
import Measurement
import Runner
import Sweeps

/// The runner's settings, shared by `run` and `replicate`.
struct MeasuringOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "PUs to bind to, as a CPU list (3, 2-3, 0,2). Default: the first PU of the last core this process may use (hwloc, within its affinity).",
            valueName: "list"))
    var cpuset: String?

    @Option(help: "Threads of OpenBLAS and of oneDNN's OpenMP team; at most the PUs of the cpuset.")
    var threads: Int = RunOptions.defaults.threads

    @Option(help: "Stop when the 95% CI of the median is within this fraction of it.")
    var target: Double = RunOptions.defaults.target

    @Option(name: .customLong("min-runs"), help: "Fewest timed runs per configuration (adaptive rule).")
    var minRuns: Int = RunOptions.defaults.minRuns

    @Option(name: .customLong("max-runs"), help: "Most timed runs per configuration (adaptive rule).")
    var maxRuns: Int = RunOptions.defaults.maxRuns

    @Option(
        name: .customLong("max-seconds"),
        help:
            "Most seconds of timed runs per configuration (adaptive rule). Default 2; 0.5 for replicate --profile quick."
    )
    var maxSeconds: Double?

    @Option(
        name: .customLong("runs"),
        help: "Exactly this many timed runs per configuration, no time limit (strict replication).")
    var fixedRuns: Int?

    @Option(help: "Configuration order: random (seeded) or given (file order).")
    var order: RunOptions.Order = RunOptions.defaults.order

    @Option(help: "Seed of the random order and of the tensors' values.")
    var seed: UInt64 = RunOptions.defaults.seed

    @Option(help: "warm, or cold: evict the last-level cache between runs (outside the timed region).")
    var cache: RunOptions.CacheState = RunOptions.defaults.cache

    @Flag(name: .customLong("keep-samples"), help: "Also write every timed run to samples.csv.")
    var keepSamples = false

    @Option(name: .customLong("workspace-limit"), help: "Largest im2col buffer, in MiB.")
    var workspaceLimitMiB: Int = RunOptions.defaults.workspaceLimit >> 20

    @Option(
        help: ArgumentHelp(
            "Rounds per configuration: passes over the sweep in their own seeded orders, each with 1/N of the stop rule's budget (1 = a single window, as before rounds).",
            valueName: "N"))
    var rounds: Int = RunOptions.defaults.rounds

    @Option(
        name: .customLong("max-rounds"),
        help: ArgumentHelp(
            "Most rounds of one configuration, measured again when disturbed or disagreeing (default 2 × --rounds; --rounds + 1 for replicate --profile quick; 1 with --rounds 1).",
            valueName: "N"))
    var maxRounds: Int?

    @Option(
        name: .customLong("round-tolerance"),
        help: "A configuration whose two fastest clean rounds differ by more than this share gets another round.")
    var roundTolerance: Double = RunOptions.defaults.roundTolerance

    @Option(
        name: .customLong("probe-slowdown"),
        help:
            "A round is disturbed, and measured again, when the drift probe next to it reads this share below the session's reference rate."
    )
    var probeSlowdown: Double = RunOptions.defaults.probeSlowdown

    @Option(
        name: .customLong("slow-phase-wait"),
        help: ArgumentHelp(
            "After a round the drift probe read slow, wait at most this many seconds for the machine's fast state before measuring on (0: never). A wait that runs out is not repeated until the probe reads fast again; waiting at most doubles a session.",
            valueName: "seconds"))
    var slowPhaseWait: Double = RunOptions.defaults.slowPhaseWait

    @Option(
        name: .customLong("slow-phase-budget"),
        help: ArgumentHelp(
            "The most a session waits out slow phases, as a share of its measuring time, or of the estimate of it while that is longer (default 1: waiting at most doubles it; 0.25 for replicate --profile quick).",
            valueName: "share"))
    var slowPhaseBudget: Double?

    @Flag(
        name: .customLong("accept-machine-change"),
        help: "Resume a run started on another machine, boot or speed (refused otherwise); recorded in the manifest.")
    var acceptMachineChange = false

    @Flag(
        name: .customLong("one-process"),
        help:
            "Measure every round in this process. By default each pass over the sweep runs in a fresh worker process (convsweep measure-worker), so a configuration's rounds sample what a process fixes at its start (memory placement) as two runs would."
    )
    var oneProcess = false

    @Flag(help: "No progress output.")
    var quiet = false

    @OptionGroup var processingUnits: ProcessingUnitOptions

    @Option(
        name: .customLong("algorithm"),
        help: ArgumentHelp(
            "Measure every configuration with this algorithm (repeatable, one configuration each, id suffixed @ALGORITHM): auto (im2col + OpenBLAS), dnnl-direct, dnnl-direct-nchw, dnnl-winograd (oneDNN), im2col-gemm, gemm-1x1.",
            valueName: "algorithm"))
    var algorithms: [ConvAlgorithm] = []

    /// The `convsweep run` arguments that measure with `options`, for the jobs of a Slurm
    /// submission (the cpuset left out: each task binds inside the CPUs Slurm gives it).
    static func runArguments(_ options: RunOptions) -> [String] { settingArguments(options).flatMap { $0 } }

    /// The arguments that make a rerun measure with exactly `options`, made from these options
    /// under `defaults`, for a package's rebuild command: every setting that differs from its
    /// default (an algorithm always), the cpuset included when given.
    func rebuildArguments(_ options: RunOptions, defaults: MeasuringDefaults) -> [String] {
        let unchanged = Set(Self.settingArguments(try! MeasuringOptions.parse([]).runOptions(defaults)))
        var arguments = cpuset.map { [flag(.cpuset), $0] } ?? []
        for setting in Self.settingArguments(options)
        where !unchanged.contains(setting) || setting.first == flag(.algorithms) {
            arguments += setting
        }
        return arguments
    }

    /// Each setting of `options` that the manifest records, as its flag (``flag(_:)``, the one
    /// table of names) and value, a lone flag for a switch; the cpuset left out. Read back from
    /// the options, not from the arguments given, so a setting is mapped once: in
    /// ``runOptions(_:)``.
    private static func settingArguments(_ options: RunOptions) -> [[String]] {
        let rule = options.stopRule
        var settings: [[String]] = [
            [flag(.threads), "\(options.threads)"], [flag(.stopRule(.target)), "\(rule.target)"],
            [flag(.stopRule(.minRuns)), "\(rule.minRuns)"], [flag(.stopRule(.maxRuns)), "\(rule.maxRuns)"],
            [flag(.stopRule(.maxSeconds)), "\(rule.maxSeconds)"], [flag(.order), options.order.rawValue],
            [flag(.seed), "\(options.seed)"], [flag(.cache), options.cache.rawValue],
            [flag(.workspaceLimit), "\(options.workspaceLimit >> 20)"], [flag(.rounds), "\(options.rounds)"],
            [flag(.roundTolerance), "\(options.roundTolerance)"], [flag(.probeSlowdown), "\(options.probeSlowdown)"],
            [flag(.slowPhaseWait), "\(options.slowPhaseWait)"], [flag(.slowPhaseBudget), "\(options.slowPhaseBudget)"],
        ]
        if let fixedRuns = rule.fixedRuns { settings.append([flag(.stopRule(.fixedRuns)), "\(fixedRuns)"]) }
        if let maxRounds = options.maxRounds { settings.append([flag(.maxRounds), "\(maxRounds)"]) }
        if options.keepSamples { settings.append([flag(.keepSamples)]) }
        if options.workerLaunch == nil { settings.append([flag(.roundProcesses)]) }
        for algorithm in options.algorithms where options.algorithms != [.auto] {
            settings.append([flag(.algorithms), algorithm.rawValue])
        }
        return settings
    }

    /// The runner's options: each setting given, else its value under `defaults` (the runner's,
    /// or a profile's).
    func runOptions(_ defaults: MeasuringDefaults = .runner) throws -> RunOptions {
        var options = RunOptions()
        do {
            if let cpuset { options.cpuset = try CPUSet.parse(cpuset) }
        } catch { throw ValidationError("--cpuset: \(error)") }
        guard workspaceLimitMiB > 0, workspaceLimitMiB < 1 << 30 else {
            throw ValidationError("--workspace-limit must be a positive number of MiB")
        }
        options.threads = threads
        options.target = target
        options.minRuns = minRuns
        options.maxRuns = maxRuns
        options.maxSeconds = maxSeconds ?? defaults.maxSeconds
        options.fixedRuns = fixedRuns
        options.order = order
        options.seed = seed
        options.cache = cache
        options.keepSamples = keepSamples
        options.workspaceLimit = workspaceLimitMiB << 20
        options.showProgress = !quiet
        options.rounds = rounds
        options.maxRounds = maxRounds ?? defaults.maxRounds
        options.roundTolerance = roundTolerance
        options.probeSlowdown = probeSlowdown
        options.slowPhaseWait = slowPhaseWait
        options.slowPhaseBudget = slowPhaseBudget ?? defaults.slowPhaseBudget
        options.acceptMachineChange = acceptMachineChange
        options.processingUnitWait = processingUnits.waitLimit
        if !oneProcess { options.workerLaunch = MeasureWorker.launch }
        if !algorithms.isEmpty {
            guard Set(algorithms).count == algorithms.count else {
                throw ValidationError(
                    "--algorithm names \(algorithms.map(\.rawValue).joined(separator: ", ")): each at most once")
            }
            guard !algorithms.contains(.reference) else {
                throw ValidationError(
                    "--algorithm reference is a checking loop, too slow to sweep; choose auto, dnnl-direct, dnnl-direct-nchw, dnnl-winograd, im2col-gemm or gemm-1x1"
                )
            }
            if let missing = algorithms.first(where: { $0.backend == .onednn && !OneDNN.isAvailable }) {
                throw ValidationError(
                    "--algorithm \(missing) needs the oneDNN backend, which this build lacks (install libdnnl-dev and build with the default traits)"
                )
            }
            options.algorithms = algorithms
        }
        return options
    }
}
extension ConvAlgorithm: ExpressibleByArgument {}

/// The values a measuring command uses where the user gives none: the runner's for `run`, a
/// profile's for `replicate`, `sweeps list` and a Slurm submission.
struct MeasuringDefaults {
    /// The per-configuration time limit where --max-seconds is not given.
    var maxSeconds: Double
    /// The round limit where --max-rounds is not given (nil: the runner's, 2 × --rounds).
    var maxRounds: Int?
    /// The share of its measuring time a session may wait out slow phases where
    /// --slow-phase-budget is not given.
    var slowPhaseBudget: Double

    /// The runner's defaults (`convsweep run`).
    static let runner = MeasuringDefaults(
        maxSeconds: RunOptions.defaults.maxSeconds, maxRounds: nil,
        slowPhaseBudget: RunOptions.defaults.slowPhaseBudget)

    /// `profile`'s defaults, for a run of `rounds` rounds.
    init(_ profile: ShippedSweeps.Profile, rounds: Int) {
        self.init(
            maxSeconds: profile.defaultMaxSeconds, maxRounds: profile.defaultMaxRounds(rounds: rounds),
            slowPhaseBudget: profile.defaultSlowPhaseBudget)
    }

    /// Defaults as given.
    init(maxSeconds: Double, maxRounds: Int?, slowPhaseBudget: Double) {
        self.maxSeconds = maxSeconds
        self.maxRounds = maxRounds
        self.slowPhaseBudget = slowPhaseBudget
    }
}
