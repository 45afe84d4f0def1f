import Foundation
import Rows
import Sweeps
import TestSupport
import Testing

@testable import Runner

@Suite(.serialized, .computeThreadsExclusive) struct MergeTests {
    /// The two shards of the small sweep measured into `directory/shard1` and `shard2`, the
    /// second with its probe's rates scaled by `secondRateScale`.
    private func twoShards(
        in directory: String, secondRateScale: Double = 1
    ) throws -> (sweep: (path: String, configurations: [SweepConfiguration]), shards: [String]) {
        let sweep = try smallSweep(in: directory)
        var shards: [String] = []
        for i in 1...2 {
            var options = quickOptions()
            options.shard = try Shard(index: i, count: 2)
            if i == 2 { options.standIns.probeRateScale = secondRateScale }
            shards.append(directory + "/shard\(i)")
            _ = try RunDriver.run(
                sweepPaths: [sweep.path], configurations: sweep.configurations, options: options,
                outputDirectory: shards[i - 1])
        }
        return (sweep, shards)
    }

    @Test func shardsMergeIntoOneCompleteRun() throws {
        let directory = temporaryDirectory()
        // The second shard ran beside another on the SMT sibling: 30% slower, the same machine.
        let (sweep, shards) = try twoShards(in: directory, secondRateScale: 1.3)
        let shardRows = try shards.map { try MeasurementsFile.read(path: RunDirectory(path: $0).measurementsPath) }
        #expect(shardRows.map(\.count).reduce(0, +) == sweep.configurations.count)

        let merged = directory + "/merged"
        let manifest = try RunMerger.merge(directories: shards, into: merged)
        #expect(manifest.status == .complete && manifest.mergedFrom?.count == 2 && manifest.settings.shard == nil)
        #expect(manifest.warnings.contains { $0.contains("reference sgemm rates differ") && $0.contains("+30%") })
        let rows = try MeasurementsFile.read(path: RunDirectory(path: merged).measurementsPath)
        #expect(rows.map(\.configID).sorted() == sweep.configurations.map(\.id).sorted())
        #expect(try RunManifest.read(path: merged + "/manifest.json") == manifest)
        #expect(FileManager.default.fileExists(atPath: merged + "/topology.xml"))
        // Rows, rounds and probe readings name their session in the merged manifest's list.
        let secondShard = Set(shardRows[1].map(\.configID))
        for row in rows where row.status == .ok {
            #expect(row.session == (secondShard.contains(row.configID) ? 2 : 1))
        }
        let rounds = try MeasurementsFile.read(path: RunDirectory(path: merged).roundsPath)
        #expect(rounds.count == rows.compactMap(\.rounds).reduce(0, +))
        // The merged run's repeatability is that of every shard's rounds together, not the first shard's.
        #expect(manifest.repeatability == Repeatability(rounds: rounds, separateProcesses: false))
        let probes = try String(contentsOfFile: merged + "/probes.csv", encoding: .utf8).split(separator: "\n")
        #expect(Set(probes.dropFirst().map { $0.split(separator: ",")[0] }) == ["1", "2"])

        // Refusals: an existing output, the same shard twice, a run with other settings.
        #expect(throws: RunError.self) { try RunMerger.merge(directories: shards, into: merged) }
        #expect(throws: RunError.self) {
            try RunMerger.merge(directories: [shards[0], shards[0]], into: directory + "/twice")
        }
        var other = quickOptions()
        other.seed = 5
        other.shard = try Shard(index: 1, count: 2)
        _ = try RunDriver.run(
            sweepPaths: [sweep.path], configurations: sweep.configurations, options: other,
            outputDirectory: directory + "/other")
        #expect(throws: RunError.self) {
            try RunMerger.merge(directories: [directory + "/other", shards[1]], into: directory + "/mixed")
        }
        #expect(!FileManager.default.fileExists(atPath: directory + "/mixed/manifest.json"))
    }

    @Test func aShardWhoseCalibrationReadSlowIsComparedByItsWholeSessionsReference() throws {
        let directory = temporaryDirectory()
        let (_, shards) = try twoShards(in: directory)
        let reference = try #require(try RunManifest.read(path: shards[0] + "/manifest.json").referenceIdentity)
        // The second shard's half-second calibration read 40% slow; its probe, over the session,
        // read the first shard's rate.
        func rewriteSecond(probeReference: Double?) throws {
            let path = shards[1] + "/manifest.json"
            var manifest = try RunManifest.read(path: path)
            manifest.sessions[0].identity?.referenceGflops = 0.6 * reference.referenceGflops
            if let probeReference {
                manifest.sessions[0].probe?.endReferenceGflops = probeReference
            } else {
                manifest.sessions[0].probe = nil
            }
            try manifest.encoded().write(to: URL(fileURLWithPath: path))
        }
        try rewriteSecond(probeReference: reference.referenceGflops)
        let second = try RunManifest.read(path: shards[1] + "/manifest.json")
        #expect(second.referenceIdentity?.referenceGflops == reference.referenceGflops)
        let merged = try RunMerger.merge(directories: shards, into: directory + "/merged")
        #expect(!merged.warnings.contains { $0.contains("reference sgemm rates differ") })
        // A session killed before its probe summary was written has only its calibration.
        try rewriteSecond(probeReference: nil)
        let slow = try RunMerger.merge(directories: shards, into: directory + "/merged-slow")
        #expect(slow.warnings.contains { $0.contains("reference sgemm rates differ") && $0.contains("-40%") })
    }

    @Test func shardsWhoseOwnKernelsRanAnotherCloneAreRefusedNamingBoth() throws {
        let directory = temporaryDirectory()
        let (_, shards) = try twoShards(in: directory)
        let first = try RunManifest.read(path: shards[0] + "/manifest.json")
        let own = try #require(first.machine.ownKernels)
        #expect(["x86-64-v4", "x86-64-v3", "baseline"].contains(own))
        let path = shards[1] + "/manifest.json"
        var manifest = try RunManifest.read(path: path)
        // A manifest from before 0.12.0 records none: nothing to compare, merged.
        manifest.machine.ownKernels = nil
        try manifest.encoded().write(to: URL(fileURLWithPath: path))
        _ = try RunMerger.merge(directories: shards, into: directory + "/older")
        // Another clone measured the depthwise layers with other instructions: refused.
        let other = own == "baseline" ? "x86-64-v3" : "baseline"
        manifest.machine.ownKernels = other
        try manifest.encoded().write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: RunError.self) {
            try RunMerger.merge(directories: shards, into: directory + "/merged")
        }
        #expect("\(error!)".contains("own kernels \(own) vs \(other)"), "\(error!)")
    }

    /// A shard started before 0.16.0 (no row rule recorded: its rows took their fastest clean
    /// round) is not one run with a shard of 0.16.0's rule: refused, naming both.
    @Test func shardsOfTwoRowRulesAreRefusedNamingBoth() throws {
        let directory = temporaryDirectory()
        let (_, shards) = try twoShards(in: directory)
        let path = shards[1] + "/manifest.json"
        var manifest = try RunManifest.read(path: path)
        #expect(manifest.settings.rowRound == RunManifest.Settings.fastestRound)
        manifest.settings.rowRound = nil
        try manifest.encoded().write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: RunError.self) {
            try RunMerger.merge(directories: shards, into: directory + "/merged")
        }
        #expect("\(error!)".contains("rowRound the fastest round, clean or disturbed vs absent"), "\(error!)")
    }

    @Test func shardsOfNodesWithOtherCoreCountsAreRefusedNamingBoth() throws {
        let directory = temporaryDirectory()
        let (_, shards) = try twoShards(in: directory)
        let path = shards[1] + "/manifest.json"
        var manifest = try RunManifest.read(path: path)
        let cores = manifest.machine.cores
        manifest.machine.cores = 2 * cores
        manifest.machine.processingUnits *= 2
        try manifest.encoded().write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: RunError.self) {
            try RunMerger.merge(directories: shards, into: directory + "/merged")
        }
        #expect(
            "\(error!)".contains("topology") && "\(error!)".contains("\(cores) cores")
                && "\(error!)".contains("\(2 * cores) cores"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/merged/manifest.json"))
        // Accepted by the user, it is merged and recorded.
        let merged = try RunMerger.merge(directories: shards, into: directory + "/accepted", acceptMachineChange: true)
        #expect(merged.warnings.contains { $0.contains("topology") })
    }
}
