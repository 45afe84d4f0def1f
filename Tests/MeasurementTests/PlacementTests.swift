import Measurement
import Testing

/// Where N threads go on machines this one is not: hwloc's synthetic topologies and XML.
@Suite struct PlacementTests {
    /// A 2-socket server of 2 × 64 cores with SMT2 and 8 NUMA nodes.
    static let server = "pack:2 numa:4 l3:2 core:8 pu:2"

    @Test func closeFillsOnePackageCoreByCoreAndSpreadDealsOverPackages() throws {
        let topology = try Topology(.synthetic(Self.server))
        #expect(topology.packageCount == 2 && topology.coreCount == 128 && topology.processingUnitCount == 256)
        #expect(topology.numaNodeCount == 8)
        let close = try topology.place(threads: 64, ThreadPlacement())
        #expect(Set(close.map(\.core)).count == 64 && Set(close.map(\.package)) == [0])
        #expect(Set(close.map(\.processingUnit)).count == 64)
        // The first 16 fill one NUMA node (its two L3 domains) before the next.
        #expect(Set(close.prefix(16).map(\.numaNode)) == [0] && Set(close.prefix(8).map(\.l3)).count == 1)
        let spread = try topology.place(threads: 64, ThreadPlacement(policy: .spread))
        #expect(spread.filter { $0.package == 0 }.count == 32 && spread.filter { $0.package == 1 }.count == 32)
        #expect(Set(spread.map(\.core)).count == 64)
        // Eight spread threads: one per NUMA node.
        let eight = try topology.place(threads: 8, ThreadPlacement(policy: .spread))
        #expect(Set(eight.map(\.numaNode)).count == 8)
        // Memory goes to the NUMA nodes of the placed PUs: one node for sixteen close threads,
        // every node for eight spread ones, the second package's for its PUs alone.
        #expect(ProcessBinding.numaNodes(topology, of: close.prefix(16).map(\.processingUnit)) == [0])
        #expect(ProcessBinding.numaNodes(topology, of: close.map(\.processingUnit)) == [0, 1, 2, 3])
        #expect(ProcessBinding.numaNodes(topology, of: eight.map(\.processingUnit)) == Array(0..<8))
        #expect(ProcessBinding.numaNodes(topology, of: [255]) == [7])
    }

    @Test func moreThreadsThanCoresNeedSMTAskedFor() throws {
        let topology = try Topology(.synthetic(Self.server))
        #expect(throws: PlacementError.self) { try topology.place(threads: 129, ThreadPlacement()) }
        let smt = try topology.place(threads: 129, ThreadPlacement(places: .threads))
        #expect(Set(smt.map(\.core)).count == 128 && Set(smt.map(\.processingUnit)).count == 129)
        // Every core's first PU before any sibling.
        #expect(Set(smt.prefix(128).map(\.core)).count == 128)
        #expect(throws: PlacementError.self) { try topology.place(threads: 257, ThreadPlacement(places: .threads)) }
        #expect(topology.placeableThreads(ThreadPlacement()) == 128)
        #expect(topology.placeableThreads(ThreadPlacement(places: .threads)) == 256)
    }

    @Test func aDesktopOfSixteenSMTCoresAndTheTwoCoreVM() throws {
        let desktop = try Topology(.synthetic("pack:1 l3:1 core:16 pu:2"))
        let sixteen = try desktop.place(threads: 16, ThreadPlacement())
        #expect(Set(sixteen.map(\.core)).count == 16)
        let all = try desktop.place(threads: 32, ThreadPlacement(places: .threads))
        #expect(Set(all.map(\.processingUnit)).count == 32)
        let vm = try Topology(.synthetic("pack:1 core:2 pu:1"))
        #expect(try vm.place(threads: 2, ThreadPlacement()).map(\.processingUnit) == [0, 1])
        #expect(throws: PlacementError.self) { try vm.place(threads: 3, ThreadPlacement(places: .threads)) }
        #expect(throws: PlacementError.self) { try vm.place(threads: 0, ThreadPlacement()) }
    }

    @Test func aHybridCPUGivesItsPerformanceCoresFirst() throws {
        // 8 performance cores with SMT2 (PUs 0-15) and 16 efficiency cores (PUs 16-31), as hwloc
        // would register an 8 P + 16 E part; read back from its XML export, as --xml reads one.
        let described = try Topology(.synthetic("pack:1 core:24 pu:2"))
        try described.registerCoreKind(Array(0..<16), efficiency: 1)
        try described.registerCoreKind(Array(16..<48), efficiency: 0)
        let hybrid = try Topology(.xml(try described.exportXML()))
        #expect(hybrid.coreKinds.count == 2 && hybrid.coreKinds[0] == Array(0..<16))
        let fastest = try hybrid.place(threads: 8, ThreadPlacement())
        #expect(
            fastest.allSatisfy { $0.kindRank == 0 }
                && fastest.map(\.processingUnit) == stride(from: 0, to: 16, by: 2).map { $0 })
        #expect(throws: PlacementError.self) { try hybrid.place(threads: 9, ThreadPlacement()) }
        let every = try hybrid.place(threads: 12, ThreadPlacement(coreKind: .all))
        #expect(every.prefix(8).allSatisfy { $0.kindRank == 0 } && every.suffix(4).allSatisfy { $0.kindRank == 1 })
        let efficient = try hybrid.place(threads: 16, ThreadPlacement(coreKind: .rank(1)))
        #expect(efficient.allSatisfy { $0.kindRank == 1 })
        #expect(throws: PlacementError.self) { try hybrid.place(threads: 1, ThreadPlacement(coreKind: .rank(2))) }
    }

    @Test func aDescriptionHwlocDoesNotReadIsAnError() {
        #expect(throws: TopologyError.self) { try Topology(.synthetic("pack:two")) }
        #expect(throws: TopologyError.self) { try Topology(.xml("<topology>")) }
    }
}

/// Which threads computed, and whether each did on a PU of its own.
@Suite struct ComputeThreadCheckTests {
    @Test func aComputeThreadOffItsPUIsNamedAndIdleThreadsAreNot() {
        let threads = [
            ThreadAffinity(tid: 10, name: "convsweep", allowed: [2], cpuSeconds: 4.0),
            ThreadAffinity(tid: 11, name: "convsweep", allowed: [2, 3], cpuSeconds: 3.5),
            ThreadAffinity(tid: 12, name: "idle", allowed: [0, 1, 2, 3], cpuSeconds: 0.01),
        ]
        #expect(ComputeThreadCheck.computing(threads).map(\.tid) == [10, 11])
        let problems = ComputeThreadCheck.problems(threads, pinnedTo: [2, 3])
        #expect(problems.count == 1 && problems[0].contains("compute thread 11") && problems[0].contains("2-3"))
        let pinned = [threads[0], ThreadAffinity(tid: 11, name: "convsweep", allowed: [3], cpuSeconds: 3.5)]
        #expect(ComputeThreadCheck.problems(pinned, pinnedTo: [2, 3]).isEmpty)
        #expect(!ComputeThreadCheck.problems(pinned, pinnedTo: [2]).isEmpty)
    }
}
