import CHwloc

/// Where a run's threads go, in the words OpenMP (`OMP_PROC_BIND`, `OMP_PLACES`) and likwid
/// (`compact`, `scatter`) users know. The PUs come from the topology (hwloc): which PUs share a
/// core, an L3 cache, a NUMA node, a package, and on hybrid CPUs which kind of core they are.
public struct ThreadPlacement: Hashable, Sendable, CustomStringConvertible {
    /// How threads are laid over the machine.
    public enum Policy: String, CaseIterable, Codable, Hashable, Sendable {
        /// One core after the next in the topology's order: an L3 domain, a NUMA node and a
        /// package filled before the next (OpenMP `close`, likwid's `compact`). The default.
        case close
        /// As far apart as the machine allows: threads dealt over the packages, then over the NUMA
        /// nodes of each, then over their L3 domains (OpenMP `spread`, likwid's `scatter`).
        case spread

        /// The policy named `text`, OpenMP's word or likwid's.
        public init?(word text: String) {
            switch text {
            case "close", "compact": self = .close
            case "spread", "scatter": self = .spread
            default: return nil
            }
        }
    }

    /// What a thread may be placed on.
    public enum Places: String, CaseIterable, Codable, Hashable, Sendable {
        /// A core each, its first PU: SMT siblings stay idle, and more threads than cores are
        /// refused (OpenMP `cores`). The default.
        case cores
        /// Any PU: a core each first, then their SMT siblings once the threads exceed the cores
        /// (OpenMP `threads`).
        case threads
    }

    /// Which kind of core, on a hybrid CPU (hwloc's cpukinds).
    public enum CoreKind: Hashable, Sendable, CustomStringConvertible {
        /// Only the fastest kind (performance cores). The default.
        case fastest
        /// Every kind, the fastest first.
        case all
        /// The kind of this rank, 0 the fastest.
        case rank(Int)

        /// The kind named `text`: `fastest`, `all`, or a rank (0 the fastest).
        public init?(word text: String) {
            switch text {
            case "fastest": self = .fastest
            case "all": self = .all
            default:
                guard let rank = Int(text), rank >= 0 else { return nil }
                self = .rank(rank)
            }
        }

        /// `fastest`, `all` or the rank.
        public var description: String {
            switch self {
            case .fastest: return "fastest"
            case .all: return "all"
            case .rank(let rank): return "\(rank)"
            }
        }
    }

    /// How threads are laid over the machine.
    public var policy: Policy = .close
    /// What a thread may be placed on.
    public var places: Places = .cores
    /// Which kind of core.
    public var coreKind: CoreKind = .fastest

    /// The default: close, a core each, the fastest kind.
    public init(policy: Policy = .close, places: Places = .cores, coreKind: CoreKind = .fastest) {
        self.policy = policy
        self.places = places
        self.coreKind = coreKind
    }

    /// `close, cores, fastest cores`.
    public var description: String { "\(policy.rawValue), \(places.rawValue), \(coreKind) cores" }
}

/// A thread's place: its PU and what holds it.
public struct PlacedThread: Codable, Hashable, Sendable {
    /// The thread's number, from 0.
    public var thread: Int
    /// The PU (operating-system index).
    public var processingUnit: Int
    /// Its core (logical index).
    public var core: Int
    /// Its package (logical index).
    public var package: Int
    /// Its NUMA node (logical index), nil when the topology has none.
    public var numaNode: Int?
    /// Its L3 cache domain (logical index), nil when the topology has none.
    public var l3: Int?
    /// The rank of its kind of core, 0 the fastest (0 on a machine of one kind).
    public var kindRank: Int
}

/// Why threads cannot be placed as asked.
public struct PlacementError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What is impossible and why.
    public var message: String
    /// An error saying `message`.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

extension Topology {
    /// A core of the machine as placement sees it: its usable PUs (the first first) and what
    /// holds it.
    struct PlacementCore {
        var index: Int
        var processingUnits: [Int]
        var package: Int
        var numaNode: Int?
        var l3: Int?
        var kindRank: Int
    }

    /// The PUs `threads` threads take under `placement`, one per thread in thread order, among
    /// the PUs this process may use.
    ///
    /// - Throws: ``PlacementError`` when the machine cannot give them: fewer cores (or PUs) than
    ///   threads, a kind of core it does not have.
    public func place(threads: Int, _ placement: ThreadPlacement) throws(PlacementError) -> [PlacedThread] {
        guard threads >= 1 else { throw PlacementError("the thread count must be at least 1, got \(threads)") }
        let (cores, kinds) = try candidateCores(placement)
        let ordered = placement.policy == .close ? cores : spread(cores)
        let kindWords = kinds > 1 && placement.coreKind != .all ? " of kind \(placement.coreKind)" : ""
        var chosen: [(PlacementCore, Int)] = ordered.prefix(threads).map { ($0, $0.processingUnits[0]) }
        if threads > ordered.count {
            let pus = ordered.map(\.processingUnits.count).reduce(0, +)
            guard pus > ordered.count else {
                throw PlacementError(
                    "\(threads) threads, but \(ordered.count) usable core(s)\(kindWords) on this machine, with no SMT siblings"
                )
            }
            guard placement.places == .threads else {
                throw PlacementError(
                    "\(threads) threads, but \(ordered.count) usable core(s)\(kindWords) on this machine: one thread per core (places cores) leaves SMT siblings idle; --places threads uses them (\(pus) PUs)\(kinds > 1 && placement.coreKind != .all ? ", --cpu-kind all every kind" : "")"
                )
            }
            guard threads <= pus else {
                throw PlacementError(
                    "\(threads) threads, but \(pus) usable PU(s)\(kindWords) on this machine (\(ordered.count) cores)")
            }
            // Then the SMT siblings: each core's second PU, then its third, in the same order.
            var sibling = 1
            while chosen.count < threads {
                for core in ordered where core.processingUnits.count > sibling && chosen.count < threads {
                    chosen.append((core, core.processingUnits[sibling]))
                }
                sibling += 1
            }
        }
        return chosen.enumerated().map { thread, pair in
            PlacedThread(
                thread: thread, processingUnit: pair.1, core: pair.0.index, package: pair.0.package,
                numaNode: pair.0.numaNode, l3: pair.0.l3, kindRank: pair.0.kindRank)
        }
    }

    /// The PUs a measurement of `threads` threads binds to when none are named: the first PU of
    /// the last core this process may use for one thread (the first core stays free for the
    /// system), the PUs `placement` gives for more. The one default of `run`, `replicate` and
    /// `measure`.
    public func defaultProcessingUnits(threads: Int, _ placement: ThreadPlacement) throws(PlacementError) -> [Int] {
        guard threads > 1 else { return lastCore }
        return try place(threads: threads, placement).map(\.processingUnit).sorted()
    }

    /// The most threads `placement` can place here: the usable cores of its kind, or their PUs
    /// with places threads (0 for a kind the machine does not have).
    public func placeableThreads(_ placement: ThreadPlacement) -> Int {
        guard let cores = try? candidateCores(placement).cores else { return 0 }
        return placement.places == .cores ? cores.count : cores.map(\.processingUnits.count).reduce(0, +)
    }

    /// The usable cores of the kind `placement` asks for, in the topology's order (every kind:
    /// the fastest first), and how many kinds the machine has.
    func candidateCores(_ placement: ThreadPlacement) throws(PlacementError) -> (cores: [PlacementCore], kinds: Int) {
        let all = placementCores()
        let kinds = Set(all.map(\.kindRank)).count
        switch placement.coreKind {
        case .all: return (all.sorted { ($0.kindRank, $0.index) < ($1.kindRank, $1.index) }, kinds)
        case .fastest: return (all.filter { $0.kindRank == 0 }, kinds)
        case .rank(let rank):
            guard rank < kinds else {
                throw PlacementError(
                    "core kind \(rank) does not exist: this machine has \(kinds) kind(s) of core (0 the fastest)")
            }
            return (all.filter { $0.kindRank == rank }, kinds)
        }
    }

    /// `cores` dealt over the packages, within each over its NUMA nodes, within each over its L3
    /// domains: the first `n` of the result are as far apart as `n` cores can be.
    func spread(_ cores: [PlacementCore]) -> [PlacementCore] {
        func deal<Key: Hashable & Comparable>(
            _ cores: [PlacementCore], by key: (PlacementCore) -> Key, within: ([PlacementCore]) -> [PlacementCore]
        ) -> [PlacementCore] {
            let groups = Dictionary(grouping: cores, by: key).sorted { $0.key < $1.key }.map { within($0.value) }
            var result: [PlacementCore] = []
            var position = 0
            while result.count < cores.count {
                for group in groups where position < group.count { result.append(group[position]) }
                position += 1
            }
            return result
        }
        return deal(cores, by: \.package) { inPackage in
            deal(inPackage, by: { $0.numaNode ?? -1 }) { inNode in deal(inNode, by: { $0.l3 ?? -1 }) { $0 } }
        }
    }

    /// Every core with a PU this process may use, in the topology's order, with its usable PUs,
    /// package, NUMA node, L3 domain and kind (a topology without cores: each PU its own core).
    func placementCores() -> [PlacementCore] {
        let allowed = Set(allowedProcessingUnits)
        let kindRanks = coreKindRanks()
        let numaNodes = objects(HWLOC_OBJ_NUMANODE)
        let l3s = objects(HWLOC_OBJ_L3CACHE)
        let type = hwloc_get_nbobjs_by_type(handle, HWLOC_OBJ_CORE) > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU
        var cores: [PlacementCore] = []
        for index in 0..<Int(hwloc_get_nbobjs_by_type(handle, type)) {
            guard let core = hwloc_get_obj_by_type(handle, type, UInt32(index)) else { continue }
            let pus = CPUSet.indexes(of: core.pointee.cpuset).filter(allowed.contains)
            guard let first = pus.first else { continue }
            let package = hwloc_get_ancestor_obj_by_type(handle, HWLOC_OBJ_PACKAGE, core).map {
                Int($0.pointee.logical_index)
            }
            cores.append(
                PlacementCore(
                    index: index, processingUnits: pus, package: package ?? 0,
                    numaNode: numaNodes.first { $0.pus.contains(first) }?.index,
                    l3: l3s.first { $0.pus.contains(first) }?.index, kindRank: kindRanks[first] ?? 0))
        }
        return cores
    }

    /// Every object of `type` with its logical index and PUs.
    private func objects(_ type: hwloc_obj_type_t) -> [(index: Int, pus: Set<Int>)] {
        (0..<Int(max(0, hwloc_get_nbobjs_by_type(handle, type)))).compactMap { index in
            hwloc_get_obj_by_type(handle, type, UInt32(index)).map {
                (Int($0.pointee.logical_index), Set(CPUSet.indexes(of: $0.pointee.cpuset)))
            }
        }
    }

    /// The rank of each PU's kind of core, 0 the fastest (hwloc ranks kinds by efficiency, the
    /// most efficient, slowest, first); empty on a machine hwloc knows one kind of.
    func coreKindRanks() -> [Int: Int] {
        let count = Int(hwloc_cpukinds_get_nr(handle, 0))
        guard count > 1, let set = hwloc_bitmap_alloc() else { return [:] }
        defer { hwloc_bitmap_free(set) }
        var ranks: [Int: Int] = [:]
        for kind in 0..<count {
            var efficiency: Int32 = 0
            guard hwloc_cpukinds_get_info(handle, UInt32(kind), set, &efficiency, nil, nil, 0) == 0 else { continue }
            for pu in CPUSet.indexes(of: set) { ranks[pu] = count - 1 - kind }
        }
        return ranks
    }

    /// The kinds of core hwloc knows, the fastest first, each with its PUs (empty on a machine
    /// of one kind).
    public var coreKinds: [[Int]] {
        let ranks = coreKindRanks()
        guard let most = ranks.values.max() else { return [] }
        return (0...most).map { rank in ranks.filter { $0.value == rank }.map(\.key).sorted() }
    }

    /// Registers the PUs `pus` as a kind of core of `efficiency` (higher: faster), as hwloc does
    /// for a hybrid CPU: for describing such a machine, in tests and `--xml` files.
    public func registerCoreKind(_ pus: [Int], efficiency: Int) throws(TopologyError) {
        guard let set = hwloc_bitmap_alloc() else { throw TopologyError("hwloc could not allocate a bitmap") }
        defer { hwloc_bitmap_free(set) }
        for pu in pus { hwloc_bitmap_set(set, UInt32(pu)) }
        guard hwloc_cpukinds_register(handle, set, Int32(efficiency), 0, nil, 0) == 0 else {
            throw TopologyError("hwloc refused the core kind of PUs \(CPUSet.format(pus))")
        }
    }
}
