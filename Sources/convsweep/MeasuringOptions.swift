import ArgumentParser
import ConvKernels
import Measurement
import Runner
import Sweeps

/// The runner's settings, shared by `run` and `replicate`.
///
/// Each recorded setting is one line, `@Option(setting:) var NAME` (or `@Flag(setting:)`), named
/// as its declaration in ``RunSettings/all``: flag, help, default, reading, checking, recording and
/// passing it on all come from there (``given``).
struct MeasuringOptions: ParsableArguments {
    @Option(setting: "cpuset") var cpuset: String?
    @Option(setting: "threads") var threads: String?
    @Option(setting: "placement") var placement: String?
    @Option(setting: "places") var places: String?
    @Option(setting: "target") var target: String?
    @Option(setting: "minRuns") var minRuns: String?
    @Option(setting: "maxRuns") var maxRuns: String?
    @Option(setting: "maxSeconds") var maxSeconds: String?
    @Option(setting: "fixedRuns") var fixedRuns: String?
    @Option(setting: "order") var order: String?
    @Option(setting: "seed") var seed: String?
    @Option(setting: "cache") var cache: String?
    @Flag(setting: "keepSamples") var keepSamples: Bool
    @Option(setting: "workspaceLimit") var workspaceLimit: String?
    @Option(setting: "rounds") var rounds: String?
    @Option(setting: "maxRounds") var maxRounds: String?
    @Option(setting: "roundTolerance") var roundTolerance: String?
    @Option(setting: "probeSlowdown") var probeSlowdown: String?
    @Option(setting: "slowPhaseWait") var slowPhaseWait: String?
    @Option(setting: "slowPhaseBudget") var slowPhaseBudget: String?
    @Flag(setting: "roundProcesses") var roundProcesses: Bool
    @Option(setting: "algorithms") var algorithms: [String]

    @Flag(
        name: .customLong("accept-machine-change"),
        help: "Resume a run started on another machine, boot or speed (refused otherwise); recorded in the manifest.")
    var acceptMachineChange = false

    @Flag(help: "No progress output.")
    var quiet = false

    @OptionGroup var processingUnits: ProcessingUnitOptions

    /// The texts given to each recorded setting's flag, by setting name (read off this value's
    /// properties, which carry the settings' names).
    func given() -> [String: [String]] {
        var given: [String: [String]] = [:]
        for child in Mirror(reflecting: self).children {
            guard let label = child.label, label.hasPrefix("_") else { continue }
            let name = String(label.dropFirst())
            guard RunSettings.declaration(RunSetting(name)) != nil else { continue }
            if let option = child.value as? Option<String?> {
                given[name] = option.wrappedValue.map { [$0] } ?? []
            } else if let option = child.value as? Option<[String]> {
                given[name] = option.wrappedValue
            } else if let flag = child.value as? Flag<Bool> {
                given[name] = flag.wrappedValue ? ["true"] : []
            }
        }
        let missing = RunSettings.all.map(\.name).filter { given[$0] == nil }
        precondition(missing.isEmpty, "MeasuringOptions lacks a property for the setting(s) \(missing)")
        return given
    }

    /// The options these arguments give under `defaults` (the runner's, or a profile's), rounds
    /// measured in worker processes unless `--one-process`.
    func runOptions(_ defaults: RunDefaults = .runner) throws -> RunOptions {
        var options: RunOptions
        do { options = try RunOptions(given: given(), defaults: defaults, workerLaunch: MeasureWorker.launch) } catch {
            if case let .badSetting(setting, problem) = error { throw ValidationError("\(flag(setting)) \(problem)") }
            throw error
        }
        options.showProgress = !quiet
        options.acceptMachineChange = acceptMachineChange
        options.processingUnitWait = processingUnits.waitLimit
        return options
    }

    /// The `convsweep run` arguments that measure with `options`, for the jobs of a Slurm
    /// submission (the cpuset left out: each task binds inside the CPUs Slurm gives it).
    static func runArguments(_ options: RunOptions) -> [String] { RunSettings.slurmArguments(options) }

    /// The arguments that make a rerun measure with exactly `options` under `defaults`, for a
    /// package's rebuild command: every setting whose arguments differ from the defaults'.
    func rebuildArguments(_ options: RunOptions, defaults: RunDefaults) throws -> [String] {
        let baseline = try RunOptions(given: [:], defaults: defaults, workerLaunch: MeasureWorker.launch)
        return RunSettings.rebuildArguments(options, baseline: baseline)
    }
}

extension Option where Value == String? {
    /// The option of the recorded setting `name` (``RunSettings``): its flag, help and default.
    init(setting name: String) {
        let declaration = RunSettings.declaration(named: name)
        var valueName: String?
        if case .value(let value) = declaration.form { valueName = value }
        self.init(
            name: .customLong(String(declaration.flag.dropFirst(2))),
            help: ArgumentHelp(declaration.help, valueName: valueName))
    }
}

extension Option where Value == [String] {
    /// The repeatable option of the recorded setting `name` (``RunSettings``).
    init(setting name: String) {
        let declaration = RunSettings.declaration(named: name)
        var valueName: String?
        if case .repeated(let value) = declaration.form { valueName = value }
        self.init(
            wrappedValue: [], name: .customLong(String(declaration.flag.dropFirst(2))),
            help: ArgumentHelp(declaration.help, valueName: valueName))
    }
}

extension Flag where Value == Bool {
    /// The switch of the recorded setting `name` (``RunSettings``), off unless given.
    init(setting name: String) {
        let declaration = RunSettings.declaration(named: name)
        self.init(
            wrappedValue: false, name: .customLong(String(declaration.flag.dropFirst(2))),
            help: ArgumentHelp(declaration.help))
    }
}

extension ConvAlgorithm: ExpressibleByArgument {}
