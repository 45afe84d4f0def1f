import Foundation

/// What build of convsweep is running: its version and the git commit it was built from.
///
/// The commit is read from the stamp `share/convsweep/BUILD_COMMIT` that `scripts/install` writes
/// beside an installed executable, else from the source tree the executable was built in
/// (`git rev-parse HEAD`, with `-dirty` when a tracked file outside `results/` is modified: runs
/// write their output under `results/` by default, so a run in progress does not make its own tree
/// dirty), and with `-stale` when the executable is older than a file of the tree's `Sources/` or
/// its `Package.swift`: it was built before the tree last changed (a `git pull` without a
/// rebuild), so the commit read from the tree may not be the one it was built from.
public enum BuildInfo {
    /// The version of convsweep: the one place it is written.
    public static let version = "0.20.0"

    /// The name of the commit stamp that `scripts/install` writes into `PREFIX/share/convsweep`.
    public static let commitStampName = "BUILD_COMMIT"

    /// The commit convsweep was built from, or nil when neither a stamp nor a source tree tells.
    public static func gitCommit(
        executable: String = BuildInfo.executablePath(), sourceFile: String = #filePath
    ) -> String? {
        let prefix = ((executable as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        let stamp = (prefix as NSString).appendingPathComponent("share/convsweep/\(commitStampName)")
        if let data = FileManager.default.contents(atPath: stamp) {
            let commit = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if !commit.isEmpty { return commit }
        }
        let directory = (sourceFile as NSString).deletingLastPathComponent
        guard let commit = git(["rev-parse", "HEAD"], in: directory), !commit.isEmpty else { return nil }
        let status = git(
            ["status", "--porcelain", "--untracked-files=no", "--", ":/", ":(exclude,top)results"], in: directory)
        let root = ((directory as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        return commit + ((status ?? "").isEmpty ? "" : "-dirty")
            + (isBuiltBeforeItsSources(executable: executable, root: root) ? "-stale" : "")
    }

    /// Whether `executable` is older than a file under `root/Sources` or `root/Package.swift`
    /// (false when it cannot be read). A rebuild whose executable comes out the same (a comment
    /// edited) leaves it unlinked, and so still older: the marker then persists until a change
    /// relinks it; the executable's SHA-256, recorded beside the commit, tells builds apart.
    static func isBuiltBeforeItsSources(executable: String, root: String) -> Bool {
        let manager = FileManager.default
        func modified(_ path: String) -> Date? {
            guard let attributes = try? manager.attributesOfItem(atPath: path),
                attributes[.type] as? FileAttributeType == .typeRegular
            else { return nil }
            return attributes[.modificationDate] as? Date
        }
        guard let built = modified(executable) else { return false }
        let sources = (root as NSString).appendingPathComponent("Sources")
        let files =
            [(root as NSString).appendingPathComponent("Package.swift")]
            + (manager.enumerator(atPath: sources)?.compactMap { $0 as? String }.map {
                (sources as NSString).appendingPathComponent($0)
            } ?? [])
        return files.contains { path in modified(path).map { $0 > built } ?? false }
    }

    /// The hex SHA-256 of the executable at `path` (default: the running one), or nil when it
    /// cannot be read. It tells two builds apart where the commit cannot: two builds of one
    /// commit with other compilers or flags, or an executable built before its source tree moved
    /// on (the commit is read from the tree when the executable runs, not when it was built).
    public static func executableSHA256(path: String = BuildInfo.executablePath()) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let hasher = SHA256Hasher()
        while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(chunk) }
        return SHA256Hex.hex(hasher.finalize())
    }

    /// `convsweep VERSION (commit …)`, as `--version` prints it.
    public static func versionLine() -> String {
        "convsweep \(version) (commit \(gitCommit() ?? "unknown"))"
    }

    /// The real path of the running executable (`/proc/self/exe`), or `argv[0]` where it cannot
    /// be read.
    public static func executablePath() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
    }

    private static func git(_ arguments: [String], in directory: String) -> String? {
        guard
            let (status, output) = try? Subprocess.run(
                "/usr/bin/env", ["git", "-C", directory] + arguments, discardingErrors: true),
            status == 0
        else { return nil }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
