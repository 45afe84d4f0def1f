import Basics
import CHwloc

#if canImport(Glibc)
    import Glibc
#endif

/// Why the machine's topology cannot be read or a cpuset cannot be used.
public struct TopologyError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, in one sentence.
    public var message: String
    /// An error saying `message`.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

/// One level of cache, as hwloc reports it.
public struct CacheLevel: Codable, Hashable, Sendable {
    /// 1, 2, 3 …
    public var level: Int
    /// `unified`, `data` or `instruction`.
    public var kind: String
    /// Size of one cache of this level, in bytes.
    public var sizeBytes: Int
    /// Cache line size, in bytes.
    public var lineBytes: Int
    /// How many caches of this level the machine has.
    public var count: Int
    /// Processing units sharing one cache of this level.
    public var processingUnitsPerCache: Int
}

/// The machine as hwloc sees it: packages, cores, processing units (PUs) and caches.
///
/// A `Topology` owns an `hwloc_topology_t` loaded at init. CPU sets are lists of operating-system
/// PU indexes, as in `/proc/*/status` (`Cpus_allowed_list`) and `taskset -c`.
public final class Topology {
    /// The underlying hwloc topology (valid for the lifetime of `self`).
    public let handle: hwloc_topology_t

    /// Loads the topology of the machine this process runs on.
    public init() throws {
        var topology: hwloc_topology_t?
        guard hwloc_topology_init(&topology) == 0, let topology else {
            throw TopologyError("hwloc could not initialise a topology")
        }
        guard hwloc_topology_load(topology) == 0 else {
            hwloc_topology_destroy(topology)
            throw TopologyError("hwloc could not load the machine's topology")
        }
        handle = topology
        isThisMachine = true
        // The CPUs the process may run on when it starts: a `taskset`, or a Slurm task's affinity
        // (task/affinity sets it without cgroups, which hwloc's allowed set would show) — as given
        // to the process, not as an earlier run in it bound it.
        if !ProcessBinding.givenAffinity.isEmpty {
            startingAffinity = ProcessBinding.givenAffinity
        } else if let set = hwloc_bitmap_alloc() {
            if hwloc_get_cpubind(topology, set, Int32(HWLOC_CPUBIND_PROCESS.rawValue)) == 0 {
                startingAffinity = CPUSet.indexes(of: set)
            }
            hwloc_bitmap_free(set)
        }
    }

    /// A topology described rather than read off this machine: hwloc's synthetic description
    /// (`pack:2 numa:4 l3:2 core:8 pu:2`) or its XML export of another machine. Every PU of it is
    /// usable; nothing can be bound to it.
    public enum Description: Sendable, Equatable {
        /// hwloc's synthetic syntax.
        case synthetic(String)
        /// hwloc's XML export (the text).
        case xml(String)
    }

    /// Whether this is the topology of the machine this process runs on (not a ``Description``).
    public let isThisMachine: Bool

    /// Loads the topology `description` describes.
    ///
    /// - Throws: ``TopologyError`` saying why hwloc refuses the description.
    public init(_ description: Description) throws(TopologyError) {
        var topology: hwloc_topology_t?
        guard hwloc_topology_init(&topology) == 0, let topology else {
            throw TopologyError("hwloc could not initialise a topology")
        }
        let accepted: Bool
        switch description {
        case .synthetic(let text):
            accepted = hwloc_topology_set_synthetic(topology, text) == 0
        case .xml(let text):
            let bytes = Array(text.utf8CString)
            accepted = bytes.withUnsafeBufferPointer {
                hwloc_topology_set_xmlbuffer(topology, $0.baseAddress, Int32(bytes.count)) == 0
            }
        }
        guard accepted, hwloc_topology_load(topology) == 0,
            hwloc_get_nbobjs_by_type(topology, HWLOC_OBJ_PU) > 0
        else {
            hwloc_topology_destroy(topology)
            switch description {
            case .synthetic(let text):
                throw TopologyError(
                    "\"\(text)\" is not a topology in hwloc's synthetic syntax (for example \"pack:2 numa:4 l3:2 core:8 pu:2\")"
                )
            case .xml: throw TopologyError("not a topology hwloc can read (hwloc's XML export)")
            }
        }
        handle = topology
        isThisMachine = false
    }

    deinit { hwloc_topology_destroy(handle) }

    /// Checks that `xml` is a topology hwloc reads (its own XML export of a machine with at least
    /// one PU), as a package's or run's `topology.xml` must be; the number of PUs it holds.
    ///
    /// - Throws: ``TopologyError`` saying why hwloc refuses it.
    public static func checkXML(_ xml: String) throws(TopologyError) -> Int {
        var topology: hwloc_topology_t?
        guard hwloc_topology_init(&topology) == 0, let topology else {
            throw TopologyError("hwloc could not initialise a topology")
        }
        defer { hwloc_topology_destroy(topology) }
        let bytes = Array(xml.utf8CString)
        let accepted = bytes.withUnsafeBufferPointer {
            hwloc_topology_set_xmlbuffer(topology, $0.baseAddress, Int32(bytes.count)) == 0
        }
        guard accepted, hwloc_topology_load(topology) == 0 else {
            throw TopologyError("not a topology hwloc can read (hwloc's XML export)")
        }
        let units = Int(hwloc_get_nbobjs_by_type(topology, HWLOC_OBJ_PU))
        guard units > 0 else { throw TopologyError("a topology without processing units") }
        return units
    }

    /// hwloc's version, from the library loaded at run time (e.g. `2.9.0`).
    public static var hwlocVersion: String {
        let v = hwloc_get_api_version()
        return "\(v >> 16).\((v >> 8) & 0xff).\(v & 0xff)"
    }

    private func count(_ type: hwloc_obj_type_t) -> Int {
        Int(hwloc_get_nbobjs_by_type(handle, type))
    }

    /// Physical packages (sockets).
    public var packageCount: Int { count(HWLOC_OBJ_PACKAGE) }
    /// Physical cores.
    public var coreCount: Int { count(HWLOC_OBJ_CORE) }
    /// NUMA nodes.
    public var numaNodeCount: Int { count(HWLOC_OBJ_NUMANODE) }
    /// Processing units (hardware threads).
    public var processingUnitCount: Int { count(HWLOC_OBJ_PU) }

    /// Operating-system indexes of every PU of the machine.
    public var allProcessingUnits: [Int] {
        CPUSet.indexes(of: hwloc_topology_get_topology_cpuset(handle))
    }

    /// The CPUs the process was given (``ProcessBinding/givenAffinity``), else its CPU binding
    /// when the topology was loaded (empty if neither could be read).
    public private(set) var startingAffinity: [Int] = []

    /// Operating-system indexes of the PUs this process may use: those its cgroups allow (hwloc),
    /// within the affinity it started with (`taskset`, a Slurm task's CPUs).
    public var allowedProcessingUnits: [Int] {
        guard isThisMachine else { return allProcessingUnits }
        let allowed = CPUSet.indexes(of: hwloc_topology_get_allowed_cpuset(handle))
        let affinity = Set(startingAffinity)
        let both = allowed.filter(affinity.contains)
        return both.isEmpty ? allowed : both
    }

    /// The CPU model string (hwloc's `CPUModel` info, else `/proc/cpuinfo`'s `model name`).
    public var cpuModel: String {
        if let package = hwloc_get_obj_by_type(handle, HWLOC_OBJ_PACKAGE, 0),
            let model = hwloc_obj_get_info_by_name(package, "CPUModel")
        {
            return String(cString: model)
        }
        if let cpuinfo = SystemFile.read("/proc/cpuinfo") {
            for line in cpuinfo.split(separator: "\n") where line.hasPrefix("model name") {
                if let colon = line.firstIndex(of: ":") {
                    return line[line.index(after: colon)...].trimmed
                }
            }
        }
        return "unknown"
    }

    /// Every cache level of the machine, smallest level first.
    public var caches: [CacheLevel] {
        let types: [hwloc_obj_type_t] = [
            HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L1ICACHE, HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L3CACHE,
            HWLOC_OBJ_L4CACHE, HWLOC_OBJ_L5CACHE,
        ]
        var levels: [CacheLevel] = []
        for type in types {
            let n = count(type)
            guard n > 0, let object = hwloc_get_obj_by_type(handle, type, 0),
                let attributes = object.pointee.attr
            else { continue }
            let cache = attributes.pointee.cache
            let kind: String
            switch cache.type.rawValue {
            case HWLOC_OBJ_CACHE_DATA.rawValue: kind = "data"
            case HWLOC_OBJ_CACHE_INSTRUCTION.rawValue: kind = "instruction"
            default: kind = "unified"
            }
            let pus = Int(hwloc_bitmap_weight(object.pointee.cpuset))
            levels.append(
                CacheLevel(
                    level: Int(cache.depth), kind: kind, sizeBytes: Int(cache.size),
                    lineBytes: Int(cache.linesize), count: n, processingUnitsPerCache: pus))
        }
        return levels
    }

    /// The size in bytes of the largest (last-level) cache, or 0 when hwloc reports none.
    public var lastLevelCacheBytes: Int {
        caches.filter { $0.kind != "instruction" }.map(\.sizeBytes).max() ?? 0
    }

    /// The default binding: the first PU of the last core of the machine, so that the first
    /// core stays free for the system. Restricted to the PUs this process is allowed to use.
    public var lastCore: [Int] {
        let allowed = Set(allowedProcessingUnits)
        var index = coreCount - 1
        while index >= 0 {
            if let core = hwloc_get_obj_by_type(handle, HWLOC_OBJ_CORE, UInt32(index)) {
                if let pu = CPUSet.indexes(of: core.pointee.cpuset).first(where: allowed.contains) {
                    return [pu]
                }
            }
            index -= 1
        }
        return allowedProcessingUnits.last.map { [$0] } ?? []
    }

    /// Parses a CPU list such as `3`, `2-3` or `0,2-3` and checks every PU exists on this machine
    /// and may be used by this process.
    ///
    /// - Throws: ``TopologyError`` for a malformed list, or one naming PUs this machine lacks.
    public func cpuset(parsing list: String) throws -> [Int] {
        let requested = try CPUSet.parse(list)
        let machine = Set(allProcessingUnits)
        let missing = requested.filter { !machine.contains($0) }
        if !missing.isEmpty {
            throw TopologyError(
                "cpuset \(list) names PU \(CPUSet.format(missing)), not on this machine "
                    + "(its PUs are \(CPUSet.format(allProcessingUnits)))")
        }
        let allowed = Set(allowedProcessingUnits)
        let forbidden = requested.filter { !allowed.contains($0) }
        if !forbidden.isEmpty {
            throw TopologyError(
                "cpuset \(list) names PU \(CPUSet.format(forbidden)), which this process may not use "
                    + "(allowed: \(CPUSet.format(allowedProcessingUnits)))")
        }
        return requested
    }

    /// hwloc's XML export of the topology.
    public func exportXML() throws -> String {
        var buffer: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        guard hwloc_topology_export_xmlbuffer(handle, &buffer, &length, 0) == 0, let buffer else {
            throw TopologyError("hwloc could not export the topology as XML")
        }
        defer { hwloc_free_xmlbuffer(handle, buffer) }
        return String(cString: buffer)
    }
}

/// CPU lists (`0,2-3`) and hwloc bitmaps.
public enum CPUSet {
    /// The set bits of an hwloc bitmap, ascending.
    public static func indexes(of bitmap: hwloc_const_bitmap_t?) -> [Int] {
        guard let bitmap else { return [] }
        var result: [Int] = []
        var index = hwloc_bitmap_first(bitmap)
        while index >= 0 {
            result.append(Int(index))
            index = hwloc_bitmap_next(bitmap, index)
        }
        return result
    }

    /// A new hwloc bitmap holding `indexes` (free it with `hwloc_bitmap_free`).
    public static func bitmap(_ indexes: [Int]) -> hwloc_bitmap_t {
        let bitmap = hwloc_bitmap_alloc()!
        for index in indexes { hwloc_bitmap_set(bitmap, UInt32(index)) }
        return bitmap
    }

    /// Parses a Linux CPU list (`3`, `0-1`, `0,2-3`) into ascending, distinct indexes.
    public static func parse(_ list: String) throws -> [Int] {
        let text = list.trimmed
        guard !text.isEmpty else { throw TopologyError("empty cpuset") }
        var result = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count),
                let low = Int(bounds[0]), low >= 0,
                let high = Int(bounds[bounds.count - 1]), high >= low, high < 1 << 16
            else {
                throw TopologyError("malformed cpuset \"\(list)\" (expected a list such as 3, 2-3 or 0,2-3)")
            }
            for i in low...high { result.insert(i) }
        }
        return result.sorted()
    }

    /// Formats indexes as a compact Linux CPU list (`0,2-3`).
    public static func format(_ indexes: [Int]) -> String {
        let sorted = Array(Set(indexes)).sorted()
        var parts: [String] = []
        var i = 0
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }
}
