import Foundation
import Measurement
import Rows
import Sweeps
import TestSupport
import Testing

@testable import Runner

/// Rounds measured in worker processes (`convsweep measure-worker`, one per pass).
@Suite(.serialized, .computeThreadsExclusive) struct WorkerProcessTests {
    private func workerLaunch() throws -> WorkerLaunch {
        WorkerLaunch(executable: try convsweepExecutable(), arguments: ["measure-worker"])
    }

    @Test func eachPassMeasuresInAFreshBoundWorkerProcessAndTheRowsAreThoseOfARun() throws {
        let directory = temporaryDirectory()
        let sweep = try smallSweep(in: directory)
        var options = quickOptions()
        options.workerLaunch = try workerLaunch()
        options.keepSamples = true
        // Rounds judged clean whatever the probe reads (suites beside it keep the machine busy):
        // the repeatability statement needs two clean rounds of a configuration.
        options.probeSlowdown = 0.99
        let out = directory + "/run"
        let summary = try RunDriver.run(
            sweepPaths: [sweep.path], configurations: sweep.configurations, options: options, outputDirectory: out)
        #expect(summary.manifest.status == .complete)
        let rows = try MeasurementsFile.read(path: out + "/measurements.csv")
        #expect(rows.count == 6)
        // Measured (verified against the reference in the worker) or dropped, as in one process.
        for row in rows where row.configID != "small-dropped" {
            #expect(row.status == .ok && (row.medianMs ?? 0) > 0 && row.runs > 0, "\(row.configID)")
        }
        #expect(rows.first { $0.configID == "small-dropped" }?.status.isOK == false)
        let rounds = try MeasurementsFile.read(path: out + "/rounds.csv")
        let passes = rounds.compactMap(\.round).max() ?? 0
        #expect(passes >= options.rounds)
        let manifest = try RunManifest.read(path: out + "/manifest.json")
        #expect(manifest.settings.roundProcesses == RunManifest.Settings.workerPerPass)
        let session = manifest.sessions[0]
        // One worker per pass: a configuration's rounds come from as many processes.
        #expect(session.workerProcesses == passes)
        let workerThreads = try #require(session.workerThreadsAtEnd)
        #expect(!workerThreads.isEmpty)
        #expect(
            workerThreads.allSatisfy { "\(CPUSet.format($0.allowed))" == manifest.settings.cpuset }, "\(workerThreads)")
        #expect(manifest.repeatability?.roundsFromSeparateProcesses == true)
        // The worker's timed runs reach samples.csv.
        let samples = try String(contentsOfFile: out + "/samples.csv", encoding: .utf8)
        #expect(samples.split(separator: "\n").count > rows.count)
    }

    @Test func aWorkerWhoseRunHasGoneEndsQuietly() throws {
        // A run stopped with SIGTERM closes its end of the replies while its worker measures: the
        // worker's answer then fails, and it must end with status 0 and nothing on standard error
        // (it crashed with a backtrace before).
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let allowed = try #require(status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") })
        let pu = try #require(
            Int(allowed.split(separator: "\t").last!.split(separator: ",").last!.split(separator: "-").last!))
        let directory = temporaryDirectory()
        let configuration = try #require(try smallSweep(in: directory).configurations.first { $0.isMeasured })
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
        process.arguments = ["-c", "\(pu)", try convsweepExecutable(), "measure-worker"]
        let (requests, replies, errors) = (Pipe(), Pipe(), Pipe())
        process.standardInput = requests
        process.standardOutput = replies
        process.standardError = errors
        try process.run()
        let setup = WorkerSetup(options: quickOptions(), evictionBytes: nil, cpuset: [pu], threadOrder: [pu])
        replies.fileHandleForReading.closeFile()
        try requests.fileHandleForWriting.write(
            contentsOf: try JSONEncoder().encode(setup) + Data("\n".utf8) + JSONEncoder().encode(configuration)
                + Data("\n".utf8))
        try requests.fileHandleForWriting.close()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(message)")
        #expect(message.isEmpty, "\(message)")
    }

    @Test func aRunInOneProcessSaysSoAndCannotBeResumedWithWorkers() throws {
        let directory = temporaryDirectory()
        let sweep = try smallSweep(in: directory)
        let out = directory + "/run"
        var options = quickOptions()
        _ = try RunDriver.run(
            sweepPaths: [sweep.path], configurations: sweep.configurations, options: options, outputDirectory: out)
        let manifest = try RunManifest.read(path: out + "/manifest.json")
        #expect(manifest.settings.roundProcesses == nil && manifest.sessions[0].workerProcesses == nil)
        #expect(manifest.repeatability?.statement.contains("every round in one process") ?? true)
        options.workerLaunch = try workerLaunch()
        options.resume = true
        #expect {
            try RunDriver.run(
                sweepPaths: [sweep.path], configurations: sweep.configurations, options: options, outputDirectory: out)
        } throws: { error in
            "\(error)".contains("roundProcesses absent vs \"a fresh worker process per pass")
        }
    }

    @Test func aWorkerThatDiesOrDoesNotAnswerIsAnErrorNamingTheConfigurationAndTheRunResumes() throws {
        let directory = temporaryDirectory()
        let sweep = try smallSweep(in: directory)
        let out = directory + "/run"
        // /bin/true may end before it is sent its setup, or after.
        for (executable, problems) in [
            ("/bin/true", ["ended without answering for small-k3-cin4", "stopped reading"]),
            ("/bin/cat", ["answered small-k3-cin4 without a row"]),
        ] {
            var options = quickOptions()
            options.order = .given
            options.workerLaunch = WorkerLaunch(executable: executable, arguments: [])
            options.resume = FileManager.default.fileExists(atPath: out + "/manifest.json")
            #expect {
                try RunDriver.run(
                    sweepPaths: [sweep.path], configurations: sweep.configurations, options: options,
                    outputDirectory: out)
            } throws: { error in
                guard let error = error as? RunError else { return false }
                return problems.contains { error.description.contains($0) }
                    && error.description.contains("worker process")
            }
        }
        // Nothing half-written: the run completes with workers that answer.
        var options = quickOptions()
        options.order = .given
        options.workerLaunch = try workerLaunch()
        options.resume = true
        let summary = try RunDriver.run(
            sweepPaths: [sweep.path], configurations: sweep.configurations, options: options, outputDirectory: out)
        #expect(summary.manifest.status == .complete)
        #expect(try MeasurementsFile.read(path: out + "/measurements.csv").count == 6)
    }

    @Test func lineReaderReturnsEveryLineAndAnUnterminatedLastOne() throws {
        let pipe = Pipe()
        try pipe.fileHandleForWriting.write(contentsOf: Data("one\n\ntwo\nthree".utf8))
        try pipe.fileHandleForWriting.close()
        var reader = LineReader(pipe.fileHandleForReading)
        var lines: [String] = []
        while let line = reader.next() { lines.append(line) }
        #expect(lines == ["one", "", "two", "three"])
    }
}
