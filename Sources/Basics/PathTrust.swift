import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Whether a path is under the control of this user and root alone: the rule convsweep applies
/// before it runs, reads as its own, or writes into a file or directory that another user could
/// have planted or could swap (docs/security.md).
///
/// A path is trusted when every entry on the way to it, `/` included and every symbolic link
/// followed, is
/// - owned by root or by the effective user, and
/// - a directory writable by others, or by a group other than root's (gid 0), only if it is
///   sticky (`/tmp`, `/run/lock`): there nobody else can rename or delete an entry this user or
///   root owns, so the next entry, itself owned by root or this user, cannot be swapped.
///
/// The last entry is held to ``Rule``: ``Rule/private`` (the source tree, the cache, the
/// Python convsweep runs) may not be writable by group or others even when sticky;
/// ``Rule/shared`` (a lock directory every user writes) may be, when sticky.
///
/// Symbolic links are followed (at most 40) and checked like any entry: a link owned by another
/// user, or in a directory another user can write, is refused, so the checked path cannot be
/// redirected after the check.
public enum PathTrust {
    /// How the last entry of a path is judged.
    public enum Rule: Sendable {
        /// Writable by this user and root only.
        case `private`
        /// May be writable by everyone when sticky (a shared lock directory).
        case shared
    }

    /// Why `path` is not trusted, nil when it is. A path that does not exist is not trusted
    /// ("does not exist"); ``problem(creating:uid:)`` judges a path about to be created.
    ///
    /// - Parameters:
    ///   - path: the path (relative paths are taken from the current directory).
    ///   - rule: how the last entry is judged.
    ///   - uid: the user besides root who may own entries (default: the effective user).
    public static func problem(at path: String, rule: Rule = .private, uid: uid_t = geteuid()) -> String? {
        walk(path, rule: rule, uid: uid).problem
    }

    /// Why a file or directory may not be created at `path` (its parent is not trusted as a
    /// shared or private directory, or `path` exists and is not trusted), nil when it may.
    public static func problem(creating path: String, rule: Rule = .private, uid: uid_t = geteuid()) -> String? {
        let outcome = walk(path, rule: rule, uid: uid)
        guard let missing = outcome.missing else { return outcome.problem }
        // Missing: the directory it would be created in must be trusted (shared or private).
        let parent = (missing as NSString).deletingLastPathComponent
        return walk(parent.isEmpty ? "/" : parent, rule: .shared, uid: uid).problem
    }

    private struct Outcome {
        var problem: String?
        /// The first entry that does not exist, when that was the problem.
        var missing: String?
    }

    private static func walk(_ path: String, rule: Rule, uid: uid_t) -> Outcome {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var pending = components(absolute)
        var resolved = ""
        var links = 0
        if let problem = judge("/", rule: pending.isEmpty ? rule : .shared, uid: uid, last: pending.isEmpty).problem {
            return Outcome(problem: problem)
        }
        while !pending.isEmpty {
            let name = pending.removeFirst()
            if name == "." { continue }
            if name == ".." {
                resolved = (resolved as NSString).deletingLastPathComponent
                if resolved == "/" { resolved = "" }
                continue
            }
            let candidate = resolved + "/" + name
            let last = pending.isEmpty
            let verdict = judge(candidate, rule: rule, uid: uid, last: last)
            if let problem = verdict.problem {
                return Outcome(problem: problem, missing: verdict.missing ? candidate : nil)
            }
            if let target = verdict.linkTarget {
                links += 1
                guard links <= 40 else { return Outcome(problem: "\(path): too many symbolic links") }
                if target.hasPrefix("/") { resolved = "" }
                pending = components(target) + pending
                continue
            }
            resolved = candidate
        }
        return Outcome(problem: nil)
    }

    private struct Verdict {
        var problem: String?
        var missing = false
        var linkTarget: String?
    }

    private static func judge(_ entry: String, rule: Rule, uid: uid_t, last: Bool) -> Verdict {
        var info = stat()
        guard lstat(entry, &info) == 0 else {
            let missing = errno == ENOENT
            return Verdict(problem: "\(entry): \(errorText(errno))", missing: missing)
        }
        if info.st_uid != 0 && info.st_uid != uid {
            return Verdict(problem: "\(entry) is owned by \(userName(info.st_uid)), neither root nor this user")
        }
        let kind = info.st_mode & S_IFMT
        if kind == S_IFLNK {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink(entry, &buffer, buffer.count - 1)
            guard count >= 0 else { return Verdict(problem: "\(entry): \(errorText(errno))") }
            return Verdict(
                linkTarget: String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        // Group write is others' write unless the group is root's (gid 0, root alone by convention).
        let othersWrite = info.st_mode & S_IWOTH != 0 || (info.st_mode & S_IWGRP != 0 && info.st_gid != 0)
        let sticky = info.st_mode & S_ISVTX != 0
        if othersWrite && (!sticky || kind != S_IFDIR || (last && rule == .private)) {
            let mode = String(info.st_mode & 0o7777, radix: 8)
            return Verdict(problem: "\(entry) is writable by other users (mode \(mode))")
        }
        return Verdict()
    }

    private static func components(_ path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    }

    /// `alice (uid 1000)`, or `uid 1000` when the user has no name.
    public static func userName(_ uid: uid_t) -> String {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "uid \(uid)" }
        return "\(String(cString: name)) (uid \(uid))"
    }
}
