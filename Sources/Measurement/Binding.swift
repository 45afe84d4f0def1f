import Basics
import CHwloc

#if canImport(Glibc)
    import Glibc
#endif

/// The CPUs one thread of this process may run on, read from `/proc/self/task/TID/status`.
public struct ThreadAffinity: Codable, Hashable, Sendable {
    /// The kernel thread id.
    public var tid: Int
    /// The thread's name (`/proc/self/task/TID/comm`).
    public var name: String
    /// `Cpus_allowed_list`, as operating-system PU indexes.
    public var allowed: [Int]
    /// User and system CPU seconds the thread has used (`/proc/self/task/TID/stat`, utime + stime).
    public var cpuSeconds: Double?

    /// Thread `tid` called `name`, allowed on `allowed`, having used `cpuSeconds`.
    public init(tid: Int, name: String, allowed: [Int], cpuSeconds: Double?) {
        self.tid = tid
        self.name = name
        self.allowed = allowed
        self.cpuSeconds = cpuSeconds
    }
}

/// The binding of the whole process to a cpuset, and the evidence that it held.
public struct ProcessBinding: Codable, Hashable, Sendable {
    /// The PUs bound to (operating-system indexes).
    public var cpuset: [Int]
    /// How the binding was made.
    public var method: String
    /// Every thread of the process after binding, with its allowed CPUs.
    public var threads: [ThreadAffinity]
    /// Where the binding thread's memory (and its later threads') is allocated: the NUMA nodes of
    /// the cpuset; nil on a topology hwloc reports no NUMA node of, and in manifests written
    /// before memory was bound.
    public var memory: MemoryBinding?

    /// The NUMA binding of a process's memory, as read back from the operating system.
    public struct MemoryBinding: Codable, Hashable, Sendable {
        /// The NUMA nodes of the cpuset (operating-system indexes): memory is allocated there.
        public var nodes: [Int]
        /// hwloc's policy read back (`bind`), or `not bound` when the call failed.
        public var policy: String
        /// How it was made.
        public var method: String
        /// Why it could not be made, when it could not (the run goes on with the OS's default
        /// first-touch placement, and says so).
        public var problem: String?
    }

    /// How often ``bind(_:to:under:)`` lists the threads and binds those not yet bound.
    static let passes = 10

    /// Whether every thread may run only on ``cpuset``.
    public var held: Bool { !threads.isEmpty && threads.allSatisfy { $0.allowed == cpuset } }

    /// Whether the threads stay inside `cpuset`: bound to it, or a compute thread to a PU of it
    /// (``ComputeThreadCheck``).
    public static func inside(_ thread: ThreadAffinity, _ cpuset: [Int]) -> Bool {
        !thread.allowed.isEmpty && Set(thread.allowed).isSubset(of: cpuset)
    }

    /// Binds every thread of this process (OpenBLAS's workers included) to `cpuset`, then checks
    /// from `/proc/self/task/*/status` that each thread's allowed CPUs are exactly `cpuset`.
    ///
    /// The process is bound with `hwloc_set_cpubind(HWLOC_CPUBIND_PROCESS)`, then each thread
    /// listed under `/proc/self/task` with other allowed CPUs is bound with
    /// `hwloc_set_proc_cpubind(…, THREAD)`, listing again until none is left (at most ``passes``
    /// times), so that a thread hwloc missed, or one started meanwhile by a thread not yet bound,
    /// is caught. Threads created later inherit the binding.
    ///
    /// The binding is process-wide, so it is made only under a `lease` on the PUs
    /// (``ProcessingUnitLocks``): the lease keeps other processes off them and, inside this
    /// process, keeps a second binder (a parallel test, a second run) waiting until this one ends,
    /// instead of rebinding these threads to its own PUs under it.
    ///
    /// - Throws: ``TopologyError`` when the lease does not cover `cpuset`, or the binding fails or
    ///   does not hold on some thread.
    public static func bind(_ topology: Topology, to cpuset: [Int], under lease: ProcessingUnitLease) throws
        -> ProcessBinding
    {
        guard !cpuset.isEmpty else { throw TopologyError("cannot bind to an empty cpuset") }
        guard Set(cpuset).isSubset(of: lease.units) else {
            throw TopologyError(
                "cannot bind to cpuset \(CPUSet.format(cpuset)): the lease holds PU(s) \(CPUSet.format(lease.units)) only"
            )
        }
        _ = givenAffinity  // read before the first binding changes it

        let bitmap = CPUSet.bitmap(cpuset)
        defer { hwloc_bitmap_free(bitmap) }
        let list = CPUSet.format(cpuset)
        guard hwloc_set_cpubind(topology.handle, bitmap, Int32(HWLOC_CPUBIND_PROCESS.rawValue)) == 0
        else {
            throw TopologyError("hwloc could not bind the process to cpuset \(list): \(errnoText())")
        }
        // Bind every listed thread; then list again, since a thread may have started a new one
        // from its old binding while the first pass ran (a thread pool of the caller's, a parallel
        // test's): repeat until every thread holds the binding, a few passes at most. A pass reads
        // each thread's allowed CPUs only (a thread gone meanwhile counts as bound); the record
        // of every thread (name, CPU time) is read once, after.
        for _ in 0..<passes {
            let stray = taskIDs().filter { allowedCPUs(statusFile: "/proc/self/task/\($0)/status") ?? cpuset != cpuset }
            if stray.isEmpty { break }
            for tid in stray {
                if hwloc_set_proc_cpubind(
                    topology.handle, pid_t(tid), bitmap, Int32(HWLOC_CPUBIND_THREAD.rawValue)) != 0
                {
                    // A thread may have exited since the listing; only a live thread is an error.
                    if errno != ESRCH {
                        throw TopologyError("hwloc could not bind thread \(tid) to cpuset \(list): \(errnoText())")
                    }
                }
            }
        }
        let binding = ProcessBinding(
            cpuset: cpuset,
            method:
                "hwloc_set_cpubind(HWLOC_CPUBIND_PROCESS), then hwloc_set_proc_cpubind(HWLOC_CPUBIND_THREAD) on every /proc/self/task entry not yet bound, until none is left",
            threads: currentThreads(), memory: bindMemory(topology, near: cpuset))
        guard binding.held else {
            let offenders = binding.threads.filter { $0.allowed != cpuset }
                .map { "\($0.tid) (\($0.name)): \(CPUSet.format($0.allowed))" }
            throw TopologyError(
                "the binding to cpuset \(list) did not hold on thread(s) " + offenders.joined(separator: ", "))
        }
        return binding
    }

    /// The NUMA nodes whose PUs meet `cpuset` (operating-system indexes, ascending).
    public static func numaNodes(_ topology: Topology, of cpuset: [Int]) -> [Int] {
        let wanted = Set(cpuset)
        let count = Int(max(0, hwloc_get_nbobjs_by_type(topology.handle, HWLOC_OBJ_NUMANODE)))
        return (0..<count).compactMap { index -> Int? in
            guard let node = hwloc_get_obj_by_type(topology.handle, HWLOC_OBJ_NUMANODE, UInt32(index)) else {
                return nil
            }
            return wanted.isDisjoint(with: CPUSet.indexes(of: node.pointee.cpuset)) ? nil : Int(node.pointee.os_index)
        }.sorted()
    }

    /// Binds the calling thread's memory, and that of the threads it starts later, to the NUMA
    /// nodes of `cpuset` (`hwloc_set_membind`, `HWLOC_MEMBIND_BIND`: the tensors, workspaces and
    /// the OpenMP team's stacks are allocated there, not wherever a page was first touched), and
    /// reads the binding back. nil on a topology without NUMA nodes.
    static func bindMemory(_ topology: Topology, near cpuset: [Int]) -> MemoryBinding? {
        let nodes = numaNodes(topology, of: cpuset)
        guard !nodes.isEmpty, let nodeset = hwloc_bitmap_alloc() else { return nil }
        defer { hwloc_bitmap_free(nodeset) }
        for node in nodes { hwloc_bitmap_set(nodeset, UInt32(node)) }
        let method =
            "hwloc_set_membind(HWLOC_MEMBIND_BIND, HWLOC_MEMBIND_BYNODESET) on the binding thread (its later threads inherit it), read back with hwloc_get_membind"
        let flags = Int32(HWLOC_MEMBIND_BYNODESET.rawValue)
        guard hwloc_set_membind(topology.handle, nodeset, HWLOC_MEMBIND_BIND, flags) == 0 else {
            return MemoryBinding(nodes: nodes, policy: "not bound", method: method, problem: errnoText())
        }
        guard let read = hwloc_bitmap_alloc() else { return nil }
        defer { hwloc_bitmap_free(read) }
        var policy = HWLOC_MEMBIND_DEFAULT
        guard hwloc_get_membind(topology.handle, read, &policy, flags) == 0 else {
            return MemoryBinding(
                nodes: nodes, policy: "unknown", method: method, problem: "hwloc_get_membind: \(errnoText())")
        }
        let readNodes = CPUSet.indexes(of: read).sorted()
        let name = policy == HWLOC_MEMBIND_BIND ? "bind" : "policy \(policy.rawValue)"
        return MemoryBinding(
            nodes: nodes, policy: name, method: method,
            problem: readNodes == nodes && policy == HWLOC_MEMBIND_BIND
                ? nil : "read back as \(name) on node(s) \(readNodes.map(String.init).joined(separator: ","))")
    }

    /// The kernel thread ids of this process, from `/proc/self/task`.
    public static func taskIDs() -> [Int] {
        guard let directory = opendir("/proc/self/task") else { return [] }
        defer { closedir(directory) }
        var ids: [Int] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if let id = Int(name) { ids.append(id) }
        }
        return ids.sorted()
    }

    /// The CPUs this process was given (a `taskset`, a Slurm task's affinity, else every CPU its
    /// cgroups allow), read from `/proc/self/status` once, before convsweep's first binding: a
    /// later run in the same process may use what the process was given, not only what an
    /// earlier run bound it to. Empty when it cannot be read.
    public static let givenAffinity: [Int] = allowedCPUs(statusFile: "/proc/self/status") ?? []

    /// The `Cpus_allowed_list` of a `/proc/…/status` file.
    private static func allowedCPUs(statusFile: String) -> [Int]? {
        guard let status = SystemFile.read(statusFile),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") })
        else { return nil }
        return try? CPUSet.parse(String(line.dropFirst("Cpus_allowed_list:".count)))
    }

    /// Every thread of this process with its allowed CPUs, read from `/proc/self/task/*/status`.
    public static func currentThreads() -> [ThreadAffinity] {
        taskIDs().compactMap { tid in
            guard let allowed = allowedCPUs(statusFile: "/proc/self/task/\(tid)/status") else { return nil }
            let name = (SystemFile.read("/proc/self/task/\(tid)/comm"))?.trimmed ?? ""
            return ThreadAffinity(tid: tid, name: name, allowed: allowed, cpuSeconds: cpuSeconds(tid: tid))
        }
    }
}

/// utime + stime of thread `tid` in seconds: fields 14 and 15 of its stat line, counted after the
/// parenthesised name (which may hold spaces).
private func cpuSeconds(tid: Int) -> Double? {
    guard let stat = SystemFile.read("/proc/self/task/\(tid)/stat"), let close = stat.lastIndex(of: ")") else {
        return nil
    }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // fields[0] is the state (field 3); utime and stime are fields 14 and 15.
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

func errnoText() -> String { errorText(errno) }

/// Which threads computed, and whether each computed on a PU of its own: the check of
/// ``ComputeThreads`` (in ConvKernels) that a run records per session.
public enum ComputeThreadCheck {
    /// The threads that computed: those with at least a tenth of the busiest thread's CPU time,
    /// the busiest first.
    public static func computing(_ threads: [ThreadAffinity]) -> [ThreadAffinity] {
        let busiest = threads.compactMap(\.cpuSeconds).max() ?? 0
        guard busiest > 0 else { return [] }
        return threads.filter { ($0.cpuSeconds ?? 0) >= busiest / 10 }
            .sorted { ($0.cpuSeconds ?? 0) > ($1.cpuSeconds ?? 0) }
    }

    /// What is wrong with `threads` of a process whose compute threads were bound one to each of
    /// `units`: a computing thread allowed more than one PU, or one outside `units`, in words
    /// naming the thread (empty when each is on its own PU of `units`).
    public static func problems(_ threads: [ThreadAffinity], pinnedTo units: [Int]) -> [String] {
        let allowed = Set(units)
        return computing(threads).compactMap { thread in
            guard thread.allowed.count != 1 || !allowed.contains(thread.allowed[0]) else { return nil }
            return
                "compute thread \(thread.tid) (\(thread.name), \(String(format: "%.2f", thread.cpuSeconds ?? 0)) CPU s) ran on \(CPUSet.format(thread.allowed)), not on a PU of its own among \(CPUSet.format(units))"
        }
    }
}
