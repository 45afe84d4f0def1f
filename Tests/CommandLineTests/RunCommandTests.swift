import ConvKernels
import Foundation
import Measurement
import Rows
import Runner
import TestSupport
import Testing

/// Twelve small configurations, for the kill and lock tests.
let killSweep = """
    name: kill
    description: twelve small configurations for the SIGKILL test
    series:
      - label: s
        K: [1, 3]
        H: [8, 12, 16]
        W: H
        Cin: [4, 8]
        Cout: 8
    """

@Suite(.serialized) struct RunCommandTests {
    @Test func aRunRecordsTheVariablesThatChoseItsKernels() throws {
        // OPENBLAS_CORETYPE makes OpenBLAS run other code on the same CPU: a replicator must know.
        let directory = temporaryDirectory()
        try "name: x\nseries:\n  - label: s\n    H: 4\n    W: 4\n    K: 1\n    Cin: 2\n    Cout: 2\n".write(
            toFile: directory + "/x.yaml", atomically: true, encoding: .utf8)
        for (name, environment) in [("chosen", ["OPENBLAS_CORETYPE": "Nehalem"]), ("default", [:])] {
            let out = directory + "/" + name
            let ran = try convsweep(
                ["run", directory + "/x.yaml", "--out", out, "--quiet", "--max-seconds", "0.05"],
                environment: environment)
            #expect(ran.status == 0, "\(ran.standardError)")
            let manifest = try RunManifest.read(path: out + "/manifest.json")
            // The variables this process runs under, as the child inherits them, with the test's own.
            let inherited = Dictionary(
                uniqueKeysWithValues: EnvironmentSnapshot.kernelSelection().map { ($0.name, $0.value) })
            #expect(manifest.sessions.map(\.kernelSelection) == [inherited.merging(environment) { $1 }], "\(name)")
            if name == "chosen" { #expect(manifest.machine.openBLASCore == "Nehalem") }
        }
    }

    @Test func aOneDNNRunIsBoundToItsPUWithOneComputeThreadAndRecordsWhatRan() throws {
        let directory = temporaryDirectory()
        let sweep = directory + "/dnnl.yaml"
        try """
        name: dnnl
        description: oneDNN's algorithms on a few layers, Winograd refused where oneDNN has none
        series:
          - label: s
            K: [1, 3, 5]
            H: 24
            W: 24
            Cin: 64
            Cout: 64
        """.write(toFile: sweep, atomically: true, encoding: .utf8)
        let pu = ProcessInfo.processInfo.activeProcessorCount - 1
        let out = directory + "/run"
        let outcome = try convsweep([
            "run", sweep, "--out", out, "--quiet", "--cpuset", "\(pu)", "--threads", "1", "--runs", "60",
            "--algorithm", "dnnl-direct", "--algorithm", "dnnl-winograd",
        ])
        if outcome.standardError.contains("lacks") { return }  // built without the oneDNN backend
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let rows = try MeasurementsFile.read(path: out + "/measurements.csv")
        #expect(rows.count == 6)
        for row in rows where row.algorithm == .dnnlDirect {
            #expect(row.status == .ok && row.backend == .onednn && row.implementation != nil, "\(row.configID)")
        }
        // Winograd for K = 5 (and wherever oneDNN has none) is a row with the reason, never another
        // implementation.
        let k5 = try #require(rows.first { $0.algorithm == .dnnlWinograd && $0.shape.kernelHeight == 5 })
        #expect(k5.status.text.contains("oneDNN provides no Winograd implementation"), "\(k5.status.text)")
        for row in rows where row.algorithm == .dnnlWinograd && row.status == .ok {
            #expect(row.implementation?.contains("wino") == true)
        }
        // Every thread at the session's end, of the run and of its last worker process (oneDNN's
        // OpenMP team included), on the one PU; one computed, in the worker.
        let manifest = try RunManifest.read(path: out + "/manifest.json")
        #expect(try #require(manifest.sessions[0].threadsAtEnd).allSatisfy { $0.allowed == [pu] })
        let threads = try #require(manifest.sessions[0].workerThreadsAtEnd)
        #expect(threads.allSatisfy { $0.allowed == [pu] }, "\(threads)")
        let busiest = threads.compactMap(\.cpuSeconds).max() ?? 0
        let computing = threads.filter { ($0.cpuSeconds ?? 0) > 0.2 * busiest }
        #expect(computing.count == 1, "\(threads.map { "\($0.name) \($0.cpuSeconds ?? -1)" })")
        #expect(manifest.sessions[0].oneDNN?.contains("OpenMP team 1") == true, "\(manifest.sessions[0].oneDNN ?? "")")
        #expect(manifest.settings.algorithms == [.dnnlDirect, .dnnlWinograd])
    }

    @Test func aRunStartedUnderAnAffinityBindsInsideIt() throws {
        // As a Slurm task (task/affinity) or `taskset` starts it: the default binding, and any
        // --cpuset, must stay within the CPUs the process was given.
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/taskset") else { return }
        let directory = temporaryDirectory()
        try killSweep.write(toFile: directory + "/s.yaml", atomically: true, encoding: .utf8)
        // Started through taskset, its error kept for the message (TestSupport).
        func underTaskset(_ arguments: [String]) throws -> (status: Int32, error: String) {
            try convsweepUnderTaskset("0", arguments)
        }
        let run = directory + "/run"
        let first = try underTaskset(["run", directory + "/s.yaml", "--out", run, "--quiet", "--max-seconds", "0.05"])
        #expect(first.status == 0, "\(first.error)")
        let manifest = try RunManifest.read(path: run + "/manifest.json")
        #expect(manifest.settings.cpuset == "0" && manifest.machine.allowedProcessingUnits == "0")
        #expect(manifest.binding.threads.allSatisfy { $0.allowed == [0] })
        if ProcessInfo.processInfo.activeProcessorCount > 1 {
            let outside = try underTaskset([
                "run", directory + "/s.yaml", "--out", directory + "/other", "--cpuset", "1", "--quiet",
            ])
            #expect(outside.status == 64, "\(outside.error)")
        }
    }

    @Test func theShippedSweepsAreFoundFromAnyDirectory() throws {
        let listed = try convsweep(["sweeps", "list", "--profile", "quick"], in: "/")
        #expect(listed.status == 0, "\(listed.standardError)")
        #expect(listed.standardOutput.contains("sweeps/quick/regression.yaml"))
        #expect(listed.standardOutput.contains("Profile quick"))
    }

    @Test func aSweepsDirectoryWithoutSweepsIsOneMessageAndExit64() throws {
        let empty = temporaryDirectory()
        let outcome = try convsweep(["sweeps", "list", "--sweeps-dir", empty])
        #expect(outcome.status == 64)
        #expect(outcome.standardError.contains(empty) && outcome.standardError.contains("holds no sweeps"))
        #expect(outcome.standardError.split(separator: "\n").count == 1)
    }

    @Test func versionNamesTheCommit() throws {
        let outcome = try convsweep(["--version"], in: "/")
        #expect(outcome.status == 0)
        #expect(outcome.standardOutput.hasPrefix("convsweep "))
        #expect(outcome.standardOutput.contains("(commit "))
    }

    @Test func sigkillMidSweepThenResumeLeavesEveryConfigurationExactlyOnce() throws {
        let directory = temporaryDirectory()
        let sweep = directory + "/kill.yaml"
        try killSweep.write(toFile: sweep, atomically: true, encoding: .utf8)
        let out = directory + "/run"
        let measurements = out + "/measurements.csv"
        let arguments = ["run", sweep, "--out", out, "--runs", "2000", "--quiet"]

        // The run stops itself right after its third row is on disk (a fail point, unset in real
        // runs); the kill comes when it has stopped: exactly three rows, whatever the machine's speed.
        let (process, _) = try launchConvsweep(arguments, environment: ["CONVSWEEP_FAILPOINT_STOP_AFTER_ROWS": "3"])
        try #require(waitUntilStopped(process.processIdentifier), "the run never reached its third row")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        let killed = try MeasurementsFile.parse(
            String(decoding: FileManager.default.contents(atPath: measurements) ?? Data(), as: UTF8.self)
                .split(separator: "\n", omittingEmptySubsequences: false).dropLast().joined(separator: "\n") + "\n")
        #expect(killed.count == 3, "the kill came after \(killed.count) of 12 rows")

        // The resume is on the same boot; its drift probe's reference rate is real, and on a machine
        // running other suites in parallel it may lie more than 10% from the first session's: the
        // identity check has its own tests, this one is about the kill.
        let resumed = try convsweep(arguments + ["--resume", "--accept-machine-change"])
        #expect(resumed.status == 0, "\(resumed.standardError)")
        let rows = try MeasurementsFile.read(path: measurements)
        #expect(rows.count == 12)
        #expect(Set(rows.map(\.configID)).count == 12)
        // 2000 runs shared by 3 rounds: 667 a round; no round lost or measured twice.
        #expect(rows.allSatisfy { $0.status == .ok && $0.runs == 667 && $0.stopReason == .fixedRuns })
        let rounds = try MeasurementsFile.read(path: out + "/rounds.csv")
        #expect(Set(rounds.map { "\($0.configID)#\($0.round!)" }).count == rounds.count)
        #expect(rounds.count == rows.compactMap(\.rounds).reduce(0, +))
        let manifest = try RunManifest.read(path: out + "/manifest.json")
        #expect(manifest.status == .complete && manifest.sessions.count == 2)
        #expect(manifest.sessions[0].endedAt == nil && manifest.sessions[1].endedAt != nil)
    }

    @Test func badInputGetsOneMessageANonZeroExitAndOverwritesNothing() throws {
        let directory = temporaryDirectory()
        let sweep = directory + "/kill.yaml"
        try killSweep.write(toFile: sweep, atomically: true, encoding: .utf8)
        let unknown = try convsweep(["run", sweep, "--out", directory + "/a", "--frobnicate"])
        #expect(unknown.status == 64 && unknown.standardError.contains("frobnicate"))
        let cpuset = try convsweep(["run", sweep, "--out", directory + "/b", "--cpuset", "4000"])
        #expect(cpuset.status == 64 && cpuset.standardError.contains("4000"))
        let malformed = try convsweep(["run", sweep, "--out", directory + "/c", "--shard", "3/2"])
        #expect(malformed.status == 64)
        try "name: bad\nseries: 3\n".write(toFile: directory + "/bad.yaml", atomically: true, encoding: .utf8)
        let badSweep = try convsweep(["run", directory + "/bad.yaml", "--out", directory + "/d"])
        #expect(badSweep.status == 65 && badSweep.standardError.contains("bad.yaml"))
        let missing = try convsweep(["run", directory + "/missing.yaml", "--out", directory + "/e"])
        #expect(missing.status == 65)
        for name in ["a", "b", "c", "d", "e"] {
            #expect(!FileManager.default.fileExists(atPath: directory + "/" + name + "/manifest.json"))
        }

        let out = directory + "/run"
        let first = try convsweep(["run", sweep, "--out", out, "--max-seconds", "0.02", "--quiet"])
        #expect(first.status == 0, "\(first.standardError)")
        let before = FileManager.default.contents(atPath: out + "/measurements.csv")
        let other = try convsweep(["run", sweep, "--out", out, "--max-seconds", "0.02", "--seed", "5", "--quiet"])
        #expect(other.status == 1 && other.standardError.contains("different run"))
        #expect(other.standardError.split(separator: "\n").count == 1)
        #expect(FileManager.default.contents(atPath: out + "/measurements.csv") == before)
    }
}

/// Waits (at most ten minutes, polling /proc) until process `pid` is stopped by a signal; false
/// when it ended or never stopped.
private func waitUntilStopped(_ pid: Int32) -> Bool {
    let deadline = Date().addingTimeInterval(600)
    while Date() < deadline {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        if state == "T" { return true }
        if state == "Z" || state == "X" { return false }
        usleep(20_000)
    }
    return false
}
