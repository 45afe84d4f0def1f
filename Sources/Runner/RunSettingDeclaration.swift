import Basics
import Measurement

/// A setting of a run as errors name it: its name in manifests (`threads`, `maxRounds`), which the
/// command line turns into its flag through the declaration of that name (``RunSettings``).
public struct RunSetting: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The name: a declared setting's manifest key, or the name of another input of a run.
    public let name: String

    /// The setting called `name`.
    public init(_ name: String) { self.name = name }

    /// The setting called `value`.
    public init(stringLiteral value: String) { self.init(value) }

    /// The name.
    public var description: String { name }

    /// The PUs bound to.
    public static let cpuset: RunSetting = "cpuset"
    /// The threads of the kernels.
    public static let threads: RunSetting = "threads"
    /// The part of the sweeps a directory measures.
    public static let shard: RunSetting = "shard"
    /// Whether an existing run must be resumed.
    public static let resume: RunSetting = "resume"
    /// The sweeps given to the run.
    public static let sweeps: RunSetting = "sweeps"
    /// The configurations named to `forget`.
    public static let configurations: RunSetting = "configurations"
    /// The session named to `forget`.
    public static let session: RunSetting = "session"
    /// The reason given to `forget`.
    public static let reason: RunSetting = "reason"
    /// A setting of the stop rule (its name is the declaration's).
    public static func stopRule(_ setting: StopRule.Setting) -> RunSetting { RunSetting(setting.rawValue) }
}

/// One recorded setting of a run, declared once: its flag and help, its default (from
/// ``RunOptions/defaults`` and the profiles' ``RunDefaults``), how its text is read into
/// ``RunOptions`` and checked, how it is recorded in the manifest and compared between sessions,
/// and the arguments that give it again to a rebuild command or a Slurm job. Every front end
/// derives its part from ``RunSettings/all``; docs/architecture.md says how to add one.
public struct RunSettingDeclaration: Sendable {
    /// How the flag takes its value.
    public enum Form: Sendable, Equatable {
        /// `--flag VALUE` once.
        case value(valueName: String)
        /// `--flag` alone.
        case toggle
        /// `--flag VALUE`, repeatable: a list.
        case repeated(valueName: String)
    }

    /// The name errors and manifests use.
    public let setting: RunSetting
    /// The long flag, `--threads`.
    public let flag: String
    /// How the flag takes its value.
    public let form: Form
    /// What it does, without its default.
    public let summary: String
    /// The default in words, from the defaults it is read under (nil: none shown).
    public let defaultText: String?
    /// Whether a Slurm job gets it (every setting but the cpuset: a task binds inside the CPUs
    /// Slurm gives it).
    public let passedToSlurm: Bool
    /// The manifest key it is recorded under by name, nil when a derived field records it (the stop
    /// rule's settings in `stopRule`, `--max-rounds` as the limit in effect, `--one-process` as
    /// `roundProcesses`, the cpuset as the PUs chosen).
    public let manifestKey: String?
    /// What a manifest written before the setting was recorded stands for.
    public let whenAbsent: JSONValue?
    /// Reads the texts given to the flag (one for a value, `true` for a toggle) into options.
    let read: @Sendable (inout RunOptions, [String]) throws(RunError) -> Void
    /// The texts that give the setting of `options` again ([] for a toggle that is off, an
    /// optional that is unset, or a list at its default).
    let given: @Sendable (RunOptions) -> [String]
    /// What is wrong with the setting in `options`, nil when it may be run.
    let check: @Sendable (RunOptions) -> String?
    /// The value recorded under ``manifestKey`` (nil: not recorded, as an unset optional).
    let record: @Sendable (RunOptions) -> JSONValue?
    /// Whether a value read from a manifest is one of this setting's.
    let reads: @Sendable (JSONValue) -> Bool

    /// The name.
    public var name: String { setting.name }

    /// The help text: the summary and the default.
    public var help: String { summary + (defaultText.map { " (default: \($0))" } ?? "") }

    /// The flag and its values that give this setting of `options` again, in order.
    public func arguments(_ options: RunOptions) -> [String] {
        let values = given(options)
        switch form {
        case .value: return values.isEmpty ? [] : [flag, values[0]]
        case .toggle: return values.isEmpty ? [] : [flag]
        case .repeated: return values.flatMap { [flag, $0] }
        }
    }

    /// Reads `texts`, the values given to the flag, into `options`.
    public func apply(_ texts: [String], to options: inout RunOptions) throws(RunError) {
        try read(&options, texts)
    }

    /// What is wrong with this setting of `options`, as the error of the run that would refuse it.
    public func problem(_ options: RunOptions) -> RunError? {
        check(options).map { RunError.badSetting(setting, $0) }
    }

    /// The value recorded in the manifest for `options` (nil when not recorded by name).
    public func recorded(_ options: RunOptions) -> JSONValue? {
        manifestKey == nil ? nil : record(options)
    }
}

extension RunSettingDeclaration {
    /// A setting of one value, at `keyPath` of the options, read by `parse` (nil: not one) and
    /// written back by `show`; `check` says what is wrong with a value read; recorded under its
    /// name unless `recorded` is false.
    static func value<Value: Codable & Sendable>(
        _ name: String, flag: String, valueName: String, _ summary: String,
        at keyPath: WritableKeyPath<RunOptions, Value> & Sendable, expected: String,
        parse: @escaping @Sendable (String) -> Value?, show: @escaping @Sendable (Value) -> String,
        check: @escaping @Sendable (Value) -> String? = { _ in nil }, defaultText: String? = nil,
        recorded: Bool = true, whenAbsent: JSONValue? = nil, passedToSlurm: Bool = true
    ) -> Self {
        Self(
            setting: RunSetting(name), flag: flag, form: .value(valueName: valueName), summary: summary,
            defaultText: defaultText ?? show(RunOptions.defaults[keyPath: keyPath]), passedToSlurm: passedToSlurm,
            manifestKey: recorded ? name : nil, whenAbsent: whenAbsent,
            read: { options, texts throws(RunError) in
                guard let text = texts.last else { return }
                guard let value = parse(text) else {
                    throw RunError.badSetting(RunSetting(name), "must be \(expected), got \"\(text)\"")
                }
                options[keyPath: keyPath] = value
            },
            given: { [show($0[keyPath: keyPath])] }, check: { check($0[keyPath: keyPath]) },
            record: { JSONValue(encoding: $0[keyPath: keyPath]) }, reads: { $0.decoded(as: Value.self) != nil })
    }

    /// A setting that may be unset (nil), at `keyPath`; otherwise as ``value(_:flag:valueName:_:at:expected:parse:show:check:defaultText:recorded:whenAbsent:passedToSlurm:)``.
    static func optional<Value: Codable & Sendable>(
        _ name: String, flag: String, valueName: String, _ summary: String,
        at keyPath: WritableKeyPath<RunOptions, Value?> & Sendable, expected: String,
        parse: @escaping @Sendable (String) -> Value?, show: @escaping @Sendable (Value) -> String,
        check: @escaping @Sendable (Value, RunOptions) -> String? = { _, _ in nil }, defaultText: String?,
        recorded: Bool = true, passedToSlurm: Bool = true
    ) -> Self {
        Self(
            setting: RunSetting(name), flag: flag, form: .value(valueName: valueName), summary: summary,
            defaultText: defaultText, passedToSlurm: passedToSlurm, manifestKey: recorded ? name : nil,
            whenAbsent: nil,
            read: { options, texts throws(RunError) in
                guard let text = texts.last else { return }
                guard let value = parse(text) else {
                    throw RunError.badSetting(RunSetting(name), "must be \(expected), got \"\(text)\"")
                }
                options[keyPath: keyPath] = value
            },
            given: { options in options[keyPath: keyPath].map { [show($0)] } ?? [] },
            check: { options in options[keyPath: keyPath].flatMap { check($0, options) } },
            record: { options in options[keyPath: keyPath].flatMap { JSONValue(encoding: $0) } },
            reads: { $0.decoded(as: Value.self) != nil })
    }

    /// An on/off setting at `keyPath`, off by default, on when the flag is given.
    static func toggle(
        _ name: String, flag: String, _ summary: String, at keyPath: WritableKeyPath<RunOptions, Bool> & Sendable,
        whenAbsent: JSONValue? = nil
    ) -> Self {
        Self(
            setting: RunSetting(name), flag: flag, form: .toggle, summary: summary, defaultText: nil,
            passedToSlurm: true, manifestKey: name, whenAbsent: whenAbsent,
            read: { options, texts in if !texts.isEmpty { options[keyPath: keyPath] = true } },
            given: { $0[keyPath: keyPath] ? ["true"] : [] }, check: { _ in nil },
            record: { JSONValue(encoding: $0[keyPath: keyPath]) }, reads: { $0.decoded(as: Bool.self) != nil })
    }
}

/// Readers of a flag's text, one per kind of value.
enum SettingText {
    /// A whole number.
    @Sendable static func integer(_ text: String) -> Int? { Int(text.trimmed) }
    /// A finite number.
    @Sendable static func number(_ text: String) -> Double? { Double(text.trimmed).flatMap { $0.isFinite ? $0 : nil } }
    /// A number as flags and manifests write it: `2`, not `2.0`, for a whole number.
    @Sendable static func show(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : "\(value)"
    }
}
