import Basics
import Foundation
import Rows

#if canImport(Glibc)
    import Glibc
#endif

/// The files of a run directory, its lock, and crash-safe appends.
public struct RunDirectory: Sendable {
    /// The directory.
    public let path: String

    /// The run directory at `path` (nothing is touched until ``prepare()``).
    public init(path: String) { self.path = path }

    /// manifest.json.
    public var manifestPath: String { path + "/" + RowSource.manifestFile }
    /// topology.xml (hwloc's export of the machine).
    public var topologyPath: String { path + "/topology.xml" }
    /// measurements.csv.
    public var measurementsPath: String { path + "/" + RowSource.measurementsFile }
    /// samples.csv (with `keepSamples`).
    public var samplesPath: String { path + "/samples.csv" }
    /// rounds.csv: one row per round of a configuration, in the columns of measurements.csv.
    public var roundsPath: String { path + "/" + RowSource.roundsFile }
    /// probes.csv: every reading of the drift probe.
    public var probesPath: String { path + "/" + RowSource.probesFile }
    /// The lock file of a session in progress.
    public var lockPath: String { path + "/.lock" }

    /// Whether a manifest exists (the directory holds a run).
    public var holdsRun: Bool { FileManager.default.fileExists(atPath: manifestPath) }

    /// Creates the directory if missing; refuses a non-empty directory that holds no run.
    public func prepare() throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw RunError.directory("\(path) exists and is not a directory") }
            let contents = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0 != ".lock" }
            if !contents.isEmpty && !holdsRun {
                throw RunError.directory(
                    "\(path) is not empty and holds no manifest.json: not a convsweep run directory; choose another output directory"
                )
            }
        } else {
            do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
                throw RunError.directory("cannot create \(path): \(error.localizedDescription)")
            }
        }
    }

    /// Takes the directory's lock (`flock` on `.lock`, released by the kernel if the process dies).
    ///
    /// - Throws: ``RunError/directory(_:)`` when another process holds it.
    public func lock() throws -> RunLock {
        let fd: Int32
        do { fd = try SafeFile.openRegular(lockPath, flags: O_RDWR | O_CREAT | O_NOFOLLOW) } catch {
            throw RunError.directory(error.description)
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder =
                (try? String(contentsOfFile: lockPath, encoding: .utf8))?.trimmingCharacters(
                    in: .whitespacesAndNewlines) ?? ""
            close(fd)
            throw RunError.directory(
                "\(path) is in use by another convsweep run\(holder.isEmpty ? "" : " (pid \(holder))")")
        }
        ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
        return RunLock(descriptor: fd)
    }

    /// Writes `data` to `path` atomically (``SafeFile/writeAtomically(_:to:mode:)``: a temporary
    /// file nobody can guess, fsync, rename, fsync of the directory).
    public func writeAtomically(_ data: Data, to file: String) throws {
        do { try SafeFile.writeAtomically(data, to: file) } catch { throw RunError.directory(error.description) }
    }
}

/// A held lock on a run directory; released on ``release()`` or when the process ends.
public final class RunLock {
    private var descriptor: Int32
    init(descriptor: Int32) { self.descriptor = descriptor }
    /// Releases the lock, emptying the file first (the pid inside names a live holder only).
    public func release() {
        if descriptor >= 0 {
            ftruncate(descriptor, 0)
            flock(descriptor, LOCK_UN)
            close(descriptor)
            descriptor = -1
        }
    }
    deinit { release() }
}

/// An append-only CSV file written one line at a time, each line flushed to disk (`fsync`)
/// before the next configuration runs, so a crash loses at most the line being written.
public final class AppendOnlyFile {
    /// The file.
    public let path: String
    private let descriptor: Int32

    /// Opens `path` for appending, creating it with `header` when missing or empty.
    ///
    /// A last line without its newline (torn by a kill mid-write) is cut off; its count is
    /// reported in ``droppedTornLines``.
    public init(path: String, header: String) throws {
        self.path = path
        let fd: Int32
        do { fd = try SafeFile.openRegular(path, flags: O_RDWR | O_CREAT | O_NOFOLLOW) } catch {
            throw RunError.directory(error.description)
        }
        descriptor = fd
        let size = lseek(fd, 0, SEEK_END)
        droppedTornLines = 0
        if size > 0 {
            let keep = try AppendOnlyFile.completeLength(fd: fd, size: Int(size))
            if keep < Int(size) {
                ftruncate(fd, off_t(keep))
                droppedTornLines = 1
            }
        }
        if lseek(fd, 0, SEEK_END) == 0 {
            try append(header)
        } else if let first = AppendOnlyFile.firstLine(fd: fd), first + "\n" != header {
            close(fd)
            throw RunError.directory(
                "\(path) has other columns than this convsweep writes (written by an older version?): "
                    + "resume it with the convsweep that started it, or measure into a new directory")
        }
    }

    /// The file's first line (without its newline), or nil when it cannot be read.
    private static func firstLine(fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 8192)
        let count = pread(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        let bytes = buffer.prefix(count)
        guard let end = bytes.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }

    /// 1 when a torn last line was dropped on opening, else 0.
    public private(set) var droppedTornLines: Int

    deinit { close(descriptor) }

    /// The length of the file up to and including its last newline.
    private static func completeLength(fd: Int32, size: Int) throws -> Int {
        var position = size
        var buffer = [UInt8](repeating: 0, count: 4096)
        while position > 0 {
            let chunk = min(buffer.count, position)
            position -= chunk
            let n = pread(fd, &buffer, chunk, off_t(position))
            guard n == chunk else { throw RunError.directory("cannot read the end of a file") }
            if let last = buffer[0..<chunk].lastIndex(of: UInt8(ascii: "\n")) { return position + last + 1 }
        }
        return 0
    }

    /// Appends `text` (one or more complete lines) and flushes it to disk.
    public func append(_ text: String) throws {
        let bytes = Array(text.utf8)
        let ok = bytes.withUnsafeBytes { SafeFile.writeAll(descriptor, $0) }
        guard ok, fsync(descriptor) == 0 else {
            throw RunError.directory("cannot append to \(path): \(errorText(errno))")
        }
    }
}
