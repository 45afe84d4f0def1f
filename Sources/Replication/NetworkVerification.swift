import AlphaFit
import Basics
import Foundation
import Rows
import Runner
import Sweeps

extension PackageVerifier {
    /// Relative tolerance of a network's predicted time and of what is derived from it (its
    /// error, MAPE, Spearman and Kendall): a sum over dozens of layers of fits that may sit on a
    /// bound or be ill-conditioned, recomputed on another CPU's kernels.
    public static let networkTolerance = 1e-4

    /// Checks the networks section (`networks/`): every network's measured time, indicators and
    /// time by kind recomputed from its data file and network file, every parametric model
    /// refitted on the package's sample and its predictions summed again, and the ranking
    /// recomputed (the trees from their stated network times: another scikit-learn may grow other
    /// trees). Returns the problems, each naming its file (none for a package without the section),
    /// and the networks recomputed.
    static func verifyNetworks(
        root: URL, contents: PackageContents, data: [PackageStatement.DataFile]
    ) -> (problems: [String], networks: Int, table: NetworkTable?) {
        guard contents.holds(.networkTable) || contents.holds(.networkDefinition) else { return ([], 0, nil) }
        do {
            let networks = try NetworkTable.definitions(package: root)
            guard !networks.isEmpty else {
                return (["\(NetworkTable.definitionsDirectory): no network files"], 0, nil)
            }
            let stated = try Table(contentsOf: root.appendingPathComponent(NetworkTable.networksFile))
            let fits = try PackageLayout.decode([FitReport].self, NetworkTable.fitsFile, in: root)
            for fit in fits { try fit.validate(source: NetworkTable.fitsFile) }
            guard let options = fits.first?.options else {
                return (["\(NetworkTable.fitsFile): no fit with its options"], networks.count, nil)
            }
            let measurements = try networkRows(networks, data: data, root: root)
            let regression = try MeasurementsFile.read(
                path: root.appendingPathComponent(PackageLayout.regressionData).path)
            let excluded = PackageBuilder.mainFitExclusions(of: regression)
            let sample = try PackageBuilder.networkSample(root: root, excluded: excluded)
            // The models the package fitted, and those its README says it could not (tried again:
            // the README is rendered again from what they say now); a model it neither fitted nor
            // names is one the package was written before.
            let readme = (try? String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)) ?? ""
            var again = try NetworkTable.build(
                networks: networks, measurements: measurements, sample: sample, options: options,
                models: NetworkTable.parametricModels.filter { model in
                    fits.contains { $0.model == model } || readme.contains("`\(model.rawValue)` could not be fitted (")
                },
                shippedFiles: nil)
            // The trees' network times as stated.
            if let trees = stated.column("\(TreeCeiling.name)_ms") {
                again.models.append(TreeCeiling.name)
                for (i, row) in again.rows.enumerated() {
                    let statedRow = stated.rows.first { $0.first == row.network }
                    again.rows[i].predictedMs.append(statedRow.flatMap { Double($0[trees]) })
                }
            }
            var problems: [String] = []
            // Each stated fit's parameters predict the sample as the refit's do (the networks'
            // predictions are recomputed from the refits, so a stated parameter is checked here).
            for fit in fits {
                guard let refit = again.fits.first(where: { $0.model == fit.model }) else {
                    problems.append("\(NetworkTable.fitsFile): \(fit.model.rawValue) does not come back from a refit")
                    continue
                }
                problems += PackageVerifier.statedPredictions(
                    fit, refit: refit, rows: sample.rows, file: "\(NetworkTable.fitsFile) (\(fit.model.rawValue))",
                    relative: networkTolerance)
                problems += PackageVerifier.statedInputs(
                    fit, refit: refit, file: "\(NetworkTable.fitsFile) (\(fit.model.rawValue))")
                for (group, other) in zip(fit.fits, refit.fits) {
                    guard group.group == other.group else {
                        problems.append(
                            "\(NetworkTable.fitsFile) (\(fit.model.rawValue)): group \(group.group) where a refit has \(other.group)"
                        )
                        continue
                    }
                    problems += compareFiguresOfMerit(
                        group, refit: other, file: "\(NetworkTable.fitsFile) (\(fit.model.rawValue))")
                }
            }
            for (file, recomputed) in [
                (NetworkTable.networksFile, again.networksTable), (NetworkTable.kindsFile, again.kindsTable),
                (NetworkTable.rankingFile, again.rankingTable),
            ] {
                let written =
                    file == NetworkTable.networksFile
                    ? stated : try Table(contentsOf: root.appendingPathComponent(file))
                if let problem = compare(written, recomputed, file: file) { problems.append(problem) }
            }
            problems += verifyFramework(root: root, table: again)
            problems += verifyDefinitions(root: root)
            return (problems, networks.count, again)
        } catch {
            return (["\(NetworkTable.directory): cannot be recomputed (\(error))"], 0, nil)
        }
    }

    /// Each network file of `networks/definitions/` is the one the run measured: a file the
    /// run's manifest records by its SHA-256, or, for a network imported from an ONNX model, the
    /// file `networks import` writes of the model whose SHA-256 the manifest records (the costs
    /// are recomputed from the layers, but a name, a comment or an uncounted operator is read by
    /// no figure).
    static func verifyDefinitions(root: URL) -> [String] {
        // manifest.json: the run's (byte for byte `run/manifest.json`, which its own check holds).
        let measured: Set<String>
        do {
            measured = Set(
                try RunManifest.read(path: root.appendingPathComponent(PackageLayout.manifest).path).sweeps.map(
                    \.sha256))
        } catch {
            return ["\(NetworkTable.definitionsDirectory): cannot be checked against the run's manifest (\(error))"]
        }
        let folder = root.appendingPathComponent(NetworkTable.definitionsDirectory)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".yaml") }.sorted()
        var problems: [String] = []
        for name in names {
            let file = "\(NetworkTable.definitionsDirectory)/\(name)"
            guard let contents = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) else {
                problems.append("\(file): unreadable")
                continue
            }
            if measured.contains(SHA256Hex.of(contents)) { continue }
            // An imported network: the file written of a model the run measured.
            if let network = try? Network(contents: contents, path: file), let model = network.model,
                measured.contains(model.sha256), Data(network.fileText().utf8) == contents
            {
                continue
            }
            problems.append(
                "\(file): not a network file the run measured (its SHA-256, or its model's, is none the run's manifest records)"
            )
        }
        return problems
    }

    /// `networks/framework.csv` against the reference the package holds and the networks' sums:
    /// the reference must be of the package's machine, and the table what they give.
    static func verifyFramework(root: URL, table: NetworkTable) -> [String] {
        let file = FrameworkSection.tableFile
        let stated = root.appendingPathComponent(file)
        do {
            let manifest = try RunManifest.read(path: root.appendingPathComponent(PackageLayout.manifest).path)
            guard let reference = try FrameworkSection.reference(package: root, manifest: manifest) else {
                return FileManager.default.fileExists(atPath: stated.path)
                    ? ["\(file): the package holds no \(FrameworkSection.referenceFile) it could come from"] : []
            }
            let section = try FrameworkSection(reference: reference, table: table)
            guard FileManager.default.fileExists(atPath: stated.path) else {
                return ["\(file): missing; the package holds \(FrameworkSection.referenceFile)"]
            }
            return compare(try Table(contentsOf: stated), section.table, file: file).map { [$0] } ?? []
        } catch {
            return ["\(FrameworkSection.referenceFile): \(error)"]
        }
    }

    /// The first difference between a stated table and its recomputation, naming the file, row and
    /// column: predicted times and what derives from them within ``networkTolerance``, other
    /// numbers within ``tolerance``, text exactly.
    /// A package written before a column was added states a table without it: the recomputed
    /// table is then compared without it too.
    static func compare(_ stated: Table, _ recomputed: Table, file: String) -> String? {
        var recomputed = recomputed
        let missing = Set(recomputed.header).subtracting(stated.header)
        if !missing.isEmpty, missing.isSubset(of: NetworkTable.addedColumns) {
            let kept = recomputed.header.indices.filter { !missing.contains(recomputed.header[$0]) }
            recomputed.header = kept.map { recomputed.header[$0] }
            recomputed.rows = recomputed.rows.map { row in kept.map { row[$0] } }
        }
        guard stated.header == recomputed.header else {
            return
                "\(file): columns \(stated.header.joined(separator: ",")), recomputing gives \(recomputed.header.joined(separator: ","))"
        }
        guard stated.rows.count == recomputed.rows.count else {
            return "\(file): \(stated.rows.count) rows, recomputing gives \(recomputed.rows.count)"
        }
        let loose: Set<String> = ["mape_percent", "spearman", "kendall"]
        for (line, (a, b)) in zip(stated.rows, recomputed.rows).enumerated() {
            for (column, name) in stated.header.enumerated() where a[column] != b[column] {
                let relative =
                    name.hasSuffix("_ms") && !name.hasPrefix("measured") || loose.contains(name)
                    ? networkTolerance : tolerance
                // Through ``close(_:_:slack:relative:)``: an infinity is close to nothing but itself
                // (fuzz seed 35: a count of pairs written -inf passed as within a tolerance of 0).
                if let x = Double(a[column]), let y = Double(b[column]), close(x, y, relative: relative) { continue }
                return "\(file): line \(line + 2), \(name) states \(a[column]), recomputing gives \(b[column])"
            }
        }
        return nil
    }

    /// The rows of `networks` in the package's `data` files: each network's own file, and those
    /// of its layers at a larger batch, found by the experiment the statement gives each file.
    static func networkRows(
        _ networks: [Network], data: [PackageStatement.DataFile], root: URL
    ) throws -> [MeasurementRow] {
        var rows: [MeasurementRow] = []
        for network in networks {
            let files = data.filter {
                $0.experiment == network.name || Network.batchOf(experiment: $0.experiment)?.network == network.name
            }
            for file in files.sorted(by: { $0.path < $1.path }) {
                rows += try MeasurementsFile.read(path: root.appendingPathComponent(file.path).path)
            }
        }
        return rows
    }
}
