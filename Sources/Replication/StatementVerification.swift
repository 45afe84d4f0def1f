import Analysis
import Foundation
import Measurement
import Rows
import Runner

extension PackageVerifier {
    /// The `package.json` format versions this convsweep reads.
    public static let knownFormatVersions = 1...PackageStatement.currentFormatVersion

    /// The largest `topology.xml` a check reads (hwloc's export of a machine with thousands of PUs
    /// is a few MiB).
    static let maximumTopologyBytes = 16 << 20

    /// What a package states about its files, checked against the files themselves: the format
    /// version, every data file inside `data/` and listed in `SHA256SUMS` (`files`), its counts of
    /// rows and measured rows, no data file the statement leaves out, and — from `run/` — that
    /// `data/` is exactly what the run's rows give and that `manifest.json` and `topology.xml` are
    /// the run's, readable, and of the machine the statement names. A package without `run/`
    /// fails: what its data came from cannot be checked.
    static func verifyStatement(_ statement: PackageStatement, root: URL, files: Set<String>) -> [String] {
        let file = PackageLayout.statement
        var problems: [String] = []
        var paths = Set<String>()
        var rowsOf: [String: [MeasurementRow]] = [:]
        for entry in statement.data {
            let name = entry.path.dropFirst("\(PackageLayout.dataDirectory)/".count)
            guard entry.path.hasPrefix("\(PackageLayout.dataDirectory)/"), !name.isEmpty, !name.contains("/"),
                files.contains(entry.path)
            else {
                problems.append("\(file): data file \(entry.path) is not a file of data/ listed in SHA256SUMS")
                continue
            }
            guard paths.insert(entry.path).inserted else {
                problems.append("\(file): data file \(entry.path) is listed twice")
                continue
            }
            do {
                let rows = try MeasurementsFile.read(path: root.appendingPathComponent(entry.path).path)
                rowsOf[entry.path] = rows
                let measured = rows.filter(\.status.isOK).count
                if rows.count != entry.configurations || measured != entry.measured {
                    problems.append(
                        "\(file): \(entry.path) states \(entry.configurations) configurations, \(entry.measured) measured; the file holds \(rows.count), \(measured) measured"
                    )
                }
            } catch {
                problems.append("\(error)")
            }
        }
        for path in files.sorted()
        where path.hasPrefix("\(PackageLayout.dataDirectory)/") && !paths.contains(path) {
            problems.append("\(path): a data file \(file) does not list")
        }
        return problems + verifyAgainstRun(statement, root: root, files: files)
    }

    /// `data/`, `manifest.json` and `topology.xml` against `run/`.
    private static func verifyAgainstRun(_ statement: PackageStatement, root: URL, files: Set<String>) -> [String] {
        let run = RunDirectory(path: root.appendingPathComponent("run").path)
        guard files.contains("run/manifest.json"), files.contains("run/measurements.csv") else {
            return [
                "run/: missing, so data/ cannot be checked against the measurements it came from (build the package with `convsweep replicate`, or `convsweep package` from one run)"
            ]
        }
        var problems: [String] = []
        func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }
        // The manifest: the run's, readable, complete, of the machine the statement names.
        do {
            let manifest = try RunManifest.read(path: run.manifestPath)
            if manifest.status != .complete {
                problems.append("run/manifest.json: the run is \(manifest.status), not complete")
            }
            let label = PackageBuilder.machineLabel(manifest.machine)
            if label != statement.machineLabel {
                problems.append(
                    "\(PackageLayout.statement): machine \(statement.machineLabel), but run/manifest.json was measured on \(label)"
                )
            }
        } catch {
            problems.append("run/manifest.json: \(error)")
        }
        if bytes(root.appendingPathComponent(PackageLayout.manifest).path) != bytes(run.manifestPath) {
            problems.append("\(PackageLayout.manifest): differs from run/manifest.json, which it copies")
        }
        // The topology: hwloc's own reader, and the same file as the run's.
        if files.contains("run/topology.xml") || files.contains(PackageLayout.topology) {
            problems += verifyTopology(root: root, run: run)
        }
        // data/: exactly what the run's rows give.
        do {
            let rows = try MeasurementsFile.read(path: run.measurementsPath)
            let networks = Set(((try? NetworkTable.definitions(package: root)) ?? []).map(\.name))
            let expected = PackageBuilder.dataFiles(of: rows, networks: networks)
            if expected.files != statement.data {
                problems.append(
                    "\(PackageLayout.statement): its data files differ from what run/measurements.csv gives (\(expected.files.map(\.path).joined(separator: ", ")))"
                )
            }
            for (entry, text) in zip(expected.files, expected.texts) {
                if bytes(root.appendingPathComponent(entry.path).path) != Data(text.utf8) {
                    problems.append("\(entry.path): differs from the rows run/measurements.csv gives it")
                }
            }
            // run/rounds.csv: each round once, and of the configuration its row describes.
            if let mismatch = MeasurementSource.roundMismatch(
                try MeasurementSource.rounds(at: run.path), rows: rows, file: "run/rounds.csv")
            {
                problems.append(mismatch)
            }
        } catch {
            problems.append("\(error)")
        }
        return problems
    }

    /// Whether the package's topology.xml is the run's, and hwloc reads it.
    private static func verifyTopology(root: URL, run: RunDirectory) -> [String] {
        let copy = FileManager.default.contents(atPath: root.appendingPathComponent(PackageLayout.topology).path)
        let original = FileManager.default.contents(atPath: run.topologyPath)
        guard copy == original else {
            return ["\(PackageLayout.topology): differs from run/topology.xml, which it copies"]
        }
        guard let xml = original else { return [] }
        guard xml.count <= maximumTopologyBytes else {
            return ["\(PackageLayout.topology): larger than \(maximumTopologyBytes) bytes"]
        }
        do { _ = try Topology.checkXML(String(decoding: xml, as: UTF8.self)) } catch {
            return ["\(PackageLayout.topology): \(error)"]
        }
        return []
    }
}
