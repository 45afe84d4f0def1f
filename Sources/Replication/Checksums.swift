import Basics
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// SHA-256 sums of the files of a directory, in the format of GNU `sha256sum`.
///
/// `SHA256SUMS` holds one line per file, `<64 hex digits>  <path relative to the directory>`,
/// sorted by path, covering every regular file below the directory except `SHA256SUMS` itself.
/// `sha256sum -c SHA256SUMS` run inside the directory checks it too.
public enum Checksums {
    /// The name of the sums file.
    public static let fileName = "SHA256SUMS"

    /// The SHA-256 of a file's contents, as lowercase hex.
    public static func sha256(of url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        return try sha256(of: handle)
    }

    /// The SHA-256 of what `handle` reads to its end, as lowercase hex.
    static func sha256(of handle: FileHandle) throws -> String {
        let hasher = SHA256Hasher()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(chunk) }
        return SHA256Hex.hex(hasher.finalize())
    }

    /// The most files a package may hold, and the largest a file of it may be: a hostile
    /// package cannot make a check run for hours.
    public static let maximumFiles = 100_000
    /// The largest a file of a package may be, in bytes (1 GiB).
    public static let maximumFileBytes: Int64 = 1 << 30

    /// What lies below a directory: its regular files (sorted relative paths, `SHA256SUMS`
    /// excluded) and every entry that is neither a regular file nor a directory (a symbolic link,
    /// a FIFO, a device), which a package may not hold. Links are never followed.
    public static func contents(of directory: URL) throws -> (files: [String], irregular: [String]) {
        let root = directory.standardizedFileURL.path
        var files: [String] = []
        var irregular: [String] = []
        var pending = [""]
        while let relative = pending.popLast() {
            let folder = relative.isEmpty ? root : root + "/" + relative
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
                throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: folder])
            }
            for name in names {
                let path = relative.isEmpty ? name : relative + "/" + name
                var info = stat()
                guard lstat(root + "/" + path, &info) == 0 else { continue }
                switch info.st_mode & S_IFMT {
                case S_IFDIR: pending.append(path)
                case S_IFREG: if path != fileName { files.append(path) }
                default: irregular.append(path)
                }
                if files.count + irregular.count > maximumFiles {
                    throw CocoaError(
                        .fileReadTooLarge,
                        userInfo: [NSLocalizedDescriptionKey: "\(root) holds more than \(maximumFiles) files"])
                }
            }
        }
        return (files.sorted(), irregular.sorted())
    }

    /// Every regular file below `directory`, as sorted relative paths, `SHA256SUMS` excluded.
    public static func files(in directory: URL) throws -> [String] { try contents(of: directory).files }

    /// Why `path` (as `SHA256SUMS` or `package.json` names it) is not a file of the package at
    /// `root`, nil when it is: a relative path without `.`, `..` or empty components, every
    /// directory on its way a real directory inside the package and the file itself regular (no
    /// symbolic link, FIFO or device, never followed) and at most ``maximumFileBytes``.
    public static func problem(withPath path: String, in root: URL) -> String? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, !path.hasPrefix("/"), !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." })
        else { return "\(path): not a path inside the package" }
        var place = root.standardizedFileURL.path
        for (index, part) in parts.enumerated() {
            place += "/" + part
            var info = stat()
            guard lstat(place, &info) == 0 else { return "\(path): missing" }
            let kind = info.st_mode & S_IFMT
            if index < parts.count - 1 {
                guard kind == S_IFDIR else {
                    return "\(path): \(parts[..<(index + 1)].joined(separator: "/")) is not a directory"
                }
            } else {
                guard kind == S_IFREG else { return "\(path): not a regular file (a package holds regular files only)" }
                guard Int64(info.st_size) <= maximumFileBytes else {
                    return "\(path): larger than \(maximumFileBytes) bytes"
                }
            }
        }
        return nil
    }

    /// The SHA-256 of the regular file `path` of the package at `root`, opened without following
    /// a link and refused unless regular.
    static func packageFileSHA256(_ path: String, in root: URL) throws -> String {
        let full = root.standardizedFileURL.path + "/" + path
        let fd = open(full, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: full]) }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: full])
        }
        return try sha256(of: handle)
    }

    /// Writes `SHA256SUMS` covering every file below `directory`.
    @discardableResult
    public static func write(directory: URL) throws -> [String: String] {
        var sums: [String: String] = [:]
        var text = ""
        for path in try files(in: directory) {
            let sum = try sha256(of: directory.appendingPathComponent(path))
            sums[path] = sum
            text += "\(sum)  \(path)\n"
        }
        try Data(text.utf8).write(to: directory.appendingPathComponent(fileName), options: .atomic)
        return sums
    }

    /// A difference between `SHA256SUMS` and the files of the directory.
    public enum Problem: Equatable, CustomStringConvertible {
        /// The sums file is absent or unreadable.
        case noSumsFile
        /// A line of the sums file is not `<hex>  <path>`.
        case malformedLine(Int)
        /// A listed file does not exist.
        case missing(String)
        /// A listed file's contents differ from its recorded sum.
        case modified(String)
        /// A file exists that the sums file does not list.
        case unlisted(String)
        /// A line names a path outside the package, through a link, or of something that is not
        /// a regular file; or such an entry lies in the package.
        case notAPackageFile(String)
        /// A path is listed twice.
        case listedTwice(String)

        /// The problem, naming the file.
        public var description: String {
            switch self {
            case .noSumsFile: return "\(Checksums.fileName) is missing or unreadable"
            case let .malformedLine(n): return "\(Checksums.fileName) line \(n) is not '<sha256>  <path>'"
            case let .missing(path): return "\(path): listed in \(Checksums.fileName) but missing"
            case let .modified(path): return "\(path): contents differ from its SHA-256 in \(Checksums.fileName)"
            case let .unlisted(path): return "\(path): not listed in \(Checksums.fileName)"
            case let .notAPackageFile(problem): return "\(Checksums.fileName): \(problem)"
            case let .listedTwice(path): return "\(path): listed twice in \(Checksums.fileName)"
            }
        }
    }

    /// Checks every file below `directory` against `SHA256SUMS`; an empty result means all agree.
    /// A listed path that leaves the package, goes through a link or names anything but a
    /// regular file is a problem, never opened; so is any entry below `directory` that is not a
    /// regular file or a directory.
    public static func verify(directory: URL) throws -> [Problem] {
        let sumsPath = directory.appendingPathComponent(fileName)
        guard problem(withPath: fileName, in: directory) == nil,
            let text = try? String(contentsOf: sumsPath, encoding: .utf8)
        else { return [.noSumsFile] }
        var problems: [Problem] = []
        var listed = Set<String>()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.isEmpty {
            let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0].count == 64, parts[1].isEmpty else {
                problems.append(.malformedLine(index + 1))
                continue
            }
            let path = String(parts[2])
            guard listed.insert(path).inserted else {
                problems.append(.listedTwice(path))
                continue
            }
            if let problem = problem(withPath: path, in: directory) {
                problems.append(problem.hasSuffix(": missing") ? .missing(path) : .notAPackageFile(problem))
                continue
            }
            if try packageFileSHA256(path, in: directory) != parts[0] { problems.append(.modified(path)) }
        }
        let (files, irregular) = try contents(of: directory)
        for path in irregular where !listed.contains(path) {
            problems.append(.notAPackageFile("\(path): not a regular file (a package holds regular files only)"))
        }
        for path in files where !listed.contains(path) {
            problems.append(.unlisted(path))
        }
        return problems
    }
}
