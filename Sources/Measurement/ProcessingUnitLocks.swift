import Basics
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One measuring process per PU, machine-wide: two runs timing on the same PU at once ruin each
/// other's numbers, so a run takes a lock per PU it binds before it binds it, and a second run
/// asking for a held PU is refused (or waits, when asked to, up to a limit).
///
/// - **Where.** One file per PU, `pu-N.lock`, in ``directory``: `$CONVSWEEP_LOCK_DIR`, else
///   `/run/lock/convsweep` (shared by every user of the machine), else `/tmp/convsweep-locks`
///   where `/run/lock` is missing.
/// - **Trust.** The directory must be one that only root and this user control
///   (``PathTrust``, rule ``PathTrust/Rule/shared``): every entry on its path owned by root or
///   this user, a directory others can write only if sticky, no symbolic link another user
///   owns. A missing default directory is created (sticky and writable by all, as `/run/lock`,
///   when it is the shared default; `0700` when named by `$CONVSWEEP_LOCK_DIR`); `scripts/install`
///   run as root creates the shared one owned by root at every boot, so that every user trusts
///   it (docs/security.md).
/// - **Lock files** are opened relative to the directory's descriptor with `O_NOFOLLOW` (a
///   symbolic link is refused, never followed), created with `O_EXCL` (mode 0644, so that any
///   user can open them to lock), checked with `fstat` (a regular file with one link), and never
///   written, truncated or re-moded: `flock(LOCK_EX)` works on a read-only descriptor. Nothing a
///   file holds is trusted.
/// - **Holders** are named from the kernel (`/proc/locks` and `/proc/PID/cmdline`), which no
///   user can fake: the kernel drops a `flock` when its process ends, however it ends (a SIGKILL
///   included), so a lock is never left behind. `--wait` waits at most its limit.
/// - **Child processes.** A holder that starts a measuring child (a worker, a convsweep it runs)
///   passes it ``ProcessingUnitLease/childEnvironment`` (``inheritedVariable`` = `pid:cpulist`); a
///   child asking for PUs of that list, whose locks the kernel shows held by that live pid,
///   shares the parent's locks instead of being refused. Any other process (a script's next
///   convsweep call, a Slurm task, another user's run) takes its own locks.
/// - **Inside one process** the binding is process-wide, so two runs in one process (tests run in
///   parallel) would rebind each other's threads whatever PUs they name: a second lease in the
///   same process waits for the first to end, for any PUs.
public enum ProcessingUnitLocks {
    /// The environment variable naming the lock directory.
    public static let directoryVariable = "CONVSWEEP_LOCK_DIR"
    /// The environment variable through which a holder's child processes share its PUs.
    public static let inheritedVariable = "CONVSWEEP_HELD_PUS"
    /// The shared default directory.
    public static let sharedDirectory = "/run/lock/convsweep"
    /// The default directory where `/run/lock` is missing.
    public static let fallbackDirectory = "/tmp/convsweep-locks"

    /// The directory of the lock files (see the type's documentation).
    public static var directory: String {
        if let chosen = ProcessInfo.processInfo.environment[directoryVariable], !chosen.isEmpty { return chosen }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: "/run/lock", isDirectory: &isDirectory), isDirectory.boolValue {
            return sharedDirectory
        }
        return fallbackDirectory
    }

    /// A process that holds a PU's lock, as the kernel names it.
    public struct Holder: Sendable, Equatable, CustomStringConvertible {
        /// The process id.
        public var pid: Int32
        /// Its command line (`/proc/PID/cmdline`), `?` where it cannot be read.
        public var command: String

        /// `pid 123 (convsweep run … --out DIR)`, for messages.
        public var description: String { "pid \(pid) (\(command))" }

        /// The holder with pid `pid`, its command line read from `/proc`.
        static func process(_ pid: Int32) -> Holder {
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else {
                return Holder(pid: pid, command: "?")
            }
            var command = String(decoding: data, as: UTF8.self).split(separator: "\0").joined(separator: " ")
            if command.count > 400 { command = String(command.prefix(400)) + "…" }
            return Holder(pid: pid, command: command)
        }
    }

    /// Why PUs could not be locked.
    public enum LockError: Error, CustomStringConvertible, Equatable {
        /// Another process holds the PU.
        case held(processingUnit: Int, by: Holder?, lockFile: String)
        /// Another process held the PU for the whole wait.
        case waitedTooLong(processingUnit: Int, by: Holder?, seconds: Double)
        /// The lock directory or a lock file cannot be created, opened or trusted.
        case unusable(path: String, reason: String)

        /// One line naming the PU, the holder and what to do.
        public var description: String {
            switch self {
            case let .held(pu, holder, file):
                let who = holder.map { " by \($0.description)" } ?? " by another process"
                return
                    "PU \(pu) is in use\(who) (lock \(file)); wait for it with --wait, or choose another PU with --cpuset"
            case let .waitedTooLong(pu, holder, seconds):
                let who = holder.map { " by \($0.description)" } ?? " by another process"
                return
                    "PU \(pu) was still in use\(who) after waiting \(Int(seconds)) s (--wait-limit); choose another PU with --cpuset"
            case let .unusable(path, reason):
                return
                    "cannot use the PU lock \(path): \(reason) (run scripts/install as root to create \(ProcessingUnitLocks.sharedDirectory) owned by root, or set \(ProcessingUnitLocks.directoryVariable) to a directory of your own)"
            }
        }
    }

    /// Locks `processingUnits`: refused at once when another process holds one of them, unless
    /// `waitLimit` is given, when it waits until they are free, at most that many seconds
    /// (telling `note` once per held PU). `note` also hears of PUs shared with a parent.
    public static func acquire(
        _ processingUnits: [Int], waitLimit: Double?, note: (String) -> Void = { _ in }
    ) throws(LockError) -> ProcessingUnitLease {
        let units = Array(Set(processingUnits)).sorted()
        if let parent = sharedParent(units) {
            note("PU(s) \(CPUSet.format(units)) shared with parent process \(parent), which holds their locks")
            return ProcessingUnitLease(units: units, descriptors: [], environmentValue: nil)
        }
        ProcessGate.shared.enter()
        var descriptors: [Int32] = []
        func giveUp() {
            for fd in descriptors { close(fd) }
            ProcessGate.shared.leave()
        }
        let folder = directory
        let directoryDescriptor: Int32
        do { directoryDescriptor = try openDirectory(folder) } catch {
            giveUp()
            throw error
        }
        defer { close(directoryDescriptor) }
        let deadline = waitLimit.map { Date().addingTimeInterval($0) }
        for unit in units {
            let path = "\(folder)/pu-\(unit).lock"
            let fd: Int32
            do { fd = try openLockFile(directoryDescriptor, name: "pu-\(unit).lock", path: path) } catch {
                giveUp()
                throw error
            }
            descriptors.append(fd)
            guard flock(fd, LOCK_EX | LOCK_NB) != 0 else { continue }
            guard let deadline, let waitLimit else {
                let holding = kernelHolder(of: fd)
                giveUp()
                throw .held(processingUnit: unit, by: holding, lockFile: path)
            }
            note("waiting for PU \(unit), in use by \(kernelHolder(of: fd)?.description ?? "another process")")
            while flock(fd, LOCK_EX | LOCK_NB) != 0 {
                if Date() >= deadline {
                    let holding = kernelHolder(of: fd)
                    giveUp()
                    throw .waitedTooLong(processingUnit: unit, by: holding, seconds: waitLimit)
                }
                usleep(50_000)
            }
        }
        return ProcessingUnitLease(
            units: units, descriptors: descriptors, environmentValue: "\(getpid()):\(CPUSet.format(units))")
    }

    /// The process holding the lock of `processingUnit` in `folder` (default ``directory``) now,
    /// nil when it is free or has no lock file (for status messages and tests).
    public static func holder(of processingUnit: Int, in folder: String = directory) -> Holder? {
        let fd = open("\(folder)/pu-\(processingUnit).lock", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return kernelHolder(of: fd)
    }

    /// The process the kernel says holds a `flock` on the file of `fd` (`/proc/locks`), nil when
    /// none does or `/proc` cannot tell.
    static func kernelHolder(of fd: Int32) -> Holder? {
        var info = stat()
        guard fstat(fd, &info) == 0, let table = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else {
            return nil
        }
        let device = UInt64(info.st_dev)
        let major = ((device >> 8) & 0xfff) | ((device >> 32) & ~UInt64(0xfff))
        let minor = (device & 0xff) | ((device >> 12) & ~UInt64(0xff))
        for line in table.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            // `1: FLOCK  ADVISORY  WRITE 4676 fe:00:16222649 0 EOF`; a waiter's line has `->` second.
            guard fields.count >= 6, fields[1] == "FLOCK", let pid = Int32(fields[4]) else { continue }
            let place = fields[5].split(separator: ":")
            guard place.count == 3, UInt64(place[0], radix: 16) == major, UInt64(place[1], radix: 16) == minor,
                UInt64(place[2]) == UInt64(info.st_ino)
            else { continue }
            return .process(pid)
        }
        return nil
    }

    /// The parent pid whose inherited locks cover `units`, if this process was started under one.
    private static func sharedParent(_ units: [Int]) -> Int32? {
        guard let value = ProcessInfo.processInfo.environment[inheritedVariable],
            let colon = value.firstIndex(of: ":"), let pid = Int32(value[..<colon]), pid != getpid(),
            let held = try? CPUSet.parse(String(value[value.index(after: colon)...])),
            Set(units).isSubset(of: held), kill(pid, 0) == 0 || errno == EPERM
        else { return nil }
        // The parent must still hold each lock, as the kernel says.
        for unit in units where holder(of: unit)?.pid != pid { return nil }
        return pid
    }

    /// A descriptor of the lock directory, created when missing, refused when another user could
    /// control it.
    private static func openDirectory(_ folder: String) throws(LockError) -> Int32 {
        var info = stat()
        if lstat(folder, &info) != 0 && errno == ENOENT {
            if let problem = PathTrust.problem(creating: folder, rule: .shared) {
                throw .unusable(path: folder, reason: problem)
            }
            guard mkdir(folder, 0o700) == 0 || errno == EEXIST else {
                throw .unusable(path: folder, reason: errorText(errno))
            }
        }
        if let problem = PathTrust.problem(at: folder, rule: .shared) {
            throw .unusable(path: folder, reason: problem)
        }
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw .unusable(path: folder, reason: errorText(errno)) }
        // The shared default is for every user: sticky and writable by all, as /run/lock, when
        // this process owns it (it just made it, or an earlier run of this user did).
        if folder == sharedDirectory || folder == fallbackDirectory, fstat(fd, &info) == 0,
            info.st_uid == geteuid(), info.st_mode & 0o7777 == 0o700
        {
            _ = fchmod(fd, 0o1777)
        }
        return fd
    }

    /// A read-only descriptor of the lock file `name` in the directory `directory`, created when
    /// missing; a symbolic link, a file with other links or anything but a regular file is refused.
    private static func openLockFile(_ directory: Int32, name: String, path: String) throws(LockError) -> Int32 {
        for _ in 0..<5 {
            var fd = openat(directory, name, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            if fd < 0 && errno == EEXIST {
                fd = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
                if fd < 0 && errno == ENOENT { continue }  // removed in between: create it again
            }
            guard fd >= 0 else {
                let reason =
                    errno == ELOOP
                    ? "a symbolic link, not a lock file (never followed; remove it)"
                    : errorText(errno)
                throw .unusable(path: path, reason: reason)
            }
            var info = stat()
            guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_nlink == 1 else {
                let links = info.st_nlink
                close(fd)
                let reason =
                    info.st_mode & S_IFMT != S_IFREG
                    ? "not a regular file (remove it)" : "a file with \(links) hard links, not a lock file (remove it)"
                throw .unusable(path: path, reason: reason)
            }
            return fd
        }
        throw .unusable(path: path, reason: "it disappears as it is opened")
    }
}

/// PUs locked by ``ProcessingUnitLocks/acquire(_:for:wait:note:)``; released by ``release()``, when
/// the lease is freed, or by the kernel when the process ends.
public final class ProcessingUnitLease: @unchecked Sendable {
    /// The PUs held (or shared with a parent process).
    public let units: [Int]
    private var descriptors: [Int32]
    private let environmentValue: String?
    private var released = false

    init(units: [Int], descriptors: [Int32], environmentValue: String?) {
        self.units = units
        self.descriptors = descriptors
        self.environmentValue = environmentValue
    }

    /// Whether the PUs are shared with a parent process rather than locked by this one.
    public var isShared: Bool { environmentValue == nil }

    /// What a child process started by the holder needs in its environment to share these PUs
    /// (a worker, a convsweep the holder runs); empty for a shared lease (pass on your own).
    public var childEnvironment: [String: String] {
        environmentValue.map { [ProcessingUnitLocks.inheritedVariable: $0] } ?? [:]
    }

    /// Releases the locks; safe to call more than once.
    public func release() {
        guard !released else { return }
        released = true
        for fd in descriptors {
            _ = flock(fd, LOCK_UN)
            close(fd)
        }
        descriptors = []
        if environmentValue != nil { ProcessGate.shared.leave() }
    }

    deinit { release() }
}

/// One lease at a time inside one process (the binding is process-wide).
private final class ProcessGate: @unchecked Sendable {
    static let shared = ProcessGate()
    private let condition = NSCondition()
    private var busy = false

    func enter() {
        condition.lock()
        while busy { condition.wait() }
        busy = true
        condition.unlock()
    }

    func leave() {
        condition.lock()
        busy = false
        condition.signal()
        condition.unlock()
    }
}
