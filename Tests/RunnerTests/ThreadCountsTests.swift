import ConvKernels
import Foundation
import Measurement
import Sweeps
import Testing

@testable import Runner

@Suite("Thread counts as a dimension")
struct ThreadCountsTests {
    @Test("--threads reads a count, a list and all; refuses zero, words and empty items")
    func parsing() throws {
        #expect(ThreadCounts(parsing: "2")?.counts == [2])
        let list = try #require(ThreadCounts(parsing: "4, 1,2,all,2"))
        #expect(list.counts == [1, 2, 4])
        #expect(list.includesAll)
        #expect(list.description == "1,2,4,all")
        #expect(list.resolved(all: 8).counts == [1, 2, 4, 8])
        #expect(list.resolved(all: 2).counts == [1, 2])
        #expect(try #require(ThreadCounts(parsing: "8")).resolved(all: 2).counts == [8])
        for bad in ["0", "two", "1,,2", "", "-1", "1.5"] { #expect(ThreadCounts(parsing: bad) == nil, "\(bad)") }
    }

    @Test("the manifest records one count as a number, as before, and several as a list; both read back")
    func recorded() throws {
        let encoder = JSONEncoder()
        #expect(String(decoding: try encoder.encode(ThreadCounts(2)), as: UTF8.self) == "2")
        let several = try #require(ThreadCounts([1, 2]))
        #expect(String(decoding: try encoder.encode(several), as: UTF8.self) == "[1,2]")
        #expect(try JSONDecoder().decode(ThreadCounts.self, from: Data("[1,2]".utf8)) == several)
        #expect(try JSONDecoder().decode(ThreadCounts.self, from: Data("3".utf8)) == ThreadCounts(3))
        for bad in ["0", "[1,0]", "[1,1]", "[]", "\"2\"", "[1,\"x\"]"] {
            #expect(throws: DecodingError.self, "\(bad)") {
                try JSONDecoder().decode(ThreadCounts.self, from: Data(bad.utf8))
            }
        }
    }

    @Test("options measure each configuration with each algorithm at each count; one count keeps the ids")
    func expansion() throws {
        let shape = ConvShape(height: 16, width: 16, inputChannels: 8, outputChannels: 8, kernel: 3)
        let configuration = SweepConfiguration(id: "B/s/x", experiment: "B", series: "s", shape: shape)
        var options = RunOptions()
        #expect(options.expanded([configuration]).map(\.id) == ["B/s/x"])
        options.threads = 2
        #expect(options.expanded([configuration]).map(\.id) == ["B/s/x"])
        options.threadCounts = try #require(ThreadCounts([1, 2]))
        options.algorithms = [.auto, .dnnlDirect]
        let expanded = options.expanded([configuration])
        #expect(
            expanded.map(\.id) == [
                "B/s/x@threads=1", "B/s/x@threads=2", "B/s/x@dnnl-direct@threads=1", "B/s/x@dnnl-direct@threads=2",
            ])
        #expect(expanded.map(\.threads) == [1, 2, 1, 2])
        #expect(expanded[1].series == "s [2 threads]")
        #expect(SweepConfiguration.splitThreads(expanded[3].id) == ("B/s/x@dnnl-direct", 2))
        #expect(SweepConfiguration.splitThreads("B/s/x").threads == nil)
    }

    @Test("--threads takes a list through the catalog, and a zero count is refused with the flag's name")
    func catalog() throws {
        let declaration = RunSettings.declaration(named: "threads")
        var options = RunOptions()
        try declaration.apply(["1,2,all"], to: &options)
        #expect(options.threadCounts.description == "1,2,all")
        #expect(declaration.arguments(options) == ["--threads", "1,2,all"])
        #expect(throws: RunError.self) { try declaration.apply(["1,0"], to: &options) }
        options.threadCounts = try #require(ThreadCounts([1, 5000]))
        #expect(declaration.problem(options) != nil)
    }

    @Test("spread over two packages: a count p of several takes the first p of the placement's order, one per package")
    func threadOrderFollowsThePlacement() throws {
        let topology = try Topology(.synthetic("pack:2 core:4 pu:1"))
        var options = RunOptions()
        options.threadCounts = try #require(ThreadCounts([1, 2, 4]))
        options.placement = .spread
        let cpuset = try options.chosenCPUSet(on: topology)
        #expect(cpuset == cpuset.sorted() && cpuset.count == 4)
        let order = options.threadOrder(of: cpuset, on: topology)
        #expect(Set(order) == Set(cpuset))
        let packages = try topology.place(threads: 4, ThreadPlacement(policy: .spread, places: .cores))
        let packageOf = Dictionary(uniqueKeysWithValues: packages.map { ($0.processingUnit, $0.package) })
        #expect(Set(order.prefix(2).map { packageOf[$0]! }) == [0, 1])
        // A cpuset the user named keeps its own order.
        options.cpuset = cpuset
        #expect(options.threadOrder(of: cpuset, on: topology) == cpuset)
    }
}
