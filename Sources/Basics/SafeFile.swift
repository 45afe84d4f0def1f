import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Writing files without following a link another user planted: every file convsweep writes in
/// a directory it does not fully control (a run directory, a package, the cache) goes through
/// these (docs/security.md).
public enum SafeFile {
    /// Why a write failed: the path and the system's reason.
    public struct WriteError: Error, CustomStringConvertible, Sendable {
        /// The file.
        public var path: String
        /// The system's reason.
        public var reason: String
        /// `cannot write PATH: REASON`.
        public var description: String { "cannot write \(path): \(reason)" }
    }

    /// Writes `data` to `path` atomically: a new temporary file of a name nobody can guess
    /// (`mkstemp`, mode 0600 then 0644: never a file another user made) beside it, flushed to
    /// disk, renamed over `path` (which replaces a symbolic link at `path`, never follows it),
    /// and the directory flushed.
    public static func writeAtomically(_ data: Data, to path: String, mode: mode_t = 0o644) throws(WriteError) {
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        var template = Array(((directory.isEmpty ? "." : directory) + "/.\(name).XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw WriteError(path: path, reason: errorText(errno)) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        let temporary = String(nulTerminated: template)
        let written = data.withUnsafeBytes { writeAll(fd, $0) }
        let flushed = written && fchmod(fd, mode) == 0 && fsync(fd) == 0
        let reason = errorText(errno)
        close(fd)
        guard flushed, rename(temporary, path) == 0 else {
            let why = flushed ? errorText(errno) : reason
            unlink(temporary)
            throw WriteError(path: path, reason: why)
        }
        let directoryDescriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    /// A new directory of this user's alone (mode 0700, `mkdtemp`: a name nobody can guess, made
    /// atomically) in the temporary directory, named `prefix` and six random characters.
    public static func makeTemporaryDirectory(prefix: String) throws(WriteError) -> URL {
        let base = FileManager.default.temporaryDirectory.path
        var template = Array((base + "/\(prefix)XXXXXX").utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw WriteError(path: base + "/\(prefix)XXXXXX", reason: errorText(errno))
        }
        return URL(fileURLWithPath: String(nulTerminated: template), isDirectory: true)
    }

    /// Opens `path` with `flags` plus `O_NOFOLLOW | O_CLOEXEC` (creating it with `mode` when the
    /// flags ask to create it), and refuses anything but a regular file with one link: a symbolic
    /// link, a FIFO, a device or a hard link to another file.
    public static func openRegular(_ path: String, flags: Int32, mode: mode_t = 0o644) throws(WriteError) -> Int32 {
        let fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, mode)
        guard fd >= 0 else {
            let reason = errno == ELOOP ? "a symbolic link (never followed)" : errorText(errno)
            throw WriteError(path: path, reason: reason)
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_nlink == 1 else {
            close(fd)
            throw WriteError(path: path, reason: "not a regular file with one link")
        }
        // Back to blocking I/O (O_NONBLOCK only kept a FIFO from blocking the open).
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return fd
    }

    /// Writes all of `buffer` to `fd`, retrying short writes and interruptions; false on an error.
    public static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < buffer.count {
            let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }
}
