import Foundation
import Measurement
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The uid of an unprivileged other user (nobody), for files "another user" planted.
private let otherUser: uid_t = 65534

/// A root-owned 0600 file the attacks aim at; its path.
private func victim(in directory: String) throws -> String {
    let path = directory + "/victim"
    try "secret\n".write(toFile: path, atomically: true, encoding: .utf8)
    chmod(path, 0o600)
    return path
}

/// The victim's text and mode, to see that nothing touched it.
private func state(of path: String) throws -> (String, Int) {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int ?? -1
    return (text, mode)
}

/// `measure` of a small layer on the last PU (the one every test process may use), and that PU.
private let lastPU = ProcessInfo.processInfo.activeProcessorCount - 1
private let measureArguments = [
    "measure", "--h", "8", "--w", "8", "--cin", "4", "--cout", "4", "-k", "3", "--cpuset", "\(lastPU)",
]

/// A root run on a machine where another user planted files (docs/security.md): it neither
/// follows their links, nor trusts their directories, nor runs their code.
@Suite struct SharedMachineTests {
    @Test(.enabled(if: getuid() == 0, "chown needs root"))
    func aLockDirectoryOfAnotherUserWithALinkToAVictimIsRefusedAndTheVictimUntouched() throws {
        let base = temporaryDirectory()
        let target = try victim(in: base)
        let locks = base + "/locks"
        mkdir(locks, 0o755)
        symlink(target, locks + "/pu-\(lastPU).lock")
        lchown(locks + "/pu-\(lastPU).lock", otherUser, otherUser)
        chown(locks, otherUser, otherUser)
        let outcome = try convsweep(measureArguments, environment: ["CONVSWEEP_LOCK_DIR": locks])
        #expect(outcome.status == 1)
        #expect(outcome.standardError.contains("cannot use the PU lock \(locks)"), "\(outcome.standardError)")
        #expect(outcome.standardError.contains("neither root nor this user"))
        #expect(try state(of: target) == ("secret\n", 0o600))
    }

    @Test(.enabled(if: getuid() == 0, "lchown needs root"))
    func aLinkPlantedInASharedStickyLockDirectoryIsNeverFollowed() throws {
        let base = temporaryDirectory()
        let target = try victim(in: base)
        let locks = base + "/locks"
        mkdir(locks, 0o755)
        chmod(locks, 0o1777)  // like /run/lock/convsweep: every user may create lock files
        symlink(target, locks + "/pu-\(lastPU).lock")
        lchown(locks + "/pu-\(lastPU).lock", otherUser, otherUser)
        let outcome = try convsweep(measureArguments, environment: ["CONVSWEEP_LOCK_DIR": locks])
        #expect(outcome.status == 1)
        #expect(outcome.standardError.contains("a symbolic link, not a lock file"), "\(outcome.standardError)")
        #expect(try state(of: target) == ("secret\n", 0o600))
        // A hard link to the victim (where the kernel allows one) is refused the same way.
        unlink(locks + "/pu-\(lastPU).lock")
        if link(target, locks + "/pu-\(lastPU).lock") == 0 {
            let linked = try convsweep(
                measureArguments, environment: ["CONVSWEEP_LOCK_DIR": locks])
            #expect(linked.status == 1 && linked.standardError.contains("2 hard links"), "\(linked.standardError)")
            #expect(try state(of: target) == ("secret\n", 0o600))
        }
    }

    @Test(.enabled(if: getuid() == 0, "lchown needs root"))
    func aLockDirectoryThatIsAnotherUsersLinkIsRefusedAndNothingIsCreatedWhereItPoints() throws {
        let base = temporaryDirectory()
        let elsewhere = base + "/elsewhere"
        mkdir(elsewhere, 0o755)
        let locks = base + "/locks"
        symlink(elsewhere, locks)
        lchown(locks, otherUser, otherUser)
        let outcome = try convsweep(measureArguments, environment: ["CONVSWEEP_LOCK_DIR": locks])
        #expect(outcome.status == 1)
        #expect(outcome.standardError.contains("\(locks) is owned by"), "\(outcome.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty)
    }

    @Test func aLockDirectoryOthersCanWriteWithoutTheStickyBitIsRefused() throws {
        let locks = temporaryDirectory() + "/locks"
        mkdir(locks, 0o755)
        chmod(locks, 0o777)
        let outcome = try convsweep(measureArguments, environment: ["CONVSWEEP_LOCK_DIR": locks])
        #expect(outcome.status == 1)
        #expect(outcome.standardError.contains("writable by other users (mode 777)"), "\(outcome.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: locks).isEmpty)
    }

    @Test(.enabled(if: getuid() == 0, "chown needs root"))
    func aCacheDirectoryOfAnotherUserIsNeitherReadNorWritten() throws {
        let base = temporaryDirectory()
        let target = try victim(in: base)
        let cache = base + "/cache"
        mkdir(cache, 0o755)
        // Links at every name the old cache wrote through, and at the cache file itself.
        symlink(target, cache + "/machine-references.json")
        for pid in 1...3000 { symlink(target, cache + "/machine-references.json.\(pid).tmp") }
        chown(cache, otherUser, otherUser)
        var warnings: [String] = []
        let references = MachineReferenceCache(directory: cache)
        let kind = MachineReferenceCache.Kind(
            cpuModel: "m", cpuFlagsSHA256: "f", microcode: nil, openBLASCore: "c", threads: 1)
        references.record(12.5, for: kind) { warnings.append($0) }
        #expect(references.reference(for: kind) { warnings.append($0) } == nil)
        #expect(warnings.count == 3 && warnings.allSatisfy { $0.contains("neither root nor this user") }, "\(warnings)")
        #expect(try state(of: target) == ("secret\n", 0o600))
    }

    @Test func theCacheFollowsHomeForRootAsForAnyone() {
        let home = temporaryDirectory()
        let references = MachineReferenceCache(environment: ["HOME": home])
        #expect(references.path == home + "/.cache/convsweep/machine-references.json")
        let xdg = MachineReferenceCache(environment: ["HOME": home, "XDG_CACHE_HOME": home + "/x"])
        #expect(xdg.path == home + "/x/convsweep/machine-references.json")
    }

    @Test func aBinaryBelowAWorldWritableDirectoryNeverRunsThePythonPlantedThere() throws {
        let base = temporaryDirectory()
        let shared = base + "/shared"
        mkdir(shared, 0o777)
        chmod(shared, 0o777)  // like a scratch directory every user may write
        let manager = FileManager.default
        // What another user planted: a source tree with sweeps and a Python that leaves a mark.
        let marker = base + "/python-ran"
        try manager.createDirectory(atPath: shared + "/sweeps/quick", withIntermediateDirectories: true)
        try manager.createDirectory(atPath: shared + "/.venv/bin", withIntermediateDirectories: true)
        #expect(manager.createFile(atPath: shared + "/Package.swift", contents: Data()))
        for name in try manager.contentsOfDirectory(atPath: repositoryRoot.path + "/sweeps/quick") {
            try manager.copyItem(
                atPath: repositoryRoot.path + "/sweeps/quick/" + name, toPath: shared + "/sweeps/quick/" + name)
        }
        #expect(
            manager.createFile(
                atPath: shared + "/.venv/bin/python", contents: Data("#!/bin/sh\nid > '\(marker)'\n".utf8),
                attributes: [.posixPermissions: 0o755]))
        // A build copied below it.
        try manager.createDirectory(atPath: shared + "/build/release", withIntermediateDirectories: true)
        try manager.copyItem(atPath: try convsweepExecutable(), toPath: shared + "/build/release/convsweep")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: shared + "/build/release/convsweep")
        process.arguments = ["replicate", "--dry-run", "--out", base + "/out"]
        process.currentDirectoryURL = URL(fileURLWithPath: base)
        process.environment = ProcessInfo.processInfo.environment.merging([
            "CONVSWEEP_LOCK_DIR": temporaryDirectory("locks"), "CONVSWEEP_CACHE_DIR": temporaryDirectory("cache"),
        ]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(!manager.fileExists(atPath: marker), "the planted Python ran: \(text)")
        #expect(!text.contains(shared + "/sweeps"), "\(text)")
    }
}
