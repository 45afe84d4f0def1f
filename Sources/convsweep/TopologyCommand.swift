import ArgumentParser
import Foundation
import Measurement

/// `convsweep topology`: the machine as hwloc sees it, and the PUs a run's threads would take.
struct TopologyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Show the machine's topology and the PUs N threads would be placed on, before anything is measured.",
        discussion: """
            Reads this machine with hwloc, or a machine described: --synthetic in hwloc's synthetic \
            syntax ("pack:2 numa:4 l3:2 core:8 pu:2": 2 packages of 4 NUMA nodes of 2 L3 domains of 8 \
            cores of 2 PUs), or --xml, hwloc's XML export of another machine (lstopo --of xml, or a \
            run's topology.xml). Placement: close (the default; OpenMP close, likwid compact) fills a \
            core after the next, an L3 domain, a NUMA node and a package before the next; spread \
            (OpenMP spread, likwid scatter) deals threads over the packages, then their NUMA nodes, \
            then their L3 domains. Places: cores (the default) gives each thread a core of its own \
            and refuses more threads than cores; threads uses SMT siblings once the cores are taken. \
            On a hybrid CPU (hwloc's cpukinds) --cpu-kind chooses the kind: fastest (the default), \
            all (the fastest first), or a rank, 0 the fastest. It also prints the NUMA nodes the \
            run's memory would be bound to (those of the placed PUs). Exit status: 0, or 64 for a placement \
            the machine cannot give (with the reason) or a description hwloc does not read.
            """)

    @Option(help: ArgumentHelp("A machine in hwloc's synthetic syntax instead of this one.", valueName: "description"))
    var synthetic: String?

    @Option(help: ArgumentHelp("A machine in hwloc's XML export instead of this one.", valueName: "file"))
    var xml: String?

    @Option(help: ArgumentHelp("Threads to place: a count, or all (every usable core).", valueName: "n"))
    var threads: String = "1"

    @Option(help: ArgumentHelp("close (compact) or spread (scatter).", valueName: "policy"))
    var placement: String = ThreadPlacement.Policy.close.rawValue

    @Option(help: ArgumentHelp("cores (a core per thread) or threads (SMT siblings too).", valueName: "places"))
    var places: String = ThreadPlacement.Places.cores.rawValue

    @Option(
        name: .customLong("cpu-kind"),
        help: ArgumentHelp("On a hybrid CPU: fastest, all, or a rank (0 the fastest).", valueName: "kind"))
    var cpuKind: String = "fastest"

    @Flag(help: "Print the placed threads as JSON.")
    var json = false

    /// The largest XML file read.
    static let maximumXMLBytes = 64 << 20

    func run() throws {
        let topology = try load()
        guard let policy = ThreadPlacement.Policy(word: placement) else {
            throw fail(
                "--placement must be close (compact) or spread (scatter), got \"\(placement)\"", code: ExitStatus.usage)
        }
        guard let places = ThreadPlacement.Places(rawValue: self.places) else {
            throw fail("--places must be cores or threads, got \"\(self.places)\"", code: ExitStatus.usage)
        }
        guard let kind = ThreadPlacement.CoreKind(word: cpuKind) else {
            throw fail(
                "--cpu-kind must be fastest, all or a rank (0 the fastest), got \"\(cpuKind)\"", code: ExitStatus.usage)
        }
        let chosen = ThreadPlacement(policy: policy, places: places, coreKind: kind)
        let count: Int
        if threads == "all" {
            count = max(1, topology.placeableThreads(chosen))
        } else if let n = Int(threads), n >= 1 {
            count = n
        } else {
            throw fail("--threads must be a count of 1 or more, or all, got \"\(threads)\"", code: ExitStatus.usage)
        }
        let placed: [PlacedThread]
        do { placed = try topology.place(threads: count, chosen) } catch {
            throw fail(
                "--threads \(count) --placement \(policy.rawValue) --places \(places.rawValue): \(error)",
                code: ExitStatus.usage)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(placed), as: UTF8.self))
            return
        }
        printSummary(topology, placed, chosen)
    }

    /// The topology asked for: described, or this machine's.
    private func load() throws -> Topology {
        do {
            if let synthetic, xml == nil { return try Topology(.synthetic(synthetic)) }
            if let xml, synthetic == nil {
                let attributes = try? FileManager.default.attributesOfItem(atPath: xml)
                guard let size = attributes?[.size] as? Int, attributes?[.type] as? FileAttributeType == .typeRegular
                else {
                    throw fail("--xml \(xml): not a readable regular file", code: ExitStatus.usage)
                }
                guard size <= Self.maximumXMLBytes, let data = FileManager.default.contents(atPath: xml) else {
                    throw fail(
                        "--xml \(xml): larger than \(Self.maximumXMLBytes >> 20) MiB, or unreadable",
                        code: ExitStatus.usage)
                }
                return try Topology(.xml(String(decoding: data, as: UTF8.self)))
            }
            if synthetic != nil { throw fail("give --synthetic or --xml, not both", code: ExitStatus.usage) }
            return try Topology()
        } catch let error as TopologyError {
            throw fail(
                "\(synthetic.map { _ in "--synthetic: " } ?? xml.map { "--xml \($0): " } ?? "")\(error)",
                code: ExitStatus.usage)
        }
    }

    private func printSummary(_ topology: Topology, _ placed: [PlacedThread], _ placement: ThreadPlacement) {
        let numa = topology.numaNodeCount
        let kinds = topology.coreKinds
        print(
            "machine: \(topology.packageCount) package(s), \(numa) NUMA node(s), \(topology.coreCount) core(s), \(topology.processingUnitCount) PU(s)"
                + (kinds.isEmpty
                    ? ""
                    : ", \(kinds.count) kinds of core (fastest first: \(kinds.map { "\($0.count) PUs" }.joined(separator: ", ")))")
                + (topology.isThisMachine ? "" : " (described, not this machine)"))
        let packages = Dictionary(grouping: placed, by: \.package).sorted { $0.key < $1.key }
        print(
            "placement \(placement): \(placed.count) thread(s) on PUs \(CPUSet.format(placed.map(\.processingUnit).sorted())), "
                + "\(Set(placed.map(\.core)).count) distinct core(s); per package: "
                + packages.map { "\($0.key): \($0.value.count)" }.joined(separator: ", "))
        let nodes = ProcessBinding.numaNodes(topology, of: placed.map(\.processingUnit))
        if !nodes.isEmpty {
            print(
                "memory: bound to NUMA node(s) \(CPUSet.format(nodes)) (operating-system indexes), the nodes of these PUs"
            )
        }
        print("thread     PU   core  package   numa     l3   kind")
        func column(_ value: Int?, _ width: Int) -> String {
            let text = value.map(String.init) ?? "-"
            return String(repeating: " ", count: max(0, width - text.count)) + text
        }
        for thread in placed {
            print(
                [
                    column(thread.thread, 6), column(thread.processingUnit, 6), column(thread.core, 6),
                    column(thread.package, 8), column(thread.numaNode, 6), column(thread.l3, 6),
                    column(thread.kindRank, 6),
                ].joined(separator: " "))
        }
    }
}
