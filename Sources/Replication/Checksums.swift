import Basics
import Foundation

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
        let hasher = SHA256Hasher()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(chunk)
        }
        return SHA256Hex.hex(hasher.finalize())
    }

    /// Every regular file below `directory`, as sorted relative paths, `SHA256SUMS` excluded.
    public static func files(in directory: URL) throws -> [String] {
        let root = directory.standardizedFileURL.path
        guard let enumerator = FileManager.default.enumerator(atPath: root) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: root])
        }
        var paths: [String] = []
        while let relative = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let full = root + "/" + relative
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory),
                !isDirectory.boolValue, relative != fileName
            else { continue }
            paths.append(relative)
        }
        return paths.sorted()
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

        /// The problem, naming the file.
        public var description: String {
            switch self {
            case .noSumsFile: return "\(Checksums.fileName) is missing or unreadable"
            case let .malformedLine(n): return "\(Checksums.fileName) line \(n) is not '<sha256>  <path>'"
            case let .missing(path): return "\(path): listed in \(Checksums.fileName) but missing"
            case let .modified(path): return "\(path): contents differ from its SHA-256 in \(Checksums.fileName)"
            case let .unlisted(path): return "\(path): not listed in \(Checksums.fileName)"
            }
        }
    }

    /// Checks every file below `directory` against `SHA256SUMS`; an empty result means all agree.
    public static func verify(directory: URL) throws -> [Problem] {
        guard let text = try? String(contentsOf: directory.appendingPathComponent(fileName), encoding: .utf8)
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
            listed.insert(path)
            let url = directory.appendingPathComponent(path)
            guard FileManager.default.fileExists(atPath: url.path) else {
                problems.append(.missing(path))
                continue
            }
            if try sha256(of: url) != parts[0] { problems.append(.modified(path)) }
        }
        for path in try files(in: directory) where !listed.contains(path) {
            problems.append(.unlisted(path))
        }
        return problems
    }
}
