import Foundation
import Measurement
import Rows
import Runner
import TestSupport
import Testing

/// `convsweep topology`: the PUs a run's threads would take, on this machine or a described one.
@Suite struct TopologyCommandTests {
    static let server = ["topology", "--synthetic", "pack:2 numa:4 l3:2 core:8 pu:2"]

    @Test func aServersThreadsCloseOnOnePackageOrSpreadOverBoth() throws {
        let close = try convsweep(Self.server + ["--threads", "64"])
        #expect(close.status == 0, "\(close.standardError)")
        #expect(
            close.standardOutput.contains("64 thread(s)")
                && close.standardOutput.contains("64 distinct core(s); per package: 0: 64"))
        let spread = try convsweep(Self.server + ["--threads", "64", "--placement", "spread"])
        #expect(spread.standardOutput.contains("per package: 0: 32, 1: 32"), "\(spread.standardOutput)")
        let json = try convsweep(Self.server + ["--threads", "4", "--placement", "scatter", "--json"])
        let placed = try JSONDecoder().decode([PlacedThread].self, from: Data(json.standardOutput.utf8))
        #expect(placed.count == 4 && Set(placed.map(\.package)) == [0, 1])
    }

    @Test func whatTheMachineCannotGiveExitsWith64AndTheReason() throws {
        let smt = try convsweep(Self.server + ["--threads", "129"])
        #expect(smt.status == 64 && smt.standardError.contains("--places threads"), "\(smt.standardError)")
        #expect(try convsweep(Self.server + ["--threads", "129", "--places", "threads"]).status == 0)
        for bad in [["--threads", "0"], ["--placement", "diagonal"], ["--cpu-kind", "3"], ["--places", "sockets"]] {
            let outcome = try convsweep(Self.server + bad)
            #expect(outcome.status == 64, "\(bad): \(outcome.standardError)")
        }
        let unreadable = try convsweep(["topology", "--synthetic", "pack:two"])
        #expect(unreadable.status == 64 && unreadable.standardError.contains("synthetic syntax"))
    }

    @Test func anExportedTopologyIsReadFromItsFileAndThisMachineByDefault() throws {
        let file = temporaryDirectory() + "/server.xml"
        try Topology(.synthetic("pack:2 core:4 pu:2")).exportXML().write(
            toFile: file, atomically: true, encoding: .utf8)
        let fromFile = try convsweep(["topology", "--xml", file, "--threads", "all"])
        #expect(fromFile.status == 0 && fromFile.standardOutput.contains("8 thread(s)"), "\(fromFile.standardError)")
        let here = try convsweep(["topology"])
        #expect(here.status == 0 && here.standardOutput.contains("1 thread(s)"), "\(here.standardError)")
        #expect(try convsweep(["topology", "--xml", file + ".missing"]).status == 64)
    }
}

/// `run --threads 2`: the threads placed on two cores, each compute thread bound to its own PU,
/// in the run's own process and in its worker processes.
@Suite struct ComputeThreadTests {
    @Test(arguments: [[], ["--one-process"]])
    func eachComputeThreadRunsOnAPUOfItsOwn(mode: [String]) throws {
        guard ProcessInfo.processInfo.activeProcessorCount >= 2,
            FileManager.default.isExecutableFile(atPath: "/usr/bin/taskset")
        else { return }
        let directory = temporaryDirectory()
        let sweep = """
            name: threads
            series:
              - label: B
                H: 100
                W: 100
                Cin: 150
                Cout: 150
                K: 3
            """
        try run(sweep, in: directory, threads: "2", mode)
        let manifest = try RunManifest.read(path: directory + "/run/manifest.json")
        #expect(manifest.settings.cpusetChosenBy.hasPrefix("default: placement close"))
        let session = try #require(manifest.sessions.first)
        let units = try #require(session.computeThreadUnits)
        #expect(units.count == 2 && Set(units).count == 2 && manifest.settings.cpuset == CPUSet.format(units.sorted()))
        let computing = try #require(session.computeThreads)
        #expect(!computing.isEmpty && computing.allSatisfy { $0.allowed.count == 1 && units.contains($0.allowed[0]) })
        // Every PU holds a thread bound to it alone (how much each computed depends on the load).
        let measuring = (mode.isEmpty ? session.workerThreadsAtEnd : session.threadsAtEnd) ?? []
        for unit in units {
            #expect(measuring.contains { $0.allowed == [unit] }, "no thread bound to PU \(unit) alone: \(measuring)")
        }
        #expect(!manifest.warnings.contains { $0.contains("not on a PU of its own") }, "\(manifest.warnings)")
    }

    @Test func severalCountsMeasureEachConfigurationAtEachInTheSameRun() throws {
        guard ProcessInfo.processInfo.activeProcessorCount >= 2,
            FileManager.default.isExecutableFile(atPath: "/usr/bin/taskset")
        else { return }
        let directory = temporaryDirectory()
        let sweep = """
            name: threads
            series:
              - label: wide
                H: 64
                W: 64
                Cin: 32
                Cout: 32
                K: 3
              - label: deep
                H: 8
                W: 8
                Cin: 256
                Cout: 256
                K: 3
            """
        try run(sweep, in: directory, threads: "1,all")
        let manifest = try RunManifest.read(path: directory + "/run/manifest.json")
        let all = ProcessInfo.processInfo.activeProcessorCount
        #expect(manifest.settings.threadCounts.counts == [1, all])
        let units = try #require(manifest.sessions.first?.computeThreadUnits)
        #expect(units.count == all && Set(units).count == all)
        let rows = try MeasurementsFile.read(path: directory + "/run/measurements.csv")
        #expect(rows.count == 4 && rows.allSatisfy { $0.status.isOK })
        #expect(Set(rows.map(\.threads)) == [1, all])
        for row in rows { #expect(row.configID.hasSuffix("@threads=\(row.threads)"), "\(row.configID)") }
        let speedup = try convsweep(["speedup", directory + "/run", "--csv", directory + "/speedup.csv"])
        #expect(speedup.status == 0 && speedup.standardOutput.contains("wide"), "\(speedup.standardError)")
        let table = try String(contentsOfFile: directory + "/speedup.csv", encoding: .utf8)
        #expect(table.split(separator: "\n").count == 3)
        // A resume that asks for other counts is refused with both values.
        let other = try convsweep([
            "run", directory + "/s.yaml", "--out", directory + "/run", "--threads", "1", "--quiet",
        ])
        #expect(other.status != 0 && other.standardError.contains("threads (--threads)"), "\(other.standardError)")
        // One count: nothing to compare, exit 65 with the reason.
        let single = try convsweep(["speedup", directory + "/speedup.csv.missing"])
        #expect(single.status == 65)
    }

    /// Writes `sweep` to `directory`/s.yaml and runs it into `directory`/run at `threads`, 6 runs
    /// of one round a configuration (on every PU, as every child a test starts: TestSupport).
    private func run(_ sweep: String, in directory: String, threads: String, _ mode: [String] = []) throws {
        try sweep.write(toFile: directory + "/s.yaml", atomically: true, encoding: .utf8)
        let outcome = try convsweep(
            ["run", directory + "/s.yaml", "--out", directory + "/run", "--threads", threads, "--runs", "6"]
                + ["--rounds", "1", "--quiet"] + mode)
        #expect(outcome.status == 0, "\(outcome.standardError)")
    }
}
