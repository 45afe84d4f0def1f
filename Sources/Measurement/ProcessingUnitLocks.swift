import Basics
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One measuring process per PU, machine-wide: two runs timing on the same PU at once ruin each
/// other's numbers, so a run takes a lock per PU it binds before it binds it, and a second run
/// asking for a held PU is refused (or waits, when asked to).
///
/// - **Where.** One file per PU, `pu-N.lock`, in ``directory``: `$CONVSWEEP_LOCK_DIR`, else
///   `/run/lock/convsweep` (shared by every user of the machine; created with the sticky,
///   world-writable mode of `/run/lock`), else `/tmp/convsweep-locks` where `/run/lock` is missing.
/// - **How.** `flock(LOCK_EX)` on each file, in PU order (so two waiting runs cannot deadlock).
///   The kernel drops a `flock` when its process ends, however it ends (a SIGKILL included): a
///   lock is never left behind. While held the file names the holder (pid, what it measures, the
///   command, since when); a clean release empties it, so a file that still names a holder whose
///   process is gone was left by a kill, and is taken over with one note.
/// - **Child processes.** A holder that starts a measuring child (a worker, a convsweep it runs)
///   passes it ``ProcessingUnitLease/childEnvironment`` (``inheritedVariable`` = `pid:cpulist`); a
///   child asking for PUs of that list, held by that live pid, shares the parent's locks instead of
///   being refused. Any other process (a script's next convsweep call, a Slurm task, another
///   user's run) takes its own locks.
/// - **Inside one process** the binding is process-wide, so two runs in one process (tests run in
///   parallel) would rebind each other's threads whatever PUs they name: a second lease in the
///   same process waits for the first to end, for any PUs.
public enum ProcessingUnitLocks {
    /// The environment variable naming the lock directory.
    public static let directoryVariable = "CONVSWEEP_LOCK_DIR"
    /// The environment variable through which a holder's child processes share its PUs.
    public static let inheritedVariable = "CONVSWEEP_HELD_PUS"

    /// The directory of the lock files (see the type's documentation).
    public static var directory: String {
        if let chosen = ProcessInfo.processInfo.environment[directoryVariable], !chosen.isEmpty { return chosen }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: "/run/lock", isDirectory: &isDirectory), isDirectory.boolValue {
            return "/run/lock/convsweep"
        }
        return "/tmp/convsweep-locks"
    }

    /// Who holds (or asks for) a PU: written into its lock file.
    public struct Holder: Sendable, Equatable {
        /// The process id.
        public var pid: Int32
        /// What it measures: a run directory, or the command for `measure` and the benchmarks.
        public var purpose: String
        /// The command line.
        public var command: String
        /// When it took the lock (ISO 8601, UTC).
        public var since: String

        /// This process, measuring `purpose`.
        public static func this(purpose: String) -> Holder {
            Holder(
                pid: getpid(), purpose: purpose, command: CommandLine.arguments.joined(separator: " "),
                since: Timestamp.now())
        }

        /// The lock file's text.
        var text: String { "pid: \(pid)\npurpose: \(purpose)\ncommand: \(command)\nsince: \(since)\n" }

        /// Reads a lock file's text; nil for an empty or foreign one.
        static func parse(_ text: String) -> Holder? {
            var fields: [String: String] = [:]
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2 { fields[String(parts[0])] = parts[1].trimmed }
            }
            guard let pidText = fields["pid"], let pid = Int32(pidText) else { return nil }
            return Holder(
                pid: pid, purpose: fields["purpose"] ?? "?", command: fields["command"] ?? "?",
                since: fields["since"] ?? "?")
        }

        /// `pid 123 (measuring DIR since …)`, for messages.
        public var description: String { "pid \(pid), measuring \(purpose), since \(since)" }
    }

    /// Why PUs could not be locked.
    public enum LockError: Error, CustomStringConvertible, Equatable {
        /// Another process holds the PU.
        case held(processingUnit: Int, by: Holder?, lockFile: String)
        /// The lock directory or a lock file cannot be created or opened.
        case unusable(path: String, reason: String)

        /// One line naming the PU, the holder and what to do.
        public var description: String {
            switch self {
            case let .held(pu, holder, file):
                let who = holder.map { " by \($0.description)" } ?? " by another process"
                return
                    "PU \(pu) is in use\(who) (lock \(file)); wait for it with --wait, or choose another PU with --cpuset"
            case let .unusable(path, reason):
                return
                    "cannot use the PU lock \(path): \(reason) (set \(ProcessingUnitLocks.directoryVariable) to a writable directory shared by every user of this machine)"
            }
        }
    }

    /// Locks `processingUnits` for `holder`: refused at once when another process holds one of
    /// them, unless `wait`, when it blocks until they are free (telling `note` once per held PU).
    /// `note` also hears of a lock taken over from a dead process, and of PUs shared with a parent.
    public static func acquire(
        _ processingUnits: [Int], for holder: Holder, wait: Bool, note: (String) -> Void = { _ in }
    ) throws(LockError) -> ProcessingUnitLease {
        let units = Array(Set(processingUnits)).sorted()
        if let parent = sharedParent(units) {
            note("PU(s) \(CPUSet.format(units)) shared with parent process \(parent), which holds their locks")
            return ProcessingUnitLease(units: units, descriptors: [], environmentValue: nil)
        }
        ProcessGate.shared.enter()
        var descriptors: [Int32] = []
        func giveUp() {
            for fd in descriptors { unlockAndClose(fd) }
            ProcessGate.shared.leave()
        }
        let folder = directory
        do { try prepareDirectory(folder) } catch {
            giveUp()
            throw error
        }
        for unit in units {
            let path = "\(folder)/pu-\(unit).lock"
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
            guard fd >= 0 else {
                let reason = String(cString: strerror(errno))
                giveUp()
                throw .unusable(path: path, reason: reason)
            }
            _ = fchmod(fd, 0o666)  // another user's later run must open it too (fails harmlessly if not ours)
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let holding = Holder.parse(readAll(fd))
                guard wait else {
                    close(fd)
                    giveUp()
                    throw .held(processingUnit: unit, by: holding, lockFile: path)
                }
                note("waiting for PU \(unit), in use by \(holding?.description ?? "another process")")
                while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
            }
            if let left = Holder.parse(readAll(fd)), left.pid != getpid() {
                note(
                    "took over the lock of PU \(unit) left by pid \(left.pid) (\(left.purpose)), which no longer holds it"
                )
            }
            _ = ftruncate(fd, 0)
            let text = holder.text
            _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
            descriptors.append(fd)
        }
        return ProcessingUnitLease(
            units: units, descriptors: descriptors, environmentValue: "\(getpid()):\(CPUSet.format(units))")
    }

    /// The holder a lock file names now, nil when it is free (for status messages and tests).
    public static func holder(of processingUnit: Int) -> Holder? {
        let path = "\(directory)/pu-\(processingUnit).lock"
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return nil
        }
        return Holder.parse(readAll(fd))
    }

    /// The parent pid whose inherited locks cover `units`, if this process was started under one.
    private static func sharedParent(_ units: [Int]) -> Int32? {
        guard let value = ProcessInfo.processInfo.environment[inheritedVariable],
            let colon = value.firstIndex(of: ":"), let pid = Int32(value[..<colon]), pid != getpid(),
            let held = try? CPUSet.parse(String(value[value.index(after: colon)...])),
            Set(units).isSubset(of: held), kill(pid, 0) == 0 || errno == EPERM
        else { return nil }
        // The parent must still hold each lock: the file names it and is locked.
        for unit in units where holder(of: unit)?.pid != pid { return nil }
        return pid
    }

    private static func prepareDirectory(_ folder: String) throws(LockError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw .unusable(path: folder, reason: "not a directory") }
        } else {
            guard mkdir(folder, 0o777) == 0 || errno == EEXIST else {
                throw .unusable(path: folder, reason: String(cString: strerror(errno)))
            }
            _ = chmod(folder, 0o1777)  // every user's runs share it, as /tmp
        }
        guard access(folder, W_OK | X_OK) == 0 else {
            throw .unusable(path: folder, reason: "not writable by this user")
        }
    }

    private static func readAll(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = pread(fd, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer.prefix(count), as: UTF8.self) : ""
    }

    fileprivate static func unlockAndClose(_ fd: Int32) {
        _ = ftruncate(fd, 0)
        _ = flock(fd, LOCK_UN)
        close(fd)
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

    /// Releases the locks (the files emptied first); safe to call more than once.
    public func release() {
        guard !released else { return }
        released = true
        for fd in descriptors { ProcessingUnitLocks.unlockAndClose(fd) }
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
