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
        return problems
    }
}
