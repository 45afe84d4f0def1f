import ArgumentParser
import ConvKernels
import Measurement
import Runner

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
            "The most a session waits out slow phases, as a share of its measuring time (default 1: waiting at most doubles it; 0.25 for replicate --profile quick).",
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

    /// These settings as `convsweep run` arguments, for the jobs of a Slurm submission (the
    /// cpuset left out: each task binds inside the CPUs Slurm gives it).
    func runArguments(
        defaultMaxSeconds: Double, defaultMaxRounds: Int? = nil,
        defaultSlowPhaseBudget: Double = RunOptions.defaults.slowPhaseBudget
    ) -> [String] {
        settingArguments(
            defaultMaxSeconds: defaultMaxSeconds, defaultMaxRounds: defaultMaxRounds,
            defaultSlowPhaseBudget: defaultSlowPhaseBudget
        ).flatMap { $0 }
    }

    /// The arguments that make a rerun measure with exactly these settings, for a package's
    /// rebuild command: every setting that differs from its default, the cpuset included when given.
    func rebuildArguments(
        defaultMaxSeconds: Double, defaultMaxRounds: Int? = nil,
        defaultSlowPhaseBudget: Double = RunOptions.defaults.slowPhaseBudget
    ) -> [String] {
        let defaults = Set(
            (try! MeasuringOptions.parse([])).settingArguments(
                defaultMaxSeconds: defaultMaxSeconds, defaultMaxRounds: defaultMaxRounds,
                defaultSlowPhaseBudget: defaultSlowPhaseBudget))
        var arguments = cpuset.map { ["--cpuset", $0] } ?? []
        for setting in settingArguments(
            defaultMaxSeconds: defaultMaxSeconds, defaultMaxRounds: defaultMaxRounds,
            defaultSlowPhaseBudget: defaultSlowPhaseBudget)
        where !defaults.contains(setting) || setting.first == "--algorithm" {
            arguments += setting
        }
        return arguments
    }

    /// Each setting of the run as its flag and value (a lone flag for a switch); the cpuset and
    /// what records nothing in the manifest (--quiet, --wait, --accept-machine-change) left out.
    private func settingArguments(
        defaultMaxSeconds: Double, defaultMaxRounds: Int?, defaultSlowPhaseBudget: Double
    ) -> [[String]] {
        var settings: [[String]] = [
            ["--threads", "\(threads)"], ["--target", "\(target)"], ["--min-runs", "\(minRuns)"],
            ["--max-runs", "\(maxRuns)"], ["--max-seconds", "\(maxSeconds ?? defaultMaxSeconds)"],
            ["--order", order.rawValue], ["--seed", "\(seed)"], ["--cache", cache.rawValue],
            ["--workspace-limit", "\(workspaceLimitMiB)"], ["--rounds", "\(rounds)"],
            ["--round-tolerance", "\(roundTolerance)"], ["--probe-slowdown", "\(probeSlowdown)"],
            ["--slow-phase-wait", "\(slowPhaseWait)"],
            ["--slow-phase-budget", "\(slowPhaseBudget ?? defaultSlowPhaseBudget)"],
        ]
        if let fixedRuns { settings.append(["--runs", "\(fixedRuns)"]) }
        if let maxRounds = maxRounds ?? defaultMaxRounds { settings.append(["--max-rounds", "\(maxRounds)"]) }
        if keepSamples { settings.append(["--keep-samples"]) }
        if oneProcess { settings.append(["--one-process"]) }
        for algorithm in algorithms { settings.append(["--algorithm", algorithm.rawValue]) }
        return settings
    }

    /// The runner's options, with `defaultMaxSeconds` where --max-seconds is not given and
    /// `defaultMaxRounds` (nil: the runner's own default) where --max-rounds is not.
    func runOptions(
        defaultMaxSeconds: Double = 2, defaultMaxRounds: Int? = nil,
        defaultSlowPhaseBudget: Double = RunOptions.defaults.slowPhaseBudget
    ) throws -> RunOptions {
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
        options.maxSeconds = maxSeconds ?? defaultMaxSeconds
        options.fixedRuns = fixedRuns
        options.order = order
        options.seed = seed
        options.cache = cache
        options.keepSamples = keepSamples
        options.workspaceLimit = workspaceLimitMiB << 20
        options.showProgress = !quiet
        options.rounds = rounds
        options.maxRounds = maxRounds ?? defaultMaxRounds
        options.roundTolerance = roundTolerance
        options.probeSlowdown = probeSlowdown
        options.slowPhaseWait = slowPhaseWait
        options.slowPhaseBudget = slowPhaseBudget ?? defaultSlowPhaseBudget
        options.acceptMachineChange = acceptMachineChange
        options.waitForProcessingUnits = processingUnits.wait
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
