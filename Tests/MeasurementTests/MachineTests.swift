import Basics
import ConvKernels
import Foundation
import TestSupport
import Testing

@testable import Measurement

@Suite(.serialized, .computeThreadsExclusive) struct MachineTests {
    @Test func cpuListsParseAndFormat() throws {
        #expect(try CPUSet.parse("3") == [3])
        #expect(try CPUSet.parse("0,2-3") == [0, 2, 3])
        #expect(try CPUSet.parse(" 1-1 ") == [1])
        #expect(CPUSet.format([0, 2, 3, 5, 6, 7]) == "0,2-3,5-7")
        for bad in ["", "a", "3-1", "-1", "1,,2", "1-2-3"] {
            #expect(throws: TopologyError.self, "\(bad)") { try CPUSet.parse(bad) }
        }
    }

    @Test func topologyDescribesThisMachine() throws {
        let topology = try Topology()
        #expect(topology.coreCount >= 1)
        #expect(topology.processingUnitCount >= topology.coreCount)
        #expect(topology.allProcessingUnits.count == topology.processingUnitCount)
        #expect(topology.lastCore.count == 1)
        #expect(topology.allowedProcessingUnits.contains(topology.lastCore[0]))
        #expect(!topology.cpuModel.isEmpty)
        let xml = try topology.exportXML()
        #expect(xml.contains("<topology"))
    }

    @Test func aCpusetWithoutAPUOfThisMachineIsRefused() throws {
        let topology = try Topology()
        #expect(throws: TopologyError.self) { try topology.cpuset(parsing: "4000") }
        #expect(throws: TopologyError.self) { try topology.cpuset(parsing: "x") }
        #expect(try topology.cpuset(parsing: CPUSet.format(topology.lastCore)) == topology.lastCore)
    }

    /// Every thread — the test runner's, OpenBLAS's workers, and one started before binding —
    /// has exactly the bound core as its allowed CPUs when the binding returns. (Afterwards this
    /// shared test process's other tests may start or pin threads of their own: a run's process
    /// has no such neighbours, and `run`'s manifest records its threads as bound.)
    @Test func bindingHoldsOnEveryThreadOfTheProcess() throws {
        let topology = try Topology()
        _ = OpenBLAS.threadCount  // OpenBLAS has started its workers when it loaded.
        let original = topology.allowedProcessingUnits
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let thread = Thread {
            Thread.current.name = "bind-helper"  // as /proc names it (15 characters at most)
            started.signal()
            release.wait()
        }
        thread.start()
        started.wait()
        // The whole process is bound, so under a lease on every PU (a run of a parallel test
        // waits for it instead of finding its threads rebound).
        let lease = try ProcessingUnitLocks.acquire(original, waitLimit: 600)
        defer {
            release.signal()
            _ = try? ProcessBinding.bind(topology, to: original, under: lease)
            lease.release()
        }
        let core = topology.lastCore
        #expect(throws: TopologyError.self, "a cpuset beyond the lease is refused") {
            try ProcessBinding.bind(
                topology, to: core, under: ProcessingUnitLease(units: [], descriptors: [], environmentValue: nil))
        }
        let binding = try ProcessBinding.bind(topology, to: core, under: lease)
        #expect(binding.held)
        // Memory bound to the core's NUMA node, read back from the operating system.
        if topology.numaNodeCount > 0 {
            let memory = try #require(binding.memory)
            #expect(memory.nodes == ProcessBinding.numaNodes(topology, of: core) && !memory.nodes.isEmpty)
            #expect(memory.policy == "bind" && memory.problem == nil, "\(memory)")
        }
        // Every thread the binding listed holds it: the record is of the whole process at that
        // moment (threads other tests start or pin later, in this shared test process, are not
        // the binding's to answer for; a run's process holds only its own).
        #expect(binding.threads.count >= 2)
        for thread in binding.threads {
            #expect(thread.allowed == core, "thread \(thread.tid) (\(thread.name)) may run on \(thread.allowed)")
        }
        // The idle thread started before the binding is among them, and still bound.
        let helper = try #require(binding.threads.first { $0.name == "bind-helper" })
        #expect(ProcessBinding.currentThreads().first { $0.tid == helper.tid }?.allowed == core)
        // A topology loaded after the binding (the next run of this process) still allows every
        // PU the process was given, not only the one it was bound to.
        let next = try Topology()
        #expect(next.allowedProcessingUnits == original)
        #expect(try next.cpuset(parsing: CPUSet.format(original)) == original)
    }

    @Test func theProbeReadsOnUntilItsReferenceIsAcceptedOrTimeRunsOut() {
        let probe = DriftProbe()
        // A calibration in a phase at a fifth of the speed, then full speed: reading on must lift the
        // reference past 2.5 times it, half the rate the machine had at calibration, so that a
        // shared host slower by a third during the test still shows it.
        probe.rateScale = 0.2
        let slow = probe.calibrate(seconds: 0.05)
        probe.rateScale = 1
        let again = probe.recalibrate(forUpTo: 60) { $0 > 2.5 * slow }
        #expect(again > 2.5 * slow, "reading on at full speed lifts the reference (90th percentile of best calls)")
        // No wall-clock bound (a loaded machine may be slow): the behaviour, from the readings.
        let accepted = probe.readings.count
        #expect(probe.recalibrate(forUpTo: 60) { _ in true } == again, "an accepted reference is not read again")
        #expect(probe.readings.count == accepted)
        let first = probe.readings.count
        probe.recalibrate(forUpTo: 0.2) { _ in false }
        let taken = probe.readings[first...]
        #expect(!taken.isEmpty, "a reference never accepted is read on for the whole budget")
        // Every reading starts within the budget: it never starts one past its time.
        #expect(taken.last!.seconds - taken.first!.seconds < 0.2, "and never starts a reading past its time")
    }

    @Test func timerCalibrationIsPlausible() {
        let calibration = TimerCalibration.measure(blocks: 21, readingsPerBlock: 200)
        #expect(calibration.reportedResolutionNs > 0)
        #expect(calibration.measuredResolutionNs > 0 && calibration.measuredResolutionNs < 1e6)
        #expect(calibration.overheadNs > 0 && calibration.overheadNs < 1e5)
    }

    @Test func environmentIsCaptured() throws {
        let topology = try Topology()
        let environment = EnvironmentSnapshot.capture(topology: topology, cpuset: topology.lastCore)
        #expect(environment.kernel.hasPrefix("Linux"))
        #expect(!environment.hostName.isEmpty)
        #expect(environment.cores == topology.coreCount)
        #expect(environment.loadAverage.count == 3)
        #expect(environment.openBLASVersion != "unknown")
        #expect(environment.buildConfiguration == "debug" || environment.buildConfiguration == "release")
        // The clone of the depthwise kernel: AVX2 with FMA or better where the CPU has them.
        let flags = SystemFile.read("/proc/cpuinfo") ?? ""
        let own = try #require(environment.ownKernels)
        #expect(["x86-64-v4", "x86-64-v3", "baseline"].contains(own))
        if flags.contains(" avx2") && flags.contains(" fma") && flags.contains(" movbe") { #expect(own != "baseline") }
        if !flags.contains(" avx512f") { #expect(own != "x86-64-v4") }
        let warnings = environment.warnings(busyThreshold: 0)
        #expect(warnings.contains { $0.hasPrefix("busy machine") })
        let data = try JSONEncoder().encode(environment)
        #expect(try JSONDecoder().decode(EnvironmentSnapshot.self, from: data) == environment)
    }

    @Test func evictionBufferIsTwiceTheLastLevelCache() {
        let evictor = CacheEvictor(lastLevelCacheBytes: 1 << 20)
        #expect(evictor.bytes == 2 << 20)
        // Each eviction stores into every 64-byte line of the buffer, the last line included.
        #expect(evictor.evict() == (2 << 20) / 64)
        #expect(evictor.evict() == (2 << 20) / 64)
        let lines = (2 << 20) / 64
        #expect((0..<lines).allSatisfy { evictor.lastEviction(ofLine: $0) == 2 })
        #expect(CacheEvictor(lastLevelCacheBytes: 0).bytes == 64 << 20)
    }
}

/// OpenBLAS 0.3.21 falls back to its Prescott kernels on an Intel Xeon it does not know (family 6,
/// model 207): 32 against 154 GFLOP/s with SkylakeX on a 1024³ GEMM there. The run must say so.
@Test func aKernelSetWithoutAVXOnAnAVXCPUIsAWarningNamingTheSetToAskFor() {
    let avx512: Set = ["fma", "avx2", "avx512f", "avx512bw", "avx512vl"]
    let advice = EnvironmentSnapshot.kernelSetAdvice(openBLASCore: "Prescott", cpuFlags: avx512, chosen: nil)
    #expect(advice?.contains("OPENBLAS_CORETYPE=SkylakeX") == true, "\(advice ?? "none")")
    let avx2 = EnvironmentSnapshot.kernelSetAdvice(openBLASCore: "Nehalem", cpuFlags: ["fma", "avx2"], chosen: "")
    #expect(avx2?.contains("OPENBLAS_CORETYPE=Haswell") == true)
    // Chosen by the user (to measure those kernels), a CPU without AVX, or an AVX kernel set: nothing.
    #expect(EnvironmentSnapshot.kernelSetAdvice(openBLASCore: "Nehalem", cpuFlags: avx512, chosen: "Nehalem") == nil)
    #expect(EnvironmentSnapshot.kernelSetAdvice(openBLASCore: "Prescott", cpuFlags: ["sse3"], chosen: nil) == nil)
    #expect(EnvironmentSnapshot.kernelSetAdvice(openBLASCore: "Zen", cpuFlags: avx512, chosen: nil) == nil)
}

/// The machine reference outlives a session: per kind, a high percentile of recent sessions, never
/// another kind's, never a corrupt file's.
@Test func theMachineReferenceCacheKeepsAHighPercentileOfRecentSessionsPerKind() throws {
    let directory = temporaryDirectory() + "/cache"
    let cache = MachineReferenceCache(directory: directory)
    let identity = MachineIdentity.capture(cpuModel: "Test CPU", referenceGflops: 0)
    let kind = MachineReferenceCache.Kind(identity, threads: 1)
    var other = kind
    other.openBLASCore = "Nehalem"
    #expect(cache.reference(for: kind) == nil)
    // 25 sessions: the first 5 are forgotten; of the last 20 (60, 61, …, 79 GFLOP/s) the 90th
    // percentile, not the maximum.
    for rate in 0..<25 { cache.record(Double(55 + rate), for: kind) }
    let reference = try #require(cache.reference(for: kind))
    #expect(reference.sessions == 20)
    #expect(abs(reference.gflops - 77.1) < 1e-9, "\(reference.gflops)")
    #expect(reference.file == directory + "/machine-references.json")
    #expect(cache.reference(for: other) == nil)
    // A corrupt file: one warning naming it, nothing trusted; the next record replaces it.
    try "not json".write(toFile: reference.file, atomically: true, encoding: .utf8)
    var warnings: [String] = []
    #expect(cache.reference(for: kind, warn: { warnings.append($0) }) == nil)
    #expect(warnings.count == 1 && warnings[0].contains(reference.file), "\(warnings)")
    cache.record(70, for: kind)
    #expect(cache.reference(for: kind)?.gflops == 70)
}
