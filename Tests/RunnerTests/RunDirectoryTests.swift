import Basics
import ConvKernels
import Foundation
import FoundationXML
import Measurement
import Rows
import Sweeps
import TestSupport
import Testing

@testable import Runner

@Suite(.serialized, .computeThreadsExclusive) struct RunDirectoryTests {
    @Test func theCommitIsDirtyForChangedSourcesButNotForResults() throws {
        let repo = temporaryDirectory()
        func git(_ arguments: String...) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@t"] + arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            try #require(process.terminationStatus == 0, "git \(arguments)")
        }
        let manager = FileManager.default
        try manager.createDirectory(atPath: repo + "/Sources/Runner", withIntermediateDirectories: true)
        try manager.createDirectory(atPath: repo + "/results/m/run", withIntermediateDirectories: true)
        let source = repo + "/Sources/Runner/RunDriver.swift"
        try "// a".write(toFile: source, atomically: true, encoding: .utf8)
        try "config_id\n".write(toFile: repo + "/results/m/run/measurements.csv", atomically: true, encoding: .utf8)
        try git("init", "-q")
        try git("add", ".")
        try git("commit", "-qm", "x")
        let clean = try #require(BuildInfo.gitCommit(executable: "/nonexistent/bin/convsweep", sourceFile: source))
        #expect(clean.count == 40)
        // A run writing into results/ leaves the tree clean.
        try "config_id\nrow\n".write(
            toFile: repo + "/results/m/run/measurements.csv", atomically: true, encoding: .utf8)
        #expect(BuildInfo.gitCommit(executable: "/nonexistent/bin/convsweep", sourceFile: source) == clean)
        // A changed source file makes it dirty.
        try "// b".write(toFile: source, atomically: true, encoding: .utf8)
        #expect(BuildInfo.gitCommit(executable: "/nonexistent/bin/convsweep", sourceFile: source) == clean + "-dirty")
        // An executable built before a source file last changed is stale: the tree's commit may
        // not be the one it was built from.
        try git("commit", "-qam", "y")
        let head = try #require(BuildInfo.gitCommit(executable: "/nonexistent/bin/convsweep", sourceFile: source))
        let executable = repo + "/convsweep"
        try Data("binary".utf8).write(to: URL(fileURLWithPath: executable))
        try setModificationTime(of: executable, secondsFromNow: -3600)
        #expect(BuildInfo.gitCommit(executable: executable, sourceFile: source) == head + "-stale")
        // Built after it: not stale.
        try setModificationTime(of: executable, secondsFromNow: 60)
        #expect(BuildInfo.gitCommit(executable: executable, sourceFile: source) == head)
    }

    @Test func theExecutableHashIsTheSHA256OfTheFile() throws {
        let path = temporaryDirectory() + "/convsweep"
        let bytes = Data((0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })  // three read chunks
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect(BuildInfo.executableSHA256(path: path) == SHA256Hex.of(bytes))
        #expect(BuildInfo.executableSHA256(path: path + ".absent") == nil)
    }

    @Test func aRunWritesManifestTopologyAndOneRowPerConfiguration() throws {
        let directory = temporaryDirectory()
        let sweep = try smallSweep(in: directory)
        var options = quickOptions()
        options.keepSamples = true
        let out = directory + "/run"
        let summary = try RunDriver.run(
            sweepPaths: [sweep.path], configurations: sweep.configurations, options: options, outputDirectory: out,
            commandLine: ["convsweep", "run", "test"])
        #expect(summary.written == 6 && summary.measured == 5 && summary.notMeasured == 1)

        let run = RunDirectory(path: out)
        let manifest = try RunManifest.read(path: run.manifestPath)
        #expect(manifest.status == .complete)
        #expect(manifest.sweeps.count == 1 && manifest.sweeps[0].sha256.count == 64)
        #expect(manifest.configurationCount == 6)
        #expect(manifest.binding.held && manifest.binding.cpuset.count == 1)
        #expect(manifest.settings.cpuset == CPUSet.format(manifest.binding.cpuset))
        #expect(manifest.timer.measuredResolutionNs > 0 && manifest.timer.overheadNs > 0)
        #expect(!manifest.machine.cpuModel.isEmpty && !manifest.machine.caches.isEmpty)
        #expect(manifest.machine.openBLASConfig.contains("OpenBLAS"))
        #expect(manifest.sessions.count == 1 && manifest.sessions[0].endedAt != nil)
        #expect(manifest.sessions[0].commandLine == ["convsweep", "run", "test"])
        #expect(manifest.sessions[0].gitCommit == manifest.tool.gitCommit)
        let executableHash = try #require(manifest.sessions[0].executableSHA256)
        #expect(executableHash.count == 64 && executableHash == BuildInfo.executableSHA256())
        #expect(manifest.settings.openBLASThreads == 1)

        let xml = try XMLDocument(contentsOf: URL(fileURLWithPath: run.topologyPath))
        #expect(xml.rootElement()?.name == "topology")

        let rows = try MeasurementsFile.read(path: run.measurementsPath)
        #expect(rows.count == 6)
        #expect(Set(rows.map(\.configID)) == Set(sweep.configurations.map(\.id)))
        for row in rows where row.configID != "small-dropped" {
            #expect(row.status == .ok, "\(row.configID): \(row.status)")
            #expect(row.runs >= 3 && row.runs <= 50)
            let median = try #require(row.medianMs)
            #expect(median > 0)
            #expect(row.minMs! <= median && row.ci95LowMs! <= median && median <= row.ci95HighMs!)
            #expect(row.gflops! > 0 && row.stopReason != nil)
        }
        let k1 = try #require(rows.first { $0.configID == "small-k1" })
        #expect(k1.series == "K=1, \"quoted\"" && k1.algorithm == .gemm1x1)
        let dropped = try #require(rows.first { $0.configID == "small-dropped" })
        #expect(dropped.status.text == "dropped: over the FLOPs limit" && dropped.runs == 0 && dropped.medianMs == nil)

        // Every measured row comes from its fastest round of at least three (the manifest says
        // which rule chose it), measured by session 1, the spread of the rounds beside it; every
        // round is in rounds.csv.
        #expect(manifest.settings.rowRound == RunManifest.Settings.fastestRound)
        let rounds = try MeasurementsFile.read(path: run.roundsPath)
        for row in rows where row.status == .ok {
            let mine = rounds.filter { $0.configID == row.configID }
            #expect(row.rounds == mine.count && mine.count >= 3 && row.session == 1)
            #expect(Set(mine.compactMap(\.round)) == Set(1...mine.count))
            let chosen = try #require(mine.first { $0.round == row.round })
            #expect(chosen.medianMs == row.medianMs && chosen.runs == row.runs)
            #expect(mine.allSatisfy { ($0.medianMs ?? .infinity) >= row.medianMs! })
            #expect(row.roundMinMs! <= row.medianMs! && row.medianMs! <= row.roundMaxMs!)
            #expect(row.window != nil && row.probeRatio != nil && mine.allSatisfy { $0.window != nil })
        }
        #expect(rounds.allSatisfy { $0.rounds == nil && $0.session == 1 })

        let samples = try String(contentsOfFile: run.samplesPath, encoding: .utf8)
        let sampleLines = samples.split(separator: "\n")
        #expect(sampleLines.first == "config_id,round,run,time_ms,lowering_ms,gemm_ms")
        #expect(sampleLines.count - 1 == rounds.map(\.runs).reduce(0, +))

        // The probe: every reading in probes.csv, its summary and the machine's identity in the manifest.
        let probes = try String(contentsOfFile: run.probesPath, encoding: .utf8).split(separator: "\n")
        let session = manifest.sessions[0]
        let probe = try #require(session.probe)
        #expect(probes.first == "session,seconds,mean_gflops,best_gflops,reference_gflops")
        #expect(probes.count - 1 == probe.readings && probe.readings > 1)
        #expect(probe.startReferenceGflops > 0 && probe.minimumRatio <= probe.medianRatio)
        let identity = try #require(session.identity)
        #expect(identity.bootID.count >= 32 && identity.referenceGflops == probe.startReferenceGflops)
        #expect(manifest.settings.rounds == 3 && manifest.settings.maxRounds == 6)

        // The roofs of the session, and each measured row's place under them.
        let roofs = try #require(session.roofs)
        #expect(roofs.computeGflops > 0 && roofs.bandwidthGBps > 0)
        for row in rows where row.status == .ok {
            let intensity = try #require(row.arithmeticIntensity)
            #expect(abs(intensity - Accounting(shape: row.shape).arithmeticIntensity) < 1e-3 * intensity)
            #expect(row.bound == roofs.bound(intensity: intensity))
            #expect(row.attainedShare! > 0)
        }
    }

    @Test func aTornLastLineIsDroppedAndTheRunResumesWithEveryConfigurationOnce() throws {
        let directory = temporaryDirectory()
        let sweep = try smallSweep(in: directory)
        let out = directory + "/run"
        _ = try RunDriver.run(
            sweepPaths: [sweep.path], configurations: sweep.configurations, options: quickOptions(),
            outputDirectory: out)
        // Simulate a kill: drop the last two rows, then leave half of one row without its newline.
        let run = RunDirectory(path: out)
        let text = try String(contentsOfFile: run.measurementsPath, encoding: .utf8)
        var lines = text.split(separator: "\n").map(String.init)
        let lost = lines.suffix(2).map { $0.split(separator: ",")[0] }
        lines.removeLast(2)
        let torn = lines.joined(separator: "\n") + "\n" + "small-k3-cin4,small,\"K=3"
        try torn.write(toFile: run.measurementsPath, atomically: true, encoding: .utf8)

        var options = quickOptions()
        options.resume = true
        let summary = try RunDriver.run(
            sweepPaths: [sweep.path], configurations: sweep.configurations, options: options, outputDirectory: out)
        #expect(summary.tornLinesDropped == 1)
        #expect(summary.alreadyPresent == 4 && summary.written == 2)
        let rows = try MeasurementsFile.read(path: run.measurementsPath)
        #expect(rows.map(\.configID).sorted() == sweep.configurations.map(\.id).sorted())
        #expect(Set(rows.suffix(2).map(\.configID)) == Set(lost.map(String.init)))
        let manifest = try RunManifest.read(path: run.manifestPath)
        #expect(manifest.sessions.count == 2 && manifest.status == .complete)
        #expect(manifest.warnings.contains { $0.contains("torn") })
    }

    @Test func aDirectoryOfAnotherRunIsRefusedAndLeftUntouched() throws {
        let directory = temporaryDirectory()
        let sweep = try smallSweep(in: directory)
        let out = directory + "/run"
        _ = try RunDriver.run(
            sweepPaths: [sweep.path], configurations: sweep.configurations, options: quickOptions(),
            outputDirectory: out)
        let run = RunDirectory(path: out)
        let before = [run.manifestPath, run.measurementsPath, run.topologyPath].map(fileBytes)
        var other = quickOptions()
        other.seed = 99
        #expect(throws: RunError.self) {
            _ = try RunDriver.run(
                sweepPaths: [sweep.path], configurations: sweep.configurations, options: other, outputDirectory: out)
        }
        try "experiment: changed\n".write(toFile: sweep.path, atomically: true, encoding: .utf8)
        #expect(throws: RunError.self) {
            _ = try RunDriver.run(
                sweepPaths: [sweep.path], configurations: sweep.configurations, options: quickOptions(),
                outputDirectory: out)
        }
        #expect([run.manifestPath, run.measurementsPath, run.topologyPath].map(fileBytes) == before)
    }

    @Test func badInputIsRefusedBeforeAnythingIsWritten() throws {
        let directory = temporaryDirectory()
        let sweep = try smallSweep(in: directory)
        let foreign = directory + "/foreign"
        try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: true)
        try "mine\n".write(toFile: foreign + "/notes.txt", atomically: true, encoding: .utf8)
        func refuses(_ options: RunOptions, out: String, paths: [String]? = nil) {
            #expect(throws: RunError.self) {
                _ = try RunDriver.run(
                    sweepPaths: paths ?? [sweep.path], configurations: sweep.configurations, options: options,
                    outputDirectory: out)
            }
        }
        refuses(quickOptions(), out: foreign)
        #expect(try FileManager.default.contentsOfDirectory(atPath: foreign).filter { $0 != ".lock" } == ["notes.txt"])
        var threads = quickOptions()
        threads.threads = 64
        refuses(threads, out: directory + "/a")
        var cpuset = quickOptions()
        cpuset.cpuset = [4000]
        refuses(cpuset, out: directory + "/b")
        var target = quickOptions()
        target.target = 0
        refuses(target, out: directory + "/c")
        var resume = quickOptions()
        resume.resume = true
        refuses(resume, out: directory + "/d")
        refuses(quickOptions(), out: directory + "/e", paths: [directory + "/missing.yaml"])
        for name in ["a", "b", "c", "d", "e"] {
            #expect(!FileManager.default.fileExists(atPath: directory + "/" + name + "/manifest.json"))
        }
    }

    @Test func aLockedDirectoryIsRefused() throws {
        let directory = temporaryDirectory()
        let run = RunDirectory(path: directory + "/run")
        try run.prepare()
        let held = try run.lock()
        // flock locks belong to the open file description: a second open in this process conflicts.
        #expect(throws: RunError.self) { _ = try run.lock() }
        held.release()
        let again = try run.lock()
        again.release()
    }

    @Test func impossibleAndOutOfMemoryConfigurationsGetAReasonAndTheRunGoesOn() throws {
        let directory = temporaryDirectory()
        let path = directory + "/s.yaml"
        try "x\n".write(toFile: path, atomically: true, encoding: .utf8)
        let huge = ConvShape(height: 16384, width: 16384, inputChannels: 48, outputChannels: 8, kernel: 1)
        let invalid = ConvShape(height: 0, width: 4, inputChannels: 1, outputChannels: 1, kernel: 1)
        let configurations = [
            SweepConfiguration(id: "huge", experiment: "t", series: "s", shape: huge),
            SweepConfiguration(id: "invalid", experiment: "t", series: "s", shape: invalid),
            SweepConfiguration(
                id: "fine", experiment: "t", series: "s",
                shape: ConvShape(height: 4, width: 4, inputChannels: 2, outputChannels: 2, kernel: 3)),
        ]
        var options = quickOptions()
        options.order = .given
        let out = directory + "/run"
        _ = try RunDriver.run(
            sweepPaths: [path], configurations: configurations, options: options, outputDirectory: out)
        let rows = try MeasurementsFile.read(path: RunDirectory(path: out).measurementsPath)
        #expect(rows.map(\.configID) == ["huge", "invalid", "fine"])
        if let available = SystemMemory.availableBytes, available < 40 << 30 {
            #expect(rows[0].status.text.hasPrefix("out of memory: "), "\(rows[0].status)")
        }
        #expect(rows[1].status.text.hasPrefix("impossible: "))
        #expect(rows[2].status == .ok)
    }
}

/// Sets the modification time of `path` to now plus `seconds`, in whole seconds, with
/// `utimensat`: Foundation's `setAttributes` converts a `Date` to a `timeval` whose microseconds
/// can round to 1,000,000, which the kernel refuses with EINVAL (a failure now and then).
private func setModificationTime(of path: String, secondsFromNow seconds: Int) throws {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    // UTIME_OMIT ((1 << 30) - 2): the access time is left as it is.
    let times = [timespec(tv_sec: 0, tv_nsec: (1 << 30) - 2), timespec(tv_sec: now.tv_sec + seconds, tv_nsec: 0)]
    guard utimensat(AT_FDCWD, path, times, 0) == 0 else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path, "errno": errno])
    }
}
