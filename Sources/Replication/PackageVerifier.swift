import AlphaFit
import Foundation

/// Checks a replication package: its files against SHA256SUMS, the files its README names,
/// and its stated fit and errors against a refit from its own data.
public enum PackageVerifier {
    /// The outcome of a check: the problems found (none means the package holds).
    public struct Report: Sendable {
        /// What does not hold, one line each, naming the file.
        public var problems: [String]
        /// Files checked against SHA256SUMS.
        public var checkedFiles: Int
        /// The groups refitted.
        public var refittedGroups: [String]
        /// Whether the package holds.
        public var ok: Bool { problems.isEmpty }
    }

    /// Relative tolerance for a refitted parameter or a recomputed error.
    public static let tolerance = 1e-6

    /// Checks the package at `directory`; throws only when it cannot be read at all.
    public static func verify(directory: String) throws -> Report {
        let root = URL(fileURLWithPath: directory)
        var problems: [String] = []
        guard FileManager.default.fileExists(atPath: root.appendingPathComponent(Checksums.fileName).path) else {
            return Report(
                problems: ["\(directory): no \(Checksums.fileName); not a convsweep package"], checkedFiles: 0,
                refittedGroups: [])
        }
        problems += try Checksums.verify(directory: root).map(\.description)
        let files = try Checksums.files(in: root)

        // Every file the README links to exists.
        if let readme = try? String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8) {
            for target in linkedFiles(readme)
            where !FileManager.default.fileExists(atPath: root.appendingPathComponent(target).path) {
                problems.append("README.md names \(target), which is missing")
            }
        } else {
            problems.append("README.md: missing")
        }
        guard problems.isEmpty else { return Report(problems: problems, checkedFiles: files.count, refittedGroups: []) }

        // Refit from the package's own data with the recorded settings.
        let statement: PackageStatement
        do {
            statement = try JSONDecoder().decode(
                PackageStatement.self, from: Data(contentsOf: root.appendingPathComponent("package.json")))
        } catch {
            return Report(
                problems: ["package.json: unreadable (\(error))"], checkedFiles: files.count, refittedGroups: [])
        }
        let stated = try FitReport.load(path: root.appendingPathComponent("fit/alpha.json").path)
        var refit = stated
        var refittedGroups: [String] = []
        if let options = stated.options, statement.data.contains(where: { $0.experiment == "regression" }) {
            let dataset = try FitDataset.load(paths: [root.appendingPathComponent("data/regression.csv").path])
            refit = try AlphaFitter(options: options).fit(dataset)
            for group in stated.fits {
                guard let again = refit.fits.first(where: { $0.group == group.group }) else {
                    problems.append(
                        "fit/alpha.json: group \(group.group) does not come back from a refit of data/regression.csv")
                    continue
                }
                for (name, value) in group.parameters {
                    let other = again.parameters[name] ?? .nan
                    if !close(value, other) {
                        problems.append(
                            "fit/alpha.json: \(group.group) \(name) = \(value), a refit of data/regression.csv gives \(other)"
                        )
                    }
                    if let claimed = statement.parameters[group.group]?[name], claimed != value {
                        problems.append(
                            "package.json: \(group.group) \(name) = \(claimed) differs from fit/alpha.json (\(value))")
                    }
                }
                refittedGroups.append(group.group)
            }
        }
        // Recompute predictions and errors with the (re)fitted parameters.
        let (_, errors) = try PackageBuilder.predict(fit: refit, root: root, dataFiles: statement.data.map(\.path))
        let written = try Table(contentsOf: root.appendingPathComponent("fit/errors.csv"))
        if written.rows.count != errors.rows.count {
            problems.append("fit/errors.csv: \(written.rows.count) series, recomputing gives \(errors.rows.count)")
        } else {
            for (a, b) in zip(written.rows, errors.rows) {
                if a[0] != b[0] || a[1] != b[1] || !close(Double(a[3]) ?? .nan, Double(b[3]) ?? .nan) {
                    problems.append(
                        "fit/errors.csv: \(a[0]) \(a[1]) states RMSE \(a[3]) ms, recomputing gives \(b[3]) ms")
                }
            }
        }
        if PackageBuilder.errorStatements(written) != statement.errors {
            problems.append("package.json: its errors differ from fit/errors.csv")
        }
        return Report(problems: problems, checkedFiles: files.count, refittedGroups: refittedGroups)
    }

    static func close(_ a: Double, _ b: Double) -> Bool {
        if a == b { return true }
        guard a.isFinite, b.isFinite else { return false }
        return abs(a - b) <= tolerance * max(abs(a), abs(b), 1e-12)
    }

    /// Relative links of a Markdown text: `](path)` targets that are not URLs or anchors.
    static func linkedFiles(_ markdown: String) -> Set<String> {
        var targets = Set<String>()
        var rest = Substring(markdown)
        while let open = rest.range(of: "](") {
            rest = rest[open.upperBound...]
            guard let close = rest.firstIndex(of: ")") else { break }
            let target = String(rest[..<close])
            if !target.contains("://"), !target.hasPrefix("#"), !target.isEmpty { targets.insert(target) }
            rest = rest[close...]
        }
        return targets
    }
}
