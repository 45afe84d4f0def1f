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
    /// `environment` with the idle threads of both libraries told to spin briefly, unless the
    /// user set it: oneDNN's OpenMP team (the lowering's and the depthwise kernel's team too)
    /// spins 20,000 rounds (`GOMP_SPINCOUNT=20000`, tens of microseconds, instead of libgomp's
    /// 300,000): back-to-back timed runs find it awake (with 0, sub-millisecond depthwise layers
    /// paid a wake-up a run: 2-thread speedups of 0.7–1.4 against 1.4–2.1), while the threads of
    /// OpenBLAS and the drift probe read after a round do not share a PU with a spinning thread
    /// (libgomp's default spin made experiment B's 3×3 layer 46.7 ms against 29.8 ms on 2 threads).
    /// libgomp reads it when it loads, so a process gets it from its parent (a worker process) or
    /// by starting itself again (``startQuietIfNeeded(threads:executable:)``). OpenBLAS's idle
    /// workers sleep after 2^20 cycles, about 0.4 ms (`OPENBLAS_THREAD_TIMEOUT=20`), not 2^28.
    public static func quietEnvironment(_ environment: [String: String]) -> [String: String] {
        var environment = environment
        if environment[spinVariable] == nil { environment[spinVariable] = "20000" }
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

    /// Splits `0 ..< count` into one contiguous range per thread of oneDNN's OpenMP team (the
    /// threads set last, bound by ``pin(_:)``; the calling thread takes the first) and runs `body`
    /// on each, returning when all have; at most `count / minimumPerThread` threads. One thread,
    /// or a build without oneDNN's runtime, runs `body(0 ..< count)` here.
    public static func split(_ count: Int, minimumPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
        split(count, minimumPerThread: minimumPerThread) { range, _ in body(range) }
    }

    /// The threads of oneDNN's OpenMP team a ``split(_:minimumPerThread:_:)`` runs on: the count
    /// ``setCount(_:)`` set last (1 until it is called: libgomp's own default, every PU, is not a
    /// count convsweep chose); 1 without oneDNN's runtime.
    public static var teamSize: Int { OneDNN.isAvailable ? count.withLock { $0 } : 1 }

    /// The count ``setCount(_:)`` set last.
    private static let count = Mutex(1)

    /// As ``split(_:minimumPerThread:_:)``, `body` also given its thread's number (0 for the
    /// calling thread; below ``teamSize``).
    public static func split(_ count: Int, minimumPerThread: Int = 1, _ body: (Range<Int>, Int) -> Void) {
        #if ONEDNN
            let threads = min(teamSize, count / max(1, minimumPerThread))
            if threads > 1 {
                let started = withoutActuallyEscaping(body) { part -> Bool in
                    var call = SplitCall(count: count, body: part)
                    return withUnsafeMutablePointer(to: &call) { pointer in
                        convsweep_dnnl_parallel(
                            { context, thread, threads in
                                let call = context!.assumingMemoryBound(to: SplitCall.self).pointee
                                let (t, n) = (Int(thread), Int(threads))
                                let range = (call.count * t / n)..<(call.count * (t + 1) / n)
                                if !range.isEmpty { call.body(range, t) }
                            }, pointer, Int32(threads)) == 0
                    }
                }
                if started { return }
            }
        #endif
        body(0..<count, 0)
    }

    /// What each thread of a ``split(_:minimumPerThread:_:)`` reads.
    private struct SplitCall {
        let count: Int
        let body: (Range<Int>, Int) -> Void
    }

    /// Sets the threads of OpenBLAS and of oneDNN's OpenMP team to `count`.
    public static func setCount(_ count: Int) {
        OpenBLAS.setThreadCount(count)
        OneDNN.setThreadCount(count)
        self.count.withLock { $0 = count }
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
    /// again, so the team is bound anew (not when the count is the one set last). Returns what
    /// could not be bound.
    public static func recount(_ count: Int) -> [String] {
        let units = pinned.withLock { $0 }
        // The same count as the last: its threads are set and still bound.
        if count == self.count.withLock({ $0 }) && count <= units.count { return [] }
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
