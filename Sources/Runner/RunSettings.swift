import Basics
import ConvKernels
import Measurement
import Sweeps

/// The catalog of a run's recorded settings: one ``RunSettingDeclaration`` each, in the order of
/// `--help`. The command line's options, ``RunOptions/init(given:defaults:)``, the manifest's
/// ``RunManifest/Settings``, the differences that refuse a resume, the rebuild command and the
/// arguments of Slurm jobs are all made from it.
///
/// Adding a setting: a property of ``RunOptions`` with its default, an entry here, and its use;
/// the command line takes it from its one `@Option` line (docs/architecture.md).
public enum RunSettings {
    /// Every recorded setting.
    public static let all: [RunSettingDeclaration] = [
        .optional(
            "cpuset", flag: "--cpuset", valueName: "list",
            "PUs to bind to, as a CPU list (3, 2-3, 0,2).", at: \.cpuset, expected: "a CPU list (3, 2-3, 0,2)",
            parse: { try? CPUSet.parse($0) }, show: { CPUSet.format($0) },
            defaultText: "the first PU of the last core this process may use (hwloc, within its affinity)",
            recorded: false, passedToSlurm: false),
        .value(
            "threads", flag: "--threads", valueName: "counts",
            "Threads of OpenBLAS and of oneDNN's OpenMP team: a count, or several (1,2,4,all), every configuration measured at each as a row of its own, in the same rounds; all is every PU the run may place a thread on. At most the PUs of the cpuset.",
            at: \.threadCounts, expected: "a count or a list of counts (1,2,4,all)",
            parse: { ThreadCounts(parsing: $0) }, show: \.description,
            check: { $0.problem(limit: 4096) },
            defaultText:
                "1; \(RunDefaults.profile(.threads).threadCounts) (doubling, capped by all) for replicate --profile threads",
            whenAbsent: .int(1)),
        .value(
            "placement", flag: "--placement", valueName: "policy",
            "With --threads N > 1 and no --cpuset, where the threads go: close (compact: a core after the next, an L3 domain, a NUMA node and a package filled before the next) or spread (scatter: dealt over the packages, their NUMA nodes and L3 domains); convsweep topology shows the PUs.",
            at: \.placement, expected: "close (compact) or spread (scatter)",
            parse: { ThreadPlacement.Policy(word: $0) }, show: \.rawValue, whenAbsent: .string("close")),
        .value(
            "places", flag: "--places", valueName: "places",
            "With --threads N > 1 and no --cpuset, what a thread may take: cores (a core each; more threads than cores refused) or threads (SMT siblings once every core has one).",
            at: \.places, expected: "cores or threads", parse: { ThreadPlacement.Places(rawValue: $0) },
            show: \.rawValue, whenAbsent: .string("cores")),
        .value(
            "target", flag: "--target", valueName: "share",
            "Stop when the 95% CI of the median is within this fraction of it.", at: \.target,
            expected: "a number", parse: SettingText.number, show: SettingText.show, recorded: false),
        .value(
            "minRuns", flag: "--min-runs", valueName: "n", "Fewest timed runs per configuration (adaptive rule).",
            at: \.minRuns, expected: "a whole number", parse: SettingText.integer, show: { "\($0)" }, recorded: false),
        .value(
            "maxRuns", flag: "--max-runs", valueName: "n", "Most timed runs per configuration (adaptive rule).",
            at: \.maxRuns, expected: "a whole number", parse: SettingText.integer, show: { "\($0)" }, recorded: false),
        .value(
            "maxSeconds", flag: "--max-seconds", valueName: "seconds",
            "Most seconds of timed runs per configuration (adaptive rule).", at: \.maxSeconds, expected: "a number",
            parse: SettingText.number, show: SettingText.show,
            defaultText: "\(SettingText.show(RunOptions.defaults.maxSeconds)); "
                + "\(SettingText.show(RunDefaults.profile(.quick).maxSeconds)) for replicate --profile quick or threads",
            recorded: false),
        .optional(
            "fixedRuns", flag: "--runs", valueName: "n",
            "Exactly this many timed runs per configuration, no time limit (strict replication).", at: \.fixedRuns,
            expected: "a whole number", parse: SettingText.integer, show: { "\($0)" }, defaultText: nil,
            recorded: false),
        .value(
            "order", flag: "--order", valueName: "order", "Configuration order: random (seeded) or given (file order).",
            at: \.order, expected: "random or given", parse: { RunOptions.Order(rawValue: $0) }, show: \.rawValue),
        .value(
            "seed", flag: "--seed", valueName: "n", "Seed of the random order and of the tensors' values.",
            at: \.seed, expected: "a whole number from 0 to 2^64-1", parse: { UInt64($0.trimmed) }, show: { "\($0)" }),
        .value(
            "cache", flag: "--cache", valueName: "state",
            "warm, or cold: evict the last-level cache between runs (outside the timed region).", at: \.cache,
            expected: "warm or cold", parse: { RunOptions.CacheState(rawValue: $0) }, show: \.rawValue),
        .toggle("keepSamples", flag: "--keep-samples", "Also write every timed run to samples.csv.", at: \.keepSamples),
        .value(
            "workspaceLimit", flag: "--workspace-limit", valueName: "MiB", "Largest im2col buffer, in MiB.",
            at: \.workspaceLimit, expected: "a whole number of MiB from 1 to 2^30-1",
            parse: { SettingText.integer($0).flatMap { (1..<(1 << 30)).contains($0) ? $0 << 20 : nil } },
            show: { "\($0 >> 20)" }, check: { $0 > 0 ? nil : "must be positive, got \($0 >> 20) MiB" }),
        .value(
            "rounds", flag: "--rounds", valueName: "N",
            "Rounds per configuration: passes over the sweep in their own seeded orders, each with 1/N of the stop rule's budget (1 = a single window, as before rounds).",
            at: \.rounds, expected: "a whole number", parse: SettingText.integer, show: { "\($0)" },
            check: { (1...100).contains($0) ? nil : "must be from 1 to 100, got \($0)" }, whenAbsent: .int(1)),
        .optional(
            "maxRounds", flag: "--max-rounds", valueName: "N",
            "Most rounds of one configuration, measured again when disturbed or disagreeing.", at: \.maxRounds,
            expected: "a whole number", parse: SettingText.integer, show: { "\($0)" },
            check: { value, options in
                (options.rounds...1000).contains(value)
                    ? nil : "must be from the rounds (\(options.rounds)) to 1000, got \(value)"
            },
            defaultText: "2 × --rounds; --rounds + 1 for replicate --profile quick or threads; 1 with --rounds 1",
            recorded: false),
        .value(
            "roundTolerance", flag: "--round-tolerance", valueName: "share",
            "A configuration with no clean round within this share of its fastest round gets another round.",
            at: \.roundTolerance, expected: "a number", parse: SettingText.number, show: SettingText.show,
            check: { $0 > 0 && $0 < 1 ? nil : "must be in (0, 1), got \($0)" }, whenAbsent: .int(0)),
        .value(
            "probeSlowdown", flag: "--probe-slowdown", valueName: "share",
            "A round is disturbed, and measured again, when the drift probe next to it reads this share below the session's reference rate.",
            at: \.probeSlowdown, expected: "a number", parse: SettingText.number, show: SettingText.show,
            check: { $0 > 0 && $0 < 1 ? nil : "must be in (0, 1), got \($0)" }, whenAbsent: .int(0)),
        .value(
            "slowPhaseWait", flag: "--slow-phase-wait", valueName: "seconds",
            "After a round the drift probe read slow, wait at most this many seconds for the machine's fast state before measuring on (0: never). A wait that runs out is not repeated until the probe reads fast again.",
            at: \.slowPhaseWait, expected: "a number of seconds", parse: SettingText.number, show: SettingText.show,
            check: { (0...3600).contains($0) ? nil : "must be from 0 to 3600 seconds, got \($0)" }),
        .value(
            "slowPhaseBudget", flag: "--slow-phase-budget", valueName: "share",
            "The most a session waits out slow phases, as a share of its measuring time, or of the estimate of it while that is longer (1: waiting at most doubles it).",
            at: \.slowPhaseBudget, expected: "a number", parse: SettingText.number, show: SettingText.show,
            check: { (0...100).contains($0) ? nil : "must be from 0 to 100, got \($0)" },
            defaultText: "\(SettingText.show(RunOptions.defaults.slowPhaseBudget)); "
                + "\(SettingText.show(RunDefaults.profile(.quick).slowPhaseBudget)) for replicate --profile quick or threads"
        ),
        RunSettingDeclaration(
            setting: "roundProcesses", flag: "--one-process", form: .toggle,
            summary:
                "Measure every round in this process. By default each pass over the sweep runs in a fresh worker process (convsweep measure-worker), so a configuration's rounds sample what a process fixes at its start (memory placement) as two runs would.",
            defaultText: nil, passedToSlurm: true, manifestKey: nil, whenAbsent: nil,
            read: { options, texts in if !texts.isEmpty { options.workerLaunch = nil } },
            given: { $0.workerLaunch == nil ? ["true"] : [] }, check: { _ in nil }, record: { _ in nil },
            reads: { _ in false }),
        RunSettingDeclaration(
            setting: "algorithms", flag: "--algorithm", form: .repeated(valueName: "algorithm"),
            summary:
                "Measure every configuration with this algorithm (repeatable, one configuration each, id suffixed @ALGORITHM): auto (im2col + OpenBLAS), dnnl-direct, dnnl-direct-nchw, dnnl-winograd (oneDNN), im2col-gemm, gemm-1x1.",
            defaultText: "auto", passedToSlurm: true, manifestKey: "algorithms", whenAbsent: .array([.string("auto")]),
            read: { options, texts throws(RunError) in
                guard !texts.isEmpty else { return }
                var algorithms: [ConvAlgorithm] = []
                for text in texts {
                    guard let algorithm = ConvAlgorithm(rawValue: text) else {
                        throw RunError.badSetting(
                            "algorithms",
                            "must be one of \(ConvAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(text)\""
                        )
                    }
                    algorithms.append(algorithm)
                }
                options.algorithms = algorithms
            },
            given: { $0.algorithms == [.auto] ? [] : $0.algorithms.map(\.rawValue) },
            check: algorithmsProblem,
            record: { $0.algorithms == [.auto] ? nil : JSONValue(encoding: $0.algorithms) },
            reads: { $0.decoded(as: [ConvAlgorithm].self) != nil }),
    ]

    /// The declaration called `name` (a ``RunSetting``'s name), nil for another input of a run.
    public static func declaration(_ setting: RunSetting) -> RunSettingDeclaration? {
        all.first { $0.setting == setting }
    }

    /// The declaration called `name`, for a front end that names it in its code: a name declared
    /// nowhere is a mistake of that code, and stops it at its first use.
    public static func declaration(named name: String) -> RunSettingDeclaration {
        guard let declaration = declaration(RunSetting(name)) else {
            preconditionFailure("no run setting is declared as \(name) (RunSettings.all)")
        }
        return declaration
    }

    /// The first setting of `options` that cannot be run, with its reason, the stop rule's
    /// settings included.
    public static func validate(_ options: RunOptions) throws(RunError) {
        for declaration in all { if let problem = declaration.problem(options) { throw problem } }
        do { try options.stopRule.validate() } catch {
            throw RunError.badSetting(.stopRule(error.setting), error.problem)
        }
    }

    /// The arguments of a Slurm job that measures with `options`: every setting it passes on,
    /// the cpuset left out.
    public static func slurmArguments(_ options: RunOptions) -> [String] {
        all.filter(\.passedToSlurm).flatMap { $0.arguments(options) }
    }

    /// The arguments that make a rerun measure with exactly `options`: every setting whose
    /// arguments differ from those of `baseline` (the options the same command reads when given
    /// nothing).
    public static func rebuildArguments(_ options: RunOptions, baseline: RunOptions) -> [String] {
        all.flatMap { declaration in
            let arguments = declaration.arguments(options)
            return arguments == declaration.arguments(baseline) ? [] : arguments
        }
    }

    /// Why the algorithms of `options` cannot be swept, nil when they can.
    @Sendable static func algorithmsProblem(_ options: RunOptions) -> String? {
        let algorithms = options.algorithms
        guard !algorithms.isEmpty else { return "must name at least one algorithm" }
        guard Set(algorithms).count == algorithms.count else {
            return "names \(algorithms.map(\.rawValue).joined(separator: ", ")): each at most once"
        }
        guard !algorithms.contains(.reference) else {
            return
                "reference is a checking loop, too slow to sweep; choose auto, dnnl-direct, dnnl-direct-nchw, dnnl-winograd, im2col-gemm or gemm-1x1"
        }
        if let missing = algorithms.first(where: { $0.backend == .onednn && !OneDNN.isAvailable }) {
            return
                "\(missing) needs the oneDNN backend, which this build lacks (install libdnnl-dev and build with the default traits)"
        }
        return nil
    }
}

/// The values a run takes where the user gives none: the runner's (`convsweep run`) or a
/// profile's (`replicate`, `sweeps list`, a Slurm submission, ``Replicator`` as a library).
public struct RunDefaults: Hashable, Sendable {
    /// The per-configuration time limit.
    public var maxSeconds: Double
    /// The share of its measuring time a session may wait out slow phases.
    public var slowPhaseBudget: Double
    /// Whether the round limit is one round more than the rounds (a disturbed or disagreeing
    /// configuration gets one more round, to keep a quick package a matter of minutes) rather
    /// than the runner's twice the rounds.
    public var oneExtraRound: Bool
    /// The thread counts.
    public var threadCounts = RunOptions.defaults.threadCounts

    /// The runner's defaults.
    public static let runner = RunDefaults(
        maxSeconds: RunOptions.defaults.maxSeconds, slowPhaseBudget: RunOptions.defaults.slowPhaseBudget,
        oneExtraRound: false)

    /// `profile`'s defaults: for quick, 0.5 s per configuration, a quarter of the measuring time
    /// to wait and one extra round; for threads, the same at 1, 2, 4, … threads up to all PUs
    /// (``doublingToAll``); the runner's for the others.
    public static func profile(_ profile: ShippedSweeps.Profile) -> RunDefaults {
        switch profile {
        case .quick: RunDefaults(maxSeconds: 0.5, slowPhaseBudget: 0.25, oneExtraRound: true)
        case .threads:
            RunDefaults(maxSeconds: 0.5, slowPhaseBudget: 0.25, oneExtraRound: true, threadCounts: doublingToAll)
        case .paper, .full, .networks: .runner
        }
    }

    /// 1, 2, 4, … 4096 and all: with all, the counts above it are dropped (``ThreadCounts/resolved(all:)``).
    public static let doublingToAll = ThreadCounts((0...12).map { 1 << $0 }, includesAll: true)!

    /// The round limit where none is given, for `rounds` rounds (nil: the runner's rule).
    public func maxRounds(rounds: Int) -> Int? { oneExtraRound && rounds > 1 ? rounds + 1 : nil }
}

extension RunOptions {
    /// The options under `defaults` (`workerLaunch` as given) with the texts `given` to each
    /// setting's flag, by setting name, read in; checked (``RunSettings/validate(_:)``).
    public init(
        given: [String: [String]], defaults: RunDefaults = .runner, workerLaunch: WorkerLaunch? = nil
    ) throws(RunError) {
        self.init()
        maxSeconds = defaults.maxSeconds
        slowPhaseBudget = defaults.slowPhaseBudget
        threadCounts = defaults.threadCounts
        self.workerLaunch = workerLaunch
        for declaration in RunSettings.all {
            if let texts = given[declaration.name], !texts.isEmpty { try declaration.apply(texts, to: &self) }
        }
        if given["maxRounds", default: []].isEmpty { maxRounds = defaults.maxRounds(rounds: rounds) }
        try RunSettings.validate(self)
    }

    /// The options of replicating `profile` with every other setting at its default.
    public init(profile: ShippedSweeps.Profile) {
        self.init()
        let defaults = RunDefaults.profile(profile)
        maxSeconds = defaults.maxSeconds
        slowPhaseBudget = defaults.slowPhaseBudget
        threadCounts = defaults.threadCounts
        maxRounds = defaults.maxRounds(rounds: rounds)
    }
}
