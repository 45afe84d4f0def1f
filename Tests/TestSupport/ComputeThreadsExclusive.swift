import Testing

/// A trait for tests that change the process's compute threads — measure in process (a run sets
/// its thread counts, the drift probe OpenBLAS's), or run a kernel on a team of threads: those
/// counts (`ComputeThreads`', OpenBLAS's, oneDNN's team) belong to the process, and every test
/// target runs in one process, so such tests run one at a time. A test of two threads run beside
/// a measurement that sets one would otherwise see its team shrink under it, or OpenBLAS's
/// threads called from two team threads at once.
public struct ComputeThreadsExclusive: TestTrait, SuiteTrait, TestScoping {
    /// Applies to every test of a suite it marks.
    public var isRecursive: Bool { true }

    /// Runs `function` once no other test holding this trait runs (each test case, not the suite
    /// around them, holds it).
    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        guard testCase != nil else { return try await function() }
        await ComputeThreadsGate.shared.acquire()
        do {
            try await function()
        } catch {
            await ComputeThreadsGate.shared.release()
            throw error
        }
        await ComputeThreadsGate.shared.release()
    }
}

extension Trait where Self == ComputeThreadsExclusive {
    /// The test (or every test of the suite) changes the process's compute threads: one such
    /// test at a time (``ComputeThreadsExclusive``).
    public static var computeThreadsExclusive: Self { Self() }
}

/// One holder at a time, the others waiting in order.
private actor ComputeThreadsGate {
    static let shared = ComputeThreadsGate()
    private var held = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        guard held else {
            held = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { held = false } else { waiting.removeFirst().resume() }
    }
}
