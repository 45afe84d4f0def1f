import AlphaFit
import Analysis
import Foundation
import Rows

extension PackageVerifier {
    /// `threads/` against what the rows of `data/` give: each file the same text, none missing
    /// when the rows hold several thread counts, none when they do not.
    static func verifyThreadScaling(
        root: URL, contents: PackageContents, data: [PackageStatement.DataFile]
    ) -> [String] {
        var rows: [MeasurementRow] = []
        for entry in data {
            do { rows += try MeasurementsFile.read(path: root.appendingPathComponent(entry.path).path) } catch {
                return ["\(error)"]
            }
        }
        let expected = Dictionary(
            uniqueKeysWithValues: ThreadScaling(rows: rows).packageFiles.map {
                (PackageLayout.threadsDirectory + "/" + $0.name, $0.text)
            })
        var problems: [String] = []
        let listed = contents.paths(.threadScaling)

        for path in listed {
            guard let text = expected[path] else {
                problems.append(
                    "\(path): not a table the rows of data/ give (no configuration at one thread and at more, or no such table)"
                )
                continue
            }
            let stated = (try? String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)) ?? ""
            if stated != text { problems.append("\(path): differs from the speedups the rows of data/ give") }
        }
        for path in expected.keys.sorted() where !listed.contains(path) {
            problems.append("\(path): missing; the rows of data/ hold configurations at several thread counts")
        }
        // Each network at every count, from its definition and the rows.
        let file = PackageLayout.threadNetworks
        do {
            let scaling = try NetworkScaling(networks: try NetworkTable.definitions(package: root), measurements: rows)
            if contents.holds(.networkScaling) {
                let stated = (try? String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)) ?? ""
                if scaling.rows.isEmpty {
                    problems.append("\(file): the package has no network measured at one thread and at more")
                } else if stated != scaling.csv {
                    problems.append("\(file): differs from the networks' costs the rows of data/ give at each count")
                }
            } else if !scaling.rows.isEmpty {
                problems.append("\(file): missing; the networks were measured at several thread counts")
            }
        } catch {
            problems.append("\(file): cannot be recomputed (\(error))")
        }
        return problems
    }
}

extension PackageVerifier {
    /// `threads/across-counts.json` judged again from the regression rows its `excluded` leaves:
    /// each model's whole-sample fit (every group's sum of squares) and, at every count, the
    /// held-out MAPE and share within ±10% of each count's own fit and of the fit across counts
    /// (a share may move by one row: a prediction at the ±10% edge).
    static func verifyAcrossCounts(
        root: URL, regression: ([RowFilter]?) throws -> FitDataset
    ) throws -> (problems: [String], refitted: [String]) {
        let file = PackageLayout.acrossCounts
        var problems: [String] = []
        var refitted: [String] = []
        for stated in try PackageBuilder.acrossCountsJudgements(package: root) {
            let name = stated.model.rawValue
            let again = try SerialShareFitter(options: stated.fit.options, form: stated.fit.form).judge(
                try regression(stated.excluded), folds: stated.folds, seed: stated.seed)
            guard again.configurations == stated.configurations, again.heldOut.count == stated.heldOut.count,
                again.fit.groups.map(\.group) == stated.fit.groups.map(\.group)
            else {
                problems.append(
                    "\(file): \(name) states \(stated.configurations) configurations at \(stated.heldOut.map(\.threads)) threads in groups \(stated.fit.groups.map(\.group)); the rows give \(again.configurations) at \(again.heldOut.map(\.threads)) in \(again.fit.groups.map(\.group))"
                )
                continue
            }
            for (group, other) in zip(stated.fit.groups, again.fit.groups) where !close(group.sse, other.sse) {
                problems.append(
                    "\(file): \(name) \(group.group) SSE = \(group.sse), a refit of its rows reaches \(other.sse)")
            }
            for (count, other) in zip(stated.heldOut, again.heldOut) {
                for (label, a, b) in [
                    ("each count's own fit", count.perCount, other.perCount),
                    ("the fit across counts", count.acrossCounts, other.acrossCounts),
                ] {
                    // Another CPU's refit may move a row across a limit, and a figure by 1e-3.
                    if !a.agrees(with: b, relative: 1e-3, shareSlack: 100 / Double(max(1, b.n)) + 1e-9) {
                        problems.append(
                            "\(file): \(name) at \(count.threads) threads, \(label): stated \(a.n) rows, MAPE \(a.mapePercent)%, \(a.within10Percent)% within ±10%; judged again: \(b.n), \(b.mapePercent)%, \(b.within10Percent)%"
                        )
                    }
                }
                if count.better
                    != ThreadCountJudgement.better(perCount: count.perCount, acrossCounts: count.acrossCounts)
                {
                    problems.append(
                        "\(file): \(name) at \(count.threads) threads says '\(count.better)', which its own figures contradict"
                    )
                }
            }
            refitted += stated.fit.groups.map { "\($0.group) (\(name) across counts)" }
        }
        // A model the package leaves out must be one its rows cannot fit.
        let main = try FitReport.load(path: root.appendingPathComponent(PackageLayout.fit).path)
        if let options = main.options {
            let stated = Set(try PackageBuilder.acrossCountsJudgements(package: root).map(\.model))
            let backends = (main.excluded ?? []).filter { $0.column != "threads" }
            for model in PackageBuilder.acrossCountsModels(options) where !stated.contains(model) {
                var each = options
                each.model = model
                if (try? SerialShareFitter(options: each).judge(
                    try regression(backends), folds: PackageBuilder.acrossCountsFolds, seed: options.seed)) != nil
                {
                    problems.append(
                        "\(file): leaves out \(model.rawValue), which the regression rows fit across counts")
                }
            }
        }
        return (problems, refitted)
    }
}
