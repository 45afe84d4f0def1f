import Basics
import ConvKernels
import Foundation
import Measurement

extension RunManifest {
    /// The settings results depend on; a resume must match them exactly.
    ///
    /// Two parts, written side by side in manifest.json's `settings`: every declared setting
    /// recorded by its name (``RunSettings``: `threads`, `rounds`, `seed`, …), and the facts a
    /// session derives from them and the machine (the PUs chosen, the stop rule, the seeds
    /// derived from `seed`, the eviction's size, …), reached as properties of their own.
    @dynamicMemberLookup
    public struct Settings: Codable, Hashable, Sendable {
        /// What a session derives from the settings and the machine.
        public var facts: Facts
        /// The declared settings recorded by name (``RunSettingDeclaration/manifestKey``), as
        /// recorded; a setting absent stands for its ``RunSettingDeclaration/whenAbsent``.
        public var declared: [String: JSONValue]

        /// What a session derives from the settings and the machine.
        public struct Facts: Codable, Hashable, Sendable {
            /// The PUs bound to, as a CPU list.
            public var cpuset: String
            /// `default (last core, hwloc)` or `--cpuset`.
            public var cpusetChosenBy: String
            /// When timing of a configuration stops.
            public var stopRule: StopRule
            /// ``stopRule`` in words.
            public var stopRuleDescription: String
            /// The seed of the tensors' values (each configuration's `fillRandom`).
            public var dataSeed: UInt64
            /// The seed of the positions checked on each configuration's first run.
            public var verificationSeed: UInt64
            /// Output positions checked per configuration.
            public var verificationSamples: Int
            /// Bytes written per eviction with `cache` cold.
            public var evictionBytes: Int?
            /// The part of the sweeps this directory measures, if sharded.
            public var shard: Shard?
            /// OpenBLAS's thread count as it reported it after being set.
            public var openBLASThreads: Int
            /// The most rounds of one configuration (the limit in effect).
            public var maxRounds: Int?
            /// The stop rule of one round (the whole rule's budget shared by the rounds).
            public var roundStopRuleDescription: String?
            /// Where the rounds were measured: ``RunManifest/Settings/workerPerPass``, or nil for
            /// every round in the run's own process (as before worker processes).
            public var roundProcesses: String?
            /// Which of its rounds a configuration's row takes (``RoundPolicy``):
            /// ``RunManifest/Settings/fastestRound`` since 0.16.0; nil in a run started before,
            /// whose rows took their fastest clean round.
            public var rowRound: String? = nil
        }

        /// The fact `keyPath`.
        public subscript<T>(dynamicMember keyPath: WritableKeyPath<Facts, T>) -> T {
            get { facts[keyPath: keyPath] }
            set { facts[keyPath: keyPath] = newValue }
        }

        /// ``Facts/rowRound`` of a run whose rows take their fastest round, clean or disturbed.
        public static let fastestRound = "the fastest round, clean or disturbed"

        /// Whether the run's rows take their fastest round, clean or disturbed (it records a row
        /// rule: started by 0.16.0 or later), not their fastest clean round.
        public var rowsTakeFastestRound: Bool { facts.rowRound != nil }

        /// ``roundProcesses`` of a run that measures each pass in a fresh worker process.
        public static let workerPerPass = "a fresh worker process per pass (convsweep measure-worker)"

        /// Whether the rounds were measured in worker processes (``roundProcesses`` is set).
        public var roundsInWorkerProcesses: Bool { facts.roundProcesses != nil }

        /// The recorded value of `setting` as a `T`: as recorded, else what its absence stands
        /// for; nil when neither is one.
        public func value<T: Decodable>(_ setting: RunSetting, as type: T.Type = T.self) -> T? {
            (declared[setting.name] ?? RunSettings.declaration(setting)?.whenAbsent)?.decoded(as: T.self)
        }

        /// The thread counts the configurations were measured at.
        public var threadCounts: ThreadCounts { value(.threads) ?? ThreadCounts(1) }
        /// The largest thread count: the PUs bound and the compute threads pinned.
        public var threads: Int { threadCounts.most }
        /// Rounds per configuration.
        public var rounds: Int { value("rounds") ?? 1 }
        /// Whether samples.csv holds every timed run.
        public var keepSamples: Bool { value("keepSamples") ?? false }
        /// The configuration order.
        public var order: RunOptions.Order { value("order") ?? .random }
        /// The seed of the order and of the data and verification seeds.
        public var seed: UInt64 { value("seed") ?? 0 }
        /// Warm caches, or the last-level cache evicted between runs.
        public var cache: RunOptions.CacheState { value("cache") ?? .warm }
        /// The largest im2col buffer, in bytes.
        public var workspaceLimit: Int { value("workspaceLimit") ?? RunOptions.defaults.workspaceLimit }
        /// The algorithms every configuration was measured with.
        public var algorithms: [ConvAlgorithm] { value("algorithms") ?? [.auto] }

        /// The settings a session with `options` records, bound to `cpuset`.
        public init(options: RunOptions, cpuset: [Int], evictionBytes: Int?, openBLASThreads: Int) {
            facts = Facts(
                cpuset: CPUSet.format(cpuset),
                cpusetChosenBy: options.cpuset != nil
                    ? "--cpuset"
                    : options.threads == 1
                        ? "default: first PU of the last core (hwloc)"
                        : "default: placement \(options.threadPlacement) (hwloc)",
                stopRule: options.stopRule, stopRuleDescription: options.stopRule.summary,
                dataSeed: RunDriver.dataSeedBase(options.seed),
                verificationSeed: RunDriver.verificationSeedBase(options.seed),
                verificationSamples: options.verificationSamples, evictionBytes: evictionBytes, shard: options.shard,
                openBLASThreads: openBLASThreads, maxRounds: options.effectiveMaxRounds,
                roundStopRuleDescription: options.roundStopRule.summary,
                roundProcesses: options.workerLaunch == nil ? nil : Self.workerPerPass, rowRound: Self.fastestRound)
            declared = [:]
            for declaration in RunSettings.all {
                if let key = declaration.manifestKey, let value = declaration.recorded(options) {
                    declared[key] = value
                }
            }
        }

        /// The settings a session with `options` would record on `topology`, read before anything is
        /// bound: the cpuset it would choose (nil when `options.cpuset` names PUs it cannot use, which
        /// the session refuses) and the eviction it would make.
        public static func planned(options: RunOptions, topology: Topology) -> Self? {
            guard let cpuset = try? options.chosenCPUSet(on: topology) else { return nil }
            return Self(
                options: options, cpuset: cpuset,
                evictionBytes: options.cache == .cold
                    ? CacheEvictor.bytes(lastLevelCacheBytes: topology.lastLevelCacheBytes) : nil,
                openBLASThreads: options.threads)
        }

        private struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        /// Reads the facts and every declared setting recorded, each checked against its declaration.
        public init(from decoder: Decoder) throws {
            facts = try Facts(from: decoder)
            let container = try decoder.container(keyedBy: Key.self)
            declared = [:]
            for declaration in RunSettings.all {
                guard let key = declaration.manifestKey, container.contains(Key(stringValue: key)) else { continue }
                let value = try container.decode(JSONValue.self, forKey: Key(stringValue: key))
                guard declaration.reads(value) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: Key(stringValue: key), in: container,
                        debugDescription: "\(value) is not a value of \(declaration.flag)")
                }
                declared[key] = value
            }
        }

        /// Writes the facts and the declared settings side by side.
        public func encode(to encoder: Encoder) throws {
            try facts.encode(to: encoder)
            var container = encoder.container(keyedBy: Key.self)
            for (key, value) in declared { try container.encode(value, forKey: Key(stringValue: key)) }
        }
    }
}

extension RunOptions {
    /// Where threads go when no cpuset is named: ``placement`` over ``places``, the fastest kind
    /// of core.
    public var threadPlacement: ThreadPlacement { ThreadPlacement(policy: placement, places: places) }

    /// The PUs a session with these options binds to on `topology`: the cpuset given, else the
    /// first PU of the last core this process may use for one thread, the PUs ``threadPlacement``
    /// gives for more (``Topology/defaultProcessingUnits(threads:_:)``). The one place the
    /// default is chosen.
    public func chosenCPUSet(on topology: Topology) throws(RunError) -> [Int] {
        guard !threadCounts.includesAll else { return try resolvingAllThreads(on: topology).chosenCPUSet(on: topology) }
        guard let requested = cpuset else {
            do { return try topology.defaultProcessingUnits(threads: threads, threadPlacement) } catch {
                throw RunError.badSetting(.threads, "cannot be placed: \(error)")
            }
        }
        do { return try topology.cpuset(parsing: CPUSet.format(requested)) } catch {
            throw RunError.badSetting(.cpuset, "\(error)")
        }
    }
}

extension RunOptions {
    /// The PUs of `cpuset` (the session's, ascending) in the order the compute threads take them,
    /// thread 0 first: the placement's order when the run placed its threads (`spread` deals them
    /// over the packages first, so a count p of several takes the first p of that order, not the
    /// lowest-numbered PUs), else the cpuset's.
    public func threadOrder(of cpuset: [Int], on topology: Topology) -> [Int] {
        guard self.cpuset == nil, threads > 1,
            let placed = try? topology.place(threads: threads, threadPlacement).map(\.processingUnit),
            Set(placed) == Set(cpuset)
        else { return cpuset }
        return placed
    }

    /// These options with the thread count `all` resolved on `topology`: the PUs of the cpuset
    /// named, else as many threads as ``threadPlacement`` can place on the PUs this process may use.
    public func resolvingAllThreads(on topology: Topology) throws(RunError) -> RunOptions {
        guard threadCounts.includesAll else { return self }
        var resolved = self
        if let requested = cpuset {
            do {
                resolved.threadCounts = threadCounts.resolved(
                    all: try topology.cpuset(parsing: CPUSet.format(requested)).count)
            } catch {
                throw RunError.badSetting(.cpuset, "\(error)")
            }
        } else {
            let all = topology.placeableThreads(threadPlacement)
            guard all >= 1 else {
                throw RunError.badSetting(
                    .threads, "all: placement \(threadPlacement) finds no PU to place a thread on")
            }
            resolved.threadCounts = threadCounts.resolved(all: all)
        }
        return resolved
    }
}

extension RunManifest.Settings {
    /// How the settings `b` of a later session differ from `a` in ways that make their rows
    /// incomparable, each as its name and both values; empty when they agree (the shard excepted
    /// when `ignoringShard`).
    static func differences(_ a: Self, _ b: Self, ignoringShard: Bool = false) -> [String] {
        var a = a
        var b = b
        if ignoringShard {
            a.facts.shard = nil
            b.facts.shard = nil
        }
        // The row rule is the run's, as its first session recorded it: a later session (a newer
        // convsweep resuming an older run) keeps it, so it is not a difference.
        a.facts.rowRound = nil
        b.facts.rowRound = nil
        // A cpuset both chose by default (the last core this process was given: a Slurm task's,
        // a requeued task's) is the same choice on another core; a cpuset the user named must match.
        if a.cpusetChosenBy.hasPrefix("default") && b.cpusetChosenBy.hasPrefix("default") {
            a.facts.cpuset = b.facts.cpuset
        }
        // A setting a manifest does not record stands for what it meant before it was recorded.
        for declaration in RunSettings.all {
            guard let key = declaration.manifestKey, let old = declaration.whenAbsent else { continue }
            if a.declared[key] == nil { a.declared[key] = old }
            if b.declared[key] == nil { b.declared[key] = old }
        }
        guard a != b else { return [] }
        var differences: [String] = []
        for declaration in RunSettings.all {
            guard let key = declaration.manifestKey else { continue }
            let (x, y) = (a.declared[key], b.declared[key])
            if x != y {
                differences.append(
                    "\(key) (\(declaration.flag)) \(x?.description ?? "absent") vs \(y?.description ?? "absent")")
            }
        }
        differences += factDifferences(a.facts, b.facts)
        if differences.isEmpty { differences.append("settings differ") }
        return differences
    }

    /// The facts of `a` and `b` that differ, as manifest.json names them: `name a vs b` (`absent`
    /// for a fact one of them lacks).
    static func factDifferences(_ a: Facts, _ b: Facts) -> [String] {
        func fields(_ facts: Facts) -> [String: JSONValue] {
            guard case .object(let object)? = JSONValue(encoding: facts) else { return [:] }
            return object
        }
        let (x, y) = (fields(a), fields(b))
        return Set(x.keys).union(y.keys).sorted().compactMap { key in
            x[key] == y[key]
                ? nil : "\(key) \(x[key]?.description ?? "absent") vs \(y[key]?.description ?? "absent")"
        }
    }
}
