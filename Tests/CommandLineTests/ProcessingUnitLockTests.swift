import Foundation
import Measurement
import Rows
import Runner
import TestSupport
import Testing

/// The pid the kernel says holds the lock of `pu` in `directory`.
private func holderPID(_ directory: String, pu: Int) -> Int32? {
    ProcessingUnitLocks.holder(of: pu, in: directory)?.pid
}

/// Waits (up to two minutes, or until `process` ends) until it holds the lock of `pu` in
/// `directory`.
private func waitForLock(_ directory: String, pu: Int, process: Process) {
    let deadline = Date().addingTimeInterval(120)
    while Date() < deadline && process.isRunning && holderPID(directory, pu: pu) != process.processIdentifier {
        usleep(20_000)
    }
}

/// What a holder that never showed as holding its lock did: still running or its exit status,
/// its standard error, and what `/proc/locks` says of the lock file (a failure here is then
/// diagnosable, not just "never held").
private func neverHeld(_ process: Process, errors: Pipe, locks: String, pu: Int) -> String {
    let running = process.isRunning
    if running { process.terminate() }
    process.waitUntilExit()
    let standardError = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    var inode = stat()
    let file = "\(locks)/pu-\(pu).lock"
    let table = (try? String(contentsOfFile: "/proc/locks", encoding: .utf8)) ?? ""
    let lines =
        stat(file, &inode) == 0
        ? table.split(separator: "\n").filter {
            $0.hasSuffix(" \(inode.st_ino) 0 EOF") || $0.contains(":\(inode.st_ino) ")
        }
        : []
    return
        "the first run never held PU \(pu): \(running ? "still running after 2 minutes" : "exited with \(process.terminationStatus)"); /proc/locks of \(file): \(lines); its standard error: \(standardError.suffix(2000))"
}

/// A lock directory and a sweep in a fresh directory, and a run of `runs` fixed runs started on the
/// last PU that holds its lock when this returns.
private func startHolder(runs: Int, out: String) throws -> (
    directory: String, locks: String, sweep: String, pu: Int, process: Process
) {
    let directory = temporaryDirectory()
    let locks = directory + "/locks"
    let sweep = directory + "/s.yaml"
    try killSweep.write(toFile: sweep, atomically: true, encoding: .utf8)
    let pu = ProcessInfo.processInfo.activeProcessorCount - 1
    let (process, errors) = try launchConvsweep(
        ["run", sweep, "--out", directory + "/" + out, "--cpuset", "\(pu)", "--runs", "\(runs)", "--quiet"],
        environment: ["CONVSWEEP_LOCK_DIR": locks])
    waitForLock(locks, pu: pu, process: process)
    // A holder that never took its lock is a failure here, not a test that goes on without one.
    let held = holderPID(locks, pu: pu) == process.processIdentifier
    if !held {
        let why = neverHeld(process, errors: errors, locks: locks, pu: pu)
        try #require(held, Comment(rawValue: why))
    }
    return (directory, locks, sweep, pu, process)
}

@Suite(.serialized) struct ProcessingUnitLockTests {
    @Test func aSecondRunOnAHeldPUIsRefusedNamingItAndWithWaitStartsWhenTheFirstEnds() throws {
        let (directory, locks, sweep, pu, process) = try startHolder(runs: 20000, out: "first")
        let environment = ["CONVSWEEP_LOCK_DIR": locks]
        let first = directory + "/first"

        let second = directory + "/second"
        let refused = try convsweep(
            ["run", sweep, "--out", second, "--cpuset", "\(pu)", "--quiet"], environment: environment)
        #expect(refused.status == 1, "\(refused.standardError)")
        #expect(refused.standardError.contains("PU \(pu) is in use by pid \(process.processIdentifier) ("))
        #expect(refused.standardError.contains(first), "\(refused.standardError)")
        // Refused before anything was touched: no run directory, nothing bound or timed.
        #expect(!FileManager.default.fileExists(atPath: second))
        let measure = try convsweep(
            ["measure", "--h", "8", "--w", "8", "--cin", "4", "--cout", "4", "-k", "3", "--cpuset", "\(pu)"],
            environment: environment)
        #expect(measure.status == 1 && measure.standardError.contains("PU \(pu) is in use"))

        let waiting = try convsweep(
            ["run", sweep, "--out", second, "--cpuset", "\(pu)", "--runs", "30", "--quiet", "--wait"],
            environment: environment)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(waiting.status == 0, "\(waiting.standardError)")
        #expect(waiting.standardError.contains("waiting for PU \(pu)"))
        #expect(try MeasurementsFile.read(path: first + "/measurements.csv").count == 12)
        #expect(try MeasurementsFile.read(path: second + "/measurements.csv").count == 12)
        let firstEnded = try #require(try RunManifest.read(path: first + "/manifest.json").sessions[0].endedAt)
        let secondStarted = try RunManifest.read(path: second + "/manifest.json").sessions[0].startedAt
        #expect(secondStarted >= firstEnded, "\(secondStarted) before \(firstEnded)")
        // Released: nobody holds it, and the file was never written.
        #expect(holderPID(locks, pu: pu) == nil)
        #expect(try FileManager.default.attributesOfItem(atPath: "\(locks)/pu-\(pu).lock")[.size] as? Int == 0)
    }

    @Test func aRunKilledWithSIGKILLLeavesNoLockAndTheNextTakesItWithoutAWord() throws {
        let (_, locks, _, pu, process) = try startHolder(runs: 2000, out: "run")
        let environment = ["CONVSWEEP_LOCK_DIR": locks]
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(holderPID(locks, pu: pu) == nil)  // the kernel dropped it with the process

        let next = try convsweep(
            ["measure", "--h", "8", "--w", "8", "--cin", "4", "--cout", "4", "-k", "3", "--cpuset", "\(pu)"],
            environment: environment)
        #expect(next.status == 0, "\(next.standardError)")
        #expect(!next.standardError.contains("lock"), "\(next.standardError)")
    }

    @Test func aWaitForAPUHeldThroughoutEndsAtItsLimitNamingTheKernelsHolder() throws {
        let locks = temporaryDirectory("locks")
        let pu = ProcessInfo.processInfo.activeProcessorCount - 1
        let lockFile = "\(locks)/pu-\(pu).lock"
        #expect(FileManager.default.createFile(atPath: lockFile, contents: nil))
        // Another process holds the lock and writes a fake holder into nothing: the file is empty.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = [lockFile, "sleep", "30"]
        try holder.run()
        defer { holder.terminate() }
        let deadline = Date().addingTimeInterval(30)
        while holderPID(locks, pu: pu) != holder.processIdentifier && Date() < deadline { usleep(20_000) }
        try #require(holderPID(locks, pu: pu) == holder.processIdentifier)
        let outcome = try convsweep(
            [
                "measure", "--h", "8", "--w", "8", "--cin", "4", "--cout", "4", "-k", "3", "--cpuset", "\(pu)",
                "--wait",
                "--wait-limit", "0.3",
            ], environment: ["CONVSWEEP_LOCK_DIR": locks])
        #expect(outcome.status == 1)
        #expect(
            outcome.standardError.contains(
                "PU \(pu) was still in use by pid \(holder.processIdentifier) (/usr/bin/flock \(lockFile) sleep 30)"),
            "\(outcome.standardError)")
    }

    @Test func anUnusableLockDirectoryIsOneClearErrorNamingIt() throws {
        let directory = temporaryDirectory()
        let file = directory + "/not-a-directory"
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        let outcome = try convsweep(
            ["measure", "--h", "8", "--w", "8", "--cin", "4", "--cout", "4", "-k", "3"],
            environment: ["CONVSWEEP_LOCK_DIR": file])
        #expect(outcome.status == 1)
        #expect(outcome.standardError.contains("cannot use the PU lock \(file)"), "\(outcome.standardError)")
        #expect(outcome.standardError.split(separator: "\n").count == 1)
    }

    @Test func aDimensionOverBLASs32BitLimitIsRefusedWithExit64BeforeAnyAllocation() throws {
        let outcome = try convsweep(["measure", "--h", "46341", "--w", "46341", "--cin", "1", "--cout", "1", "-k", "1"])
        #expect(outcome.status == 64)
        #expect(outcome.standardError.contains("height·width = 2147488281"), "\(outcome.standardError)")
        #expect(outcome.standardError.contains("2147483647"))
        let deep = try convsweep(["measure", "--h", "1", "--w", "1", "--cin", "1048576", "--cout", "1", "-k", "46"])
        #expect(deep.status == 64 && deep.standardError.contains("inputChannels·kernelHeight·kernelWidth"))
    }
}
