import Foundation
import Sweeps
import TestSupport
import Testing

@testable import Orchestration
@testable import Replication
@testable import Runner

/// A tiny sweep file and quick settings for the default-output tests.
private func tinySweep(in directory: String) throws -> (path: String, options: RunOptions) {
    let path = directory + "/tiny.yaml"
    try """
    name: tiny
    description: three small layers for the default-output tests
    series:
      - label: s
        K: [1, 3]
        H: 8
        W: 8
        Cin: 4
        Cout: 4
    """.write(toFile: path, atomically: true, encoding: .utf8)
    var options = RunOptions()
    options.fixedRuns = 3
    options.showProgress = false
    options.probeCalibrationSeconds = 0.05
    options.standIns.quickRoofs = true
    options.standIns.referenceRate = 50
    return (path, options)
}

private func measure(_ sweep: String, _ options: RunOptions, into directory: String) throws {
    _ = try RunDriver.run(
        sweepPaths: [sweep], configurations: try Sweep.load(path: sweep).configurations, options: options,
        outputDirectory: directory + "/run")
}

/// `replicate` without --out: its own directory, never one that holds another machine's (or
/// boot's) run, a run of other settings or a package without its run; its own run is resumed.
@Test(.computeThreadsExclusive) func theDefaultOutputIsThisMachinesOwnAndPassesOverEveryOtherRun() throws {
    let root = temporaryDirectory()
    let (sweep, options) = try tinySweep(in: root)
    var notes: [String] = []
    func choose(_ options: RunOptions = options) throws -> String {
        try Replicator.ownOutput(
            root: root, profile: .quick, sweepPaths: [sweep], options: options, note: { notes.append($0) })
    }
    let base = try choose()
    #expect(base.hasPrefix(root + "/out/") && base.hasSuffix("/quick"))
    #expect(notes.isEmpty)

    // A committed (or copied) package: a package.json without this machine's run.
    try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    try "{}".write(toFile: base + "/package.json", atomically: true, encoding: .utf8)
    #expect(try choose() == base + "-2")
    #expect(notes.last?.contains("passed over") == true)

    // Another boot's run of the same sweeps and settings (as after a reboot, or another VM).
    var otherBoot = options
    otherBoot.standIns.bootID = "another-boot"
    try measure(sweep, otherBoot, into: base + "-2")
    #expect(try choose() == base + "-3")
    #expect(notes.last?.contains("boot") == true, "\(notes)")

    // This machine's own run: chosen again, to be resumed.
    try measure(sweep, options, into: base + "-3")
    notes = []
    #expect(try choose() == base + "-3")
    #expect(notes.last?.contains("resuming it") == true && notes.last?.contains("2 of 2 rows") == true, "\(notes)")

    // Other settings (a build whose profile defaults changed): a directory of its own.
    var moreRounds = options
    moreRounds.rounds = 4
    #expect(try choose(moreRounds) == base + "-4")
    #expect(notes.last?.contains("rounds") == true, "\(notes)")
}

/// `replicate --slurm N` gives the array a time limit from the largest shard's estimate, unless the
/// user gives one, and warns of shards estimated past a limit the user gave.
@Test func slurmTimeLimitsFollowTheEstimateUnlessTheUserGivesOne() throws {
    var submission = SlurmSubmission(
        shards: 3, profile: .quick, sweepFiles: [], outputDirectory: "/tmp/x", executable: "/bin/true",
        runArguments: [], sbatchArguments: [])
    #expect(submission.arrayTimeLimitMinutes == nil)
    submission.shardSeconds = [600, 1200, 900]
    // 1200 s × 1.5 = 30 min, + 10.
    #expect(submission.arrayTimeLimitMinutes == 40)
    #expect(submission.warnings.isEmpty)
    submission.sbatchArguments = ["--partition=long", "--time=0-00:15:00"]
    #expect(submission.givenTimeLimit == "0-00:15:00" && submission.arrayTimeLimitMinutes == nil)
    #expect(submission.warnings.count == 1 && submission.warnings[0].hasPrefix("shard 2 is estimated at 20.0 min"))
    submission.sbatchArguments = ["-t", "90"]
    #expect(submission.givenTimeLimit == "90" && submission.warnings.isEmpty)
    for (text, minutes) in [
        ("90", 90.0), ("1:30", 1.5), ("2:00:00", 120), ("1-0", 1440), ("1-2:30", 1590), ("0-0:0:30", 0.5),
    ] {
        #expect(SlurmSubmission.minutes(ofTimeLimit: text) == minutes, "\(text)")
    }
    #expect(SlurmSubmission.minutes(ofTimeLimit: "UNLIMITED") == nil)
    #expect(SlurmSubmission.minutes(ofTimeLimit: "soon") == nil)
}
