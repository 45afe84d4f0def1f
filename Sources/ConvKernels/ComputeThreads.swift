import COpenBLAS
import Foundation
import Synchronization

#if ONEDNN
    import CDnnl
#endif

/// The threads that compute a kernel, each bound to a PU of its own: OpenBLAS's workers, oneDNN's
/// OpenMP team and the calling thread (which both libraries count as their thread 0). Binding the
/// process to a set of PUs lets the kernel's threads wander inside it; this gives thread t the PU
/// `units[t]`, as `OMP_PROC_BIND=close` with `OMP_PLACES` would, for both libraries at once.
public enum ComputeThreads {
    /// `environment` with oneDNN's OpenMP runtime told not to spin between parallel regions
    /// (`GOMP_SPINCOUNT=0`) unless the user set it: its spinning threads take the PUs OpenBLAS's
    /// threads and the lowering need (experiment B's 3×3 layer on 2 threads: 46.7 ms with the
    /// default spin against 29.8 ms without, oneDNN's own time unchanged; docs/benchmarks.md).
    /// libgomp reads it when it loads, so a process gets it from its parent (a worker process) or
    /// by starting itself again (``startQuietIfNeeded(threads:)``).
    /// OpenBLAS's workers are told to sleep 2^20 cycles (about 0.4 ms) after their last call
    /// (`OPENBLAS_THREAD_TIMEOUT=20`, unless the user set it) instead of spinning 2^28 (about
    /// 0.1 s): back-to-back timed calls still find them awake, but the drift probe read after a
    /// round does not share a PU with a spinning worker.
    public static func quietEnvironment(_ environment: [String: String]) -> [String: String] {
        var environment = environment
        if environment[spinVariable] == nil { environment[spinVariable] = "0" }
        if environment[openBLASTimeoutVariable] == nil { environment[openBLASTimeoutVariable] = "20" }
        return environment
    }

    /// The variable OpenBLAS reads how long its idle workers spin from (log2 of cycles, 4 … 30).
    public static let openBLASTimeoutVariable = "OPENBLAS_THREAD_TIMEOUT"

    /// The variable libgomp reads its spin count from.
    public static let spinVariable = "GOMP_SPINCOUNT"

    /// For `threads` > 1 in a process whose OpenMP runtime spins (``spinVariable`` unset): starts
    /// this executable again, with the same arguments and ``quietEnvironment(_:)`` (`execv`: the
    /// same process id, nothing locked or written yet). Returns only when there is nothing to do
    /// or the exec failed.
    public static func startQuietIfNeeded(threads: Int, executable: String) {
        guard threads > 1, getenv(spinVariable) == nil || getenv(openBLASTimeoutVariable) == nil else { return }
        for (name, value) in quietEnvironment([:]) where getenv(name) == nil { setenv(name, value, 1) }
        execv(executable, CommandLine.unsafeArgv)
    }

    /// Sets the threads of OpenBLAS and of oneDNN's OpenMP team to `count`.
    public static func setCount(_ count: Int) {
        OpenBLAS.setThreadCount(count)
        OneDNN.setThreadCount(count)
    }

    /// Sets `count` threads (``setCount(_:)``) and binds them to the first `count` of `units`
    /// (``pin(_:)``; one thread is left to the process's binding). Returns what could not be bound.
    public static func start(_ count: Int, on units: [Int]) -> [String] {
        setCount(count)
        return pin(count > 1 ? Array(units.prefix(count)) : [])
    }

    /// Sets `count` threads, as ``start(_:on:)`` does, on the first `count` PUs of those pinned
    /// last (a run of several counts pins the most once, then measures each count on the first of
    /// them). libgomp ends the threads of a team that shrinks and starts new ones when it grows
    /// again, so the team is bound anew. Returns what could not be bound.
    public static func recount(_ count: Int) -> [String] {
        let units = pinned.withLock { $0 }
        guard count <= units.count else {
            setCount(count)
            return ["\(count) threads but \(units.count) PU(s) pinned"]
        }
        return start(count, on: units)
    }

    /// The PUs of the last ``pin(_:)`` of more than one thread.
    private static let pinned = Mutex<[Int]>([])

    /// Binds the calling thread to `units[0]`, OpenBLAS's workers and oneDNN's team's threads
    /// 1 … n-1 to `units[1]` … `units[n-1]`, for the `units.count` threads set last
    /// (``OpenBLAS/setThreadCount(_:)``, ``OneDNN/setThreadCount(_:)``). Returns what could not
    /// be bound, in words (empty when every thread was).
    public static func pin(_ units: [Int]) -> [String] {
        guard units.count > 1 else { return [] }
        pinned.withLock { if units.count >= $0.count { $0 = units } }
        var problems: [String] = []
        let count = units.count
        // OpenBLAS: thread indexes 0 … n-2 are its workers, n-1 the calling thread.
        for worker in 0..<(count - 1) where convsweep_openblas_pin(Int32(worker), Int32(units[worker + 1])) != 0 {
            problems.append("OpenBLAS worker \(worker) could not be bound to PU \(units[worker + 1])")
        }
        if convsweep_openblas_pin(Int32(count - 1), Int32(units[0])) != 0 {
            problems.append("the measuring thread could not be bound to PU \(units[0])")
        }
        #if ONEDNN
            let failed = units.map(Int32.init).withUnsafeBufferPointer {
                convsweep_dnnl_pin_team($0.baseAddress, Int32(count))
            }
            if failed < 0 {
                problems.append("oneDNN's OpenMP team could not be bound: libgomp's GOMP_parallel is not loaded")
            } else if failed > 0 {
                problems.append("\(failed) thread(s) of oneDNN's OpenMP team could not be bound")
            }
        #endif
        return problems
    }
}
