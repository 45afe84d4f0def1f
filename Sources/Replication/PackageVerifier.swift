import AlphaFit
import Analysis
import Basics
import ConvKernels
import Foundation
import Rows
import Runner
import Sweeps

/// Checks a replication package: its files against SHA256SUMS, the files its README names,
/// and its stated fit, predictions and errors against a refit from its own data.
///
/// The check travels: another CPU's OpenBLAS kernels round differently, so a refit on another
/// machine lands a little elsewhere in a flat valley of the sum of squares. The refit must reach
/// the stated sum of squares, predictions and errors within a relative ``tolerance``; each
/// parameter is compared within what its conditioning allows, the larger of a relative
/// ``tolerance`` and ``standardErrorShare`` of its standard error (an ill-conditioned group's
/// parameters may move, its predictions may not; a parameter without a standard error is judged
/// through the predictions alone).
public enum PackageVerifier {
    /// The outcome of a check: the problems found (none means the package holds).
    public struct Report: Sendable {
        /// What does not hold, one line each, naming the file.
        public var problems: [String]
        /// Files checked against SHA256SUMS.
        public var checkedFiles: Int
        /// The groups refitted.
        public var refittedGroups: [String]
        /// The models of the model table whose held-out predictions a new cross-validation gave
        /// again (the trees: whose metrics their predictions give).
        public var modelsConfirmed: [String] = []
        /// The networks of the networks section recomputed (0: the package has none).
        public var networksRecomputed = 0
        /// Whether the package holds.
        public var ok: Bool { problems.isEmpty }
        /// Whether the package states a format version this convsweep does not read (nothing
        /// else was checked).
        public var unknownFormat = false
        /// The networks section as recomputed (nil without one), for the README's check.
        var networkTable: NetworkTable?
        /// The model table as read (nil without one), for the README's check.
        var modelTable: ModelTable?
        /// Where the models miss as recomputed (nil without `fit/misses.csv`), for the README's check.
        var misses: PackageMisses?
        /// What was checked of `compare/` (its comparison nil without one).
        public var comparison = ComparisonCheck()
    }

    /// Relative tolerance for a refitted sum of squares, prediction, error or parameter.
    public static let tolerance = 1e-6
    /// The share of a parameter's standard error it may move by in a refit.
    public static let standardErrorShare = 1e-3

    /// Relative tolerance of a stated standard error against the refit's (another CPU's refit
    /// lands within ``standardErrorShare`` of a standard error, where the Jacobian barely moves).
    public static let standardErrorTolerance = 1e-2

    /// Checks the package at `directory`, its README against `readmeTemplate` (default: the
    /// shipped template of this convsweep); throws only when it cannot be read at all.
    public static func verify(
        directory: String, readmeTemplate: String? = nil, checkingReadme: Bool = true
    ) throws -> Report {
        let root = URL(fileURLWithPath: directory)
        guard FileManager.default.fileExists(atPath: root.appendingPathComponent(Checksums.fileName).path) else {
            return Report(
                problems: ["\(directory): no \(Checksums.fileName); not a convsweep package"], checkedFiles: 0,
                refittedGroups: [])
        }
        var problems = try Checksums.verify(directory: root).map(\.description) + readmeLinks(root: root)
        let files = try Checksums.files(in: root)
        guard problems.isEmpty else { return Report(problems: problems, checkedFiles: files.count, refittedGroups: []) }
        let statement: PackageStatement
        switch readStatement(root: root, files: files) {
        case .failure(let report): return report
        case .success(let read): statement = read
        }
        let contents = self.contents(of: statement, files: files, problems: &problems)
        problems += verifyStatement(statement, root: root, files: Set(files))
        guard problems.isEmpty else { return Report(problems: problems, checkedFiles: files.count, refittedGroups: []) }
        var report = try verifyData(root: root, statement: statement, contents: contents)
        report.checkedFiles = files.count
        if report.problems.isEmpty && checkingReadme {
            report.problems += verifyReadme(
                root: root, statement: statement,
                models: report.modelTable,
                networks: report.networkTable, misses: report.misses, comparison: report.comparison,
                template: readmeTemplate ?? ShippedFiles.forFigures().readmeTemplate)
        }
        return report
    }

    /// The package's statement, of a format version this convsweep reads; else the report that
    /// says why it cannot be checked.
    private enum StatementRead {
        /// The statement, of a format version this convsweep reads.
        case success(PackageStatement)
        /// Why it cannot be checked.
        case failure(Report)
    }

    private static func readStatement(root: URL, files: [String]) -> StatementRead {
        struct Version: Decodable { var formatVersion: Int? }
        do {
            let data = try Data(contentsOf: root.appendingPathComponent(PackageLayout.statement))
            let version = try StrictJSON.decode(Version.self, from: data).formatVersion
            guard let version, knownFormatVersions.contains(version) else {
                var report = Report(
                    problems: [
                        "\(PackageLayout.statement): format version \(version.map(String.init) ?? "(none)"); this convsweep reads version \(knownFormatVersions.map(String.init).joined(separator: ", ")): nothing else was checked; check it with the convsweep that wrote it"
                    ], checkedFiles: files.count, refittedGroups: [])
                report.unknownFormat = true
                return .failure(report)
            }
            return .success(try StrictJSON.decode(PackageStatement.self, from: data))
        } catch {
            return .failure(
                Report(
                    problems: ["\(PackageLayout.statement): unreadable (\(DecodingProblem.describe(error)))"],
                    checkedFiles: files.count, refittedGroups: []))
        }
    }

    /// What the package holds: its stated list (format 2), checked against its `files`, or the
    /// one policy's reading of them (format 1); what does not hold is added to `problems`.
    static func contents(of statement: PackageStatement, files: [String], problems: inout [String]) -> PackageContents {
        let (classified, strangers) = PackageContents.classifying(files)
        if let stated = statement.contents {
            problems += stated.problems(against: files)
            return stated
        }
        if statement.formatVersion >= 2 {
            problems.append(
                "\(PackageLayout.statement): format version \(statement.formatVersion) without its contents")
        }
        problems += strangers.map { "\($0): a file that belongs in no package (docs/replication-package.md)" }
        return classified
    }

    /// Refits and recomputes what the package states from its own data with the recorded
    /// settings: the main fit and each backend's, the model table, the networks section.
    private static func verifyData(
        root: URL, statement: PackageStatement, contents: PackageContents
    ) throws -> Report {
        var problems: [String] = []
        // data/regression.csv read once per set of left-out rows (the main fit and the model table share one).
        var regressionByFilters: [[RowFilter]: FitDataset] = [:]
        func regression(excluding filters: [RowFilter]?) throws -> FitDataset {
            if let loaded = regressionByFilters[filters ?? []] { return loaded }
            let dataset = try PackageBuilder.regressionSample(root: root, excluded: filters ?? [])
            regressionByFilters[filters ?? []] = dataset
            return dataset
        }
        // A stated fit that does not read (a group twice, absurd options) is a problem of the
        // package, named with its file, not a failure to check it.
        var refittedGroups: [String] = []
        do {
            let main = try verifyMainFit(
                root: root, statement: statement, regression: { try regression(excluding: $0) })
            let backends =
                contents.holds(.backendFits)
                ? try verifyBackends(root: root, regression: { try regression(excluding: $0) })
                : (problems: [], refitted: [])
            let counts =
                contents.holds(.threadFits)
                ? try verifyThreadCountFits(root: root, regression: { try regression(excluding: $0) })
                : (problems: [], refitted: [])
            let across =
                contents.holds(.acrossCounts)
                ? try verifyAcrossCounts(root: root, regression: { try regression(excluding: $0) })
                : (problems: [], refitted: [])
            problems += main.problems + backends.problems + counts.problems + across.problems
            refittedGroups += main.refitted + backends.refitted + counts.refitted + across.refitted
        } catch {
            problems.append("\(error)")
        }
        problems += statedJSON(root: root)
        var modelsConfirmed: [String] = []
        var modelTable: ModelTable?
        var misses: PackageMisses?
        // A model table or held-out predictions file that does not read is a problem of the
        // package (named with file, line and column), not a failure to check it.
        do {
            if contents.holds(.modelTable), let (table, heldOut) = try ModelTable.load(package: root) {
                modelTable = table
                let sample = Result {
                    try FitDataset.load(
                        paths: PackageBuilder.modelTableData(root: root).map { root.appendingPathComponent($0).path },
                        excluding: table.excluded ?? [])
                }
                var refits: [FitReport] = []
                problems += verifyModels(
                    table, heldOut, regression: sample, confirmed: &modelsConfirmed, refits: &refits)
                if contents.holds(.misses) {
                    let checked = PackageMisses.verify(package: root)
                    problems += checked.problems
                    misses = checked.misses
                }
                if contents.holds(.modelPredictions) {
                    do {
                        let regression = try MeasurementsFile.read(
                            path: root.appendingPathComponent(PackageLayout.regressionData).path)
                        problems += ModelPredictions.verify(
                            root: root, table: table, refits: refits,
                            excluded: PackageBuilder.mainFitExclusions(of: regression))
                    } catch {
                        problems.append("\(ModelPredictions.fileName): cannot be recomputed (\(error))")
                    }
                }
            }
        } catch {
            problems.append("\(error)")
        }
        problems += verifyThreadScaling(root: root, contents: contents, data: statement.data)
        let networks = verifyNetworks(root: root, contents: contents, data: statement.data)
        let comparison = verifyComparison(root: root, contents: contents, statement: statement)
        var report = Report(
            problems: problems + networks.problems + comparison.problems, checkedFiles: 0,
            refittedGroups: refittedGroups, modelsConfirmed: modelsConfirmed, networksRecomputed: networks.networks)
        report.comparison = comparison
        report.networkTable = networks.table
        report.modelTable = modelTable
        report.misses = misses
        return report
    }

    /// Every file the README links to exists.
    static func readmeLinks(root: URL) -> [String] {
        guard let readme = try? String(contentsOf: root.appendingPathComponent(PackageLayout.readme), encoding: .utf8)
        else { return ["\(PackageLayout.readme): missing"] }
        return linkedFiles(readme).filter {
            !FileManager.default.fileExists(atPath: root.appendingPathComponent($0).path)
        }
        .map { "README.md names \($0), which is missing" }
    }

    /// Each backend's own fit, refitted from its rows: its groups' sums of squares.
    static func verifyBackends(
        root: URL, regression: ([RowFilter]?) throws -> FitDataset
    ) throws -> (problems: [String], refitted: [String]) {
        try refitEach(
            PackageBuilder.backendFits(package: root).map { ($0.algorithm, $0.fit) },
            file: PackageBuilder.backendFitsFile,
            regression: regression)
    }

    /// Each thread count's own fit (`threads/fits.json`), refitted from its rows.
    static func verifyThreadCountFits(
        root: URL, regression: ([RowFilter]?) throws -> FitDataset
    ) throws -> (problems: [String], refitted: [String]) {
        try refitEach(
            PackageBuilder.threadCountFits(package: root).map {
                ("\($0.threads) thread\($0.threads == 1 ? "" : "s")", $0.fit)
            }, file: PackageLayout.threadFits, regression: regression)
    }

    /// Each named fit of `file` refitted (``refit(_:named:file:regression:)``).
    static func refitEach(
        _ fits: [(name: String, fit: FitReport)], file: String, regression: ([RowFilter]?) throws -> FitDataset
    ) throws -> (problems: [String], refitted: [String]) {
        var problems: [String] = []
        var refitted: [String] = []
        for (name, fit) in fits {
            let checked = try refit(fit, named: name, file: file, regression: regression)
            problems += checked.problems
            refitted += checked.refitted
        }
        return (problems, refitted)
    }

    /// A stated fit of `file` (`named` in messages) refitted from the regression rows its
    /// `excluded` leaves: each group's sum of squares and figures of merit.
    static func refit(
        _ fit: FitReport, named name: String, file: String, regression: ([RowFilter]?) throws -> FitDataset
    ) throws -> (problems: [String], refitted: [String]) {
        guard let options = fit.options else { return ([], []) }
        var problems: [String] = []
        let dataset = try regression(fit.excluded)
        let again = try AlphaFitter(options: options).fit(dataset, excluded: fit.excluded)
        problems += statedPredictions(fit, refit: again, rows: dataset.rows, file: "\(file) (\(name))")
        problems += statedInputs(fit, refit: again, file: "\(file) (\(name))")
        for (group, other) in zip(fit.fits, again.fits) {
            let sse = group.diagnostics?.sse ?? .nan
            if group.group != other.group || !close(sse, other.diagnostics?.sse ?? .nan) {
                problems.append(
                    "\(file): \(name) \(group.group) SSE = \(sse), a refit of its rows reaches \(other.diagnostics?.sse ?? .nan)"
                )
            }
        }
        for (group, other) in zip(fit.fits, again.fits) where group.group == other.group {
            problems += compareFiguresOfMerit(group, refit: other, file: "\(file) (\(name))")
        }
        return (problems, fit.fits.map { "\($0.group) (\(name))" })
    }

    /// Refits the main fit from `data/regression.csv` with its recorded settings (`regression`
    /// reads the sample without the rows a set of filters names) and checks what the package
    /// states of it: each group's sum of squares and parameters, every prediction of
    /// `fit/predictions.csv` and every error of `fit/errors.csv`. Returns the problems and the
    /// groups refitted.
    static func verifyMainFit(
        root: URL, statement: PackageStatement, regression: ([RowFilter]?) throws -> FitDataset
    ) throws -> (problems: [String], refitted: [String]) {
        let stated = try FitReport.load(path: root.appendingPathComponent(PackageLayout.fit).path)
        var refit = stated
        var problems: [String] = []
        var refittedGroups: [String] = []
        // The statement names the fit's groups and parameters, no more and no fewer (each value
        // is compared below): a group renamed there would otherwise go unchecked.
        let statedNames = Dictionary(uniqueKeysWithValues: stated.fits.map { ($0.group, Set($0.parameters.keys)) })
        if statement.parameters.mapValues({ Set($0.keys) }) != statedNames {
            problems.append(
                "\(PackageLayout.statement): its parameters name the groups \(statement.parameters.keys.sorted().joined(separator: ", ")) with \(statement.parameters.values.map(\.count).reduce(0, +)) values; \(PackageLayout.fit) fits \(stated.fits.map(\.group).sorted().joined(separator: ", ")) with \(statedNames.values.map(\.count).reduce(0, +))"
            )
        }
        if let options = stated.options, statement.data.contains(where: { $0.experiment == "regression" }) {
            let dataset = try regression(stated.excluded)
            refit = try AlphaFitter(options: options).fit(dataset, excluded: stated.excluded)
            // The inputs it states: the data file's SHA-256 and the rows used and left out.
            problems += statedInputs(stated, refit: refit, file: PackageLayout.fit)
            for group in stated.fits {
                guard let again = refit.fits.first(where: { $0.group == group.group }) else {
                    problems.append(
                        "\(PackageLayout.fit): group \(group.group) does not come back from a refit of \(PackageLayout.regressionData)"
                    )
                    continue
                }
                problems += compareGroup(group, refit: again, statement: statement)
                refittedGroups.append(group.group)
            }
            problems += statedPredictions(stated, refit: refit, rows: dataset.rows, file: PackageLayout.fit)
        }
        // Recompute predictions and errors with the (re)fitted parameters, and compare them with
        // the stated ones as values.
        let again = try PackagePredictions(fit: refit, package: root, dataFiles: statement.data.map(\.path))
        let written: PackagePredictions
        do { written = try PackagePredictions.read(package: root) } catch {
            return (problems + ["\(error)"], refittedGroups)
        }
        problems += comparePredictions(written, again, fit: stated)
        if written.errorStatements != statement.errors {
            problems.append("\(PackageLayout.statement): its errors differ from fit/errors.csv")
        }
        return (problems, refittedGroups)
    }

    /// The package's JSON files, each read once, for what no refit sees:
    /// - what reading one drops: a key convsweep does not know (a renamed `gemmWorkForm` of an
    ///   alpha fit's options went unseen) or a value reading changes — each file decoded and
    ///   encoded again must keep all it states (``Basics/StrictJSON/unread(in:readBack:)``);
    /// - the caches and workspace limit each fit records (`options.workSetting`) against the
    ///   manifest's, which they are taken from: a package is built from the runs' setting alone,
    ///   so any other value is an edit — one no refit would see where no layer crosses the edited
    ///   size, or in the alpha fit, whose model does not use it. Absent (a package written before
    ///   it was recorded) is no problem.
    /// A file that is absent, does not read or holds an invalid fit is named by its own check.
    static func statedJSON(root: URL) -> [String] {
        var unread: [String] = []
        /// `file` as a `T` (nil: absent or not readable), what reading it drops noted.
        func read<T: Codable>(_ type: T.Type, _ file: String) -> T? {
            guard let data = try? Data(contentsOf: root.appendingPathComponent(file)),
                let value = try? StrictJSON.decode(type, from: data)
            else { return nil }
            if let again = try? JSONEncoder().encode(value), let dropped = StrictJSON.unread(in: data, readBack: again)
            {
                unread.append(
                    "\(file): \(dropped) is not something convsweep reads (a key it does not know, or a value reading changes)"
                )
            }
            return value
        }
        _ = read(PackageStatement.self, PackageLayout.statement)
        let fit = read(FitReport.self, PackageLayout.fit)
        let table = read(ModelTable.self, ModelTable.fileName)
        let networkFits = read([FitReport].self, NetworkTable.fitsFile) ?? []
        let backendFits = read([BackendFit].self, PackageLayout.backendFits) ?? []
        let threadFits = read([ThreadCountFit].self, PackageLayout.threadFits) ?? []
        let judgements = read([ThreadCountJudgement].self, PackageLayout.acrossCounts) ?? []
        let manifest = read(RunManifest.self, PackageLayout.manifest)
        _ = read(RunManifest.self, "run/" + PackageLayout.manifest)
        _ = read(FrameworkReference.self, FrameworkSection.referenceFile)
        guard let manifest else { return unread }  // the manifest's own check names it
        let expected = manifest.workSetting
        // Each fit's setting, in the order the package lists them; an invalid fit is left to its check.
        var stated: [(file: String, setting: WorkSetting?)] = []
        func add(_ file: String, _ fit: FitReport) {
            if (try? fit.validate()) != nil { stated.append((file, fit.options?.workSetting)) }
        }
        if let fit { add(PackageLayout.fit, fit) }
        if let table { stated.append((ModelTable.fileName, table.options.workSetting)) }
        for each in backendFits { add(PackageLayout.backendFits, each.fit) }
        for each in threadFits { add(PackageLayout.threadFits, each.fit) }
        for each in judgements where (try? each.fit.validate(source: PackageLayout.acrossCounts)) != nil {
            stated.append((PackageLayout.acrossCounts, each.fit.options.workSetting))
        }
        for each in networkFits { add(NetworkTable.fitsFile, each) }
        let caches = stated.compactMap { file, setting -> String? in
            guard let setting, setting != expected else { return nil }
            return
                "\(file): options.workSetting \(setting) is not the caches and workspace limit \(PackageLayout.manifest) records (\(expected.map { "\($0)" } ?? "none"))"
        }
        return caches + unread
    }

    /// The files a stated fit says it read, against those its refit reads: the SHA-256, the rows
    /// used and left out, the kind, and the path and file relative to the package
    /// (`data/regression.csv`). A package written before 0.19.0 records the absolute path it was
    /// built in: that path must end with the package-relative one; the directory before it is
    /// provenance no copy of the package can check.
    static func statedInputs(_ stated: FitReport, refit: FitReport, file: String) -> [String] {
        let a = stated.inputs ?? []
        let b = refit.inputs ?? []
        func samePath(_ statedPath: String, _ relative: String) -> Bool {
            statedPath == relative || statedPath.hasPrefix("/") && statedPath.hasSuffix("/" + relative)
        }
        guard a.count == b.count,
            zip(a, b).allSatisfy({ x, y in
                (x.sha256, x.rowsUsed, x.rowsExcluded, x.kind) == (y.sha256, y.rowsUsed, y.rowsExcluded, y.kind)
                    && samePath(x.path, y.path) && samePath(x.file, y.file)
            })
        else {
            return [
                "\(file): its inputs (\(a.map { "\($0.path): SHA-256 \($0.sha256.prefix(12))…, \($0.rowsUsed) rows used, \($0.rowsExcluded) left out" }.joined(separator: "; "))) are not the package's (\(b.map { "\($0.path): \($0.sha256.prefix(12))…, \($0.rowsUsed), \($0.rowsExcluded)" }.joined(separator: "; ")))"
            ]
        }
        return []
    }

    /// The stated parameters predict every fitted row as the refit does, within `relative` of
    /// the prediction or of its group's RMSE (a prediction's tolerance; the networks' for their
    /// fits): what judges a parameter whose standard error is undefined (an ill-conditioned
    /// group), and any parameter that moves the predictions.
    static func statedPredictions(
        _ stated: FitReport, refit: FitReport, rows: [FitRow], file: String, relative: Double = tolerance
    ) -> [String] {
        let rmse = Dictionary(refit.fits.map { ($0.group, $0.diagnostics?.rmseMs ?? 0) }) { first, _ in first }
        for row in rows {
            guard let mine = try? stated.predict(row.shape), let theirs = try? refit.predict(row.shape) else {
                continue  // a group the refit lacks is named above
            }
            let group = stated.grouping.groupName(for: row.shape)
            if !close(mine, theirs, slack: relative * (rmse[group] ?? 0), relative: relative) {
                return [
                    "\(file): \(group)'s parameters predict \(row.shape) in \(mine) ms, the refit's in \(theirs) ms"
                ]
            }
        }
        return []
    }

    /// What a group of the stated fit claims against its refit: the sum of squares, and each
    /// parameter within its standard errors (and as package.json states it).
    static func compareGroup(_ group: GroupFit, refit again: GroupFit, statement: PackageStatement) -> [String] {
        var problems: [String] = []
        if let sse = group.diagnostics?.sse, let refitSSE = again.diagnostics?.sse, !close(sse, refitSSE) {
            problems.append(
                "\(PackageLayout.fit): \(group.group) SSE = \(sse), a refit of \(PackageLayout.regressionData) reaches \(refitSSE)"
            )
        }
        problems += compareFiguresOfMerit(group, refit: again, file: PackageLayout.fit)
        for (name, value) in group.parameters {
            let other = again.parameters[name] ?? .nan
            // Without a standard error (a singular covariance) the parameter is judged
            // through the predictions alone (``statedPredictions``). The slack is the refit's
            // standard error, never the stated one: a stated error of 10⁶ would let any value pass.
            let error = again.diagnostics?.standardErrors?[name]
            let judged = error != nil || again.diagnostics?.standardErrors == nil && group.diagnostics == nil
            if judged, !close(value, other, slack: standardErrorShare * (error ?? 0)) {
                problems.append(
                    "\(PackageLayout.fit): \(group.group) \(name) = \(value), a refit of \(PackageLayout.regressionData) gives \(other)"
                        + (error.map { " (standard error \($0))" } ?? ""))
            }
            if let claimed = statement.parameters[group.group]?[name], claimed != value {
                problems.append(
                    "\(PackageLayout.statement): \(group.group) \(name) = \(claimed) differs from fit/alpha.json (\(value))"
                )
            }
        }
        return problems
    }

    /// The stated standard errors and 95% intervals of a group against its refit's: each within
    /// ``standardErrorTolerance`` of the refit's, each interval's ends within that share (and
    /// ``standardErrorShare``) of the refit's standard error. A parameter without a standard error
    /// (a singular covariance) has no interval to hold.
    static func compareUncertainty(_ group: GroupFit, refit again: GroupFit, file: String) -> [String] {
        var problems: [String] = []
        for name in group.parameters.keys.sorted() {
            guard let error = again.diagnostics?.standardErrors?[name] else { continue }
            if let stated = group.diagnostics?.standardErrors?[name],
                !close(stated, error, relative: standardErrorTolerance)
            {
                problems.append(
                    "\(file): \(group.group) states the standard error of \(name) \(stated), a refit gives \(error)")
            }
            if let stated = group.diagnostics?.confidence95?[name],
                let interval = again.diagnostics?.confidence95?[name],
                stated.count != 2
                    || zip(stated, interval).contains(where: { a, b in
                        !close(a, b, slack: (standardErrorShare + standardErrorTolerance) * error)
                    })
            {
                problems.append(
                    "\(file): \(group.group) states the 95% interval of \(name) \(stated), a refit gives \(interval)")
            }
        }
        return problems
    }

    /// A fit's warnings as a verifier compares them: the condition number a singular covariance
    /// reports left out (at the edge of singularity it is rounding — `inf` on one evaluation,
    /// 2e16 on the next), the rest word for word.
    static func comparable(_ warnings: [String]) -> String {
        warnings.map { warning in
            guard warning.hasPrefix("singular covariance"), let open = warning.range(of: " (condition number "),
                let close = warning[open.upperBound...].firstIndex(of: ")")
            else { return warning }
            return String(warning[..<open.lowerBound] + warning[warning.index(after: close)...])
        }.joined(separator: "; ")
    }

    /// Every figure of merit a group states, as its refit gives it: the rows fitted exactly; R²,
    /// RMSE and MAPE, which move with the predictions, within ``networkTolerance``; the standard
    /// errors and 95% intervals (``compareUncertainty(_:refit:file:)``); how the fit went (starts
    /// tried and reaching the best, the warnings as ``comparable(_:)`` gives them) exactly. Not
    /// the best start's iterations or its stop reason, which another CPU's rounding changes (the
    /// committed packages' refits with other OpenBLAS kernels: 13 iterations for 25, 36 for 31,
    /// 22 for 7; a networks' fit of alpha-channels stopping on the reduction, not the gradient).
    static func compareFiguresOfMerit(_ group: GroupFit, refit again: GroupFit, file: String) -> [String] {
        var problems = compareUncertainty(group, refit: again, file: file)
        if let n = group.n, n != again.n {
            problems.append(
                "\(file): \(group.group) states n = \(n), a refit fits \(again.n.map(String.init) ?? "none")")
        }
        guard let stated = group.diagnostics, let refit = again.diagnostics else { return problems }
        for (name, a, b) in [
            ("rSquared", stated.rSquared, refit.rSquared), ("rmseMs", stated.rmseMs, refit.rmseMs),
            ("mapePercent", stated.mapePercent, refit.mapePercent),
        ] where !close(a, b, relative: networkTolerance) {
            problems.append("\(file): \(group.group) states \(name) = \(a), a refit gives \(b)")
        }
        for (name, a, b) in [
            ("startsTried", "\(stated.startsTried)", "\(refit.startsTried)"),
            ("startsReachingBest", "\(stated.startsReachingBest)", "\(refit.startsReachingBest)"),
            ("warnings", comparable(stated.warnings), comparable(refit.warnings)),
        ] where a != b {
            problems.append("\(file): \(group.group) states \(name) \(a), a refit gives \(b)")
        }
        return problems
    }

    /// The written predictions and errors against those recomputed with the refit's parameters.
    static func comparePredictions(
        _ written: PackagePredictions, _ again: PackagePredictions, fit stated: FitReport
    ) -> [String] {
        var problems: [String] = []
        // A prediction may move by a relative tolerance of itself or of its group's RMSE (a tiny
        // time in an ill-conditioned group moves with the parameters, far below the noise).
        let rmse = Dictionary(stated.fits.map { ($0.group, $0.diagnostics?.rmseMs ?? 0) }) { first, _ in first }
        func groupRMSE(_ row: PackagePredictions.Row) -> Double { rmse[stated.grouping.groupName(for: row.shape)] ?? 0 }
        if written.rows.count != again.rows.count {
            problems.append(
                "\(PackageLayout.predictions): \(written.rows.count) rows, recomputing gives \(again.rows.count)")
        } else if let (a, b) = zip(written.rows, again.rows).first(where: { a, b in
            (a.configID, a.experiment, a.series, a.flops) != (b.configID, b.experiment, b.series, b.flops)
                || a.shape != b.shape || a.measuredMs != b.measuredMs
        }) {
            problems.append(
                "\(PackageLayout.predictions): row \(a.configID) is not the data's row \(b.configID) (its configuration, layer, FLOPs or measured time differ)"
            )
        } else if let (a, b) = zip(written.rows, again.rows).first(where: { a, b in
            !close(a.predictedMs, b.predictedMs, slack: tolerance * groupRMSE(a))
                || !close(a.residualMs, b.residualMs, slack: tolerance * max(groupRMSE(a), abs(a.predictedMs)))
        }) {
            problems.append(
                "\(PackageLayout.predictions): \(a.configID) is predicted \(a.predictedMs) ms, the refit predicts \(b.predictedMs) ms"
                    + (a.configID == b.configID ? "" : " for \(b.configID)"))
        }
        // A series' RMSE moves by at most the root mean square of its predictions' moves (the
        // triangle inequality), so it may move as far as its predictions may: the tolerance of its
        // largest prediction or of its groups' RMSE. An ill-conditioned fit (parameters at a bound,
        // standard errors larger than the values) moves its errors as its predictions, no further.
        var seriesSlack: [[String]: Double] = [:]
        for row in written.rows {
            seriesSlack[[row.experiment, row.series], default: 0] = max(
                seriesSlack[[row.experiment, row.series], default: 0],
                tolerance * max(abs(row.predictedMs), groupRMSE(row)))
        }
        if written.errors.count != again.errors.count {
            problems.append(
                "\(PackageLayout.errors): \(written.errors.count) series, recomputing gives \(again.errors.count)")
        } else {
            for (a, b) in zip(written.errors, again.errors)
            where a.experiment != b.experiment || a.series != b.series || a.n != b.n || a.rangeMs != b.rangeMs
                || (a.nrmse == nil) != (b.nrmse == nil)
                || !close(a.rmseMs, b.rmseMs, slack: seriesSlack[[a.experiment, a.series]] ?? 0)
                || !close(
                    a.nrmse ?? 0, b.nrmse ?? 0,
                    slack: (seriesSlack[[a.experiment, a.series]] ?? 0) / max(b.rangeMs, 1e-12))
            {
                problems.append(
                    "\(PackageLayout.errors): \(a.experiment) \(a.series) states RMSE \(a.rmseMs) ms (n \(a.n), range \(a.rangeMs) ms, nRMSE \(a.nrmse.map { "\($0)" } ?? "none")), recomputing gives \(b.rmseMs) ms (n \(b.n), range \(b.rangeMs) ms, nRMSE \(b.nrmse.map { "\($0)" } ?? "none"))"
                )
            }
        }
        return problems
    }

    /// Checks the model table: every stated metric is what its held-out predictions give (to
    /// 1e-9), and a cross-validation of the parametric models from `data/regression.csv` with the
    /// stated options gives the same folds and predictions (within the tolerance of predictions).
    /// The trees are checked through their predictions alone: another scikit-learn may grow
    /// other trees. The new cross-validation's fits to the whole sample go to `refits` (what
    /// `fit/model-predictions.csv` is checked against).
    static func verifyModels(
        _ table: ModelTable, _ heldOut: HeldOutPredictions, regression: Result<FitDataset, any Error>,
        confirmed: inout [String], refits: inout [FitReport]
    ) -> [String] {
        var problems = statedModelMetrics(table, heldOut)
        // The parametric models again, from the package's own data.
        do {
            let again = try ModelTable.build(
                dataset: try regression.get(), options: table.options, folds: table.folds, shippedFiles: nil)
            refits = again.fits
            problems += crossValidatedAgain(
                table, heldOut, again: (again.table, again.predictions), confirmed: &confirmed)
        } catch {
            problems.append("\(ModelTable.fileName): cannot cross-validate data/regression.csv again (\(error))")
        }
        if table.hasCeiling && heldOut.predictedMs(by: TreeCeiling.name) != nil {
            confirmed.append(TreeCeiling.name + " (from its predictions)")
        }
        return problems
    }

    /// Whether the metrics each entry of `table` states are those its held-out predictions give.
    private static func statedModelMetrics(_ table: ModelTable, _ heldOut: HeldOutPredictions) -> [String] {
        let file = ModelTable.predictionsFileName
        let measured = heldOut.measuredMs
        let groupOfRow = heldOut.rows.map(\.group)
        var problems: [String] = []
        for entry in table.entries {
            guard let predicted = heldOut.predictedMs(by: entry.model) else {
                problems.append("\(file): no column \(entry.model)_ms for the model table's \(entry.model)")
                continue
            }
            guard !measured.isEmpty else {
                problems.append("\(file): holds no rows")
                continue
            }
            if let missing = entry.groups.first(where: { !groupOfRow.contains($0.group) }) {
                problems.append(
                    "\(ModelTable.fileName): \(entry.model) states group \(missing.group), which \(file) lacks")
                continue
            }
            let recomputed =
                [GroupMetrics(group: "all", metrics: PredictionMetrics(measured: measured, predicted: predicted))]
                + GroupMetrics.of(
                    measured: measured, predicted: predicted, groupOfRow: groupOfRow, groups: entry.groups.map(\.group))
            let stated = [GroupMetrics(group: "all", metrics: entry.metrics)] + entry.groups
            for (a, b) in zip(stated, recomputed) where !a.metrics.agrees(with: b.metrics, relative: 1e-9) {
                problems.append(
                    "\(ModelTable.fileName): \(entry.model) \(a.group) states metrics that \(file) does not give")
            }
        }
        return problems
    }

    /// Whether a new cross-validation (`again`) gives the table's noise floor, parameter counts,
    /// rows, folds and every held-out prediction; the models it confirms are added to `confirmed`.
    private static func crossValidatedAgain(
        _ table: ModelTable, _ heldOut: HeldOutPredictions,
        again: (table: ModelTable, predictions: HeldOutPredictions), confirmed: inout [String]
    ) -> [String] {
        let file = ModelTable.predictionsFileName
        var problems: [String] = []
        if again.table.noiseFloor != table.noiseFloor || again.table.coverage != table.coverage {
            problems.append(
                "\(ModelTable.fileName): its noise floor or coverage differs from what data/regression.csv gives")
        }
        for entry in table.entries {
            guard let other = again.table.entries.first(where: { $0.model == entry.model }),
                other.parametersPerGroup != entry.parametersPerGroup
            else { continue }
            problems.append(
                "\(ModelTable.fileName): \(entry.model) states \(entry.parametersPerGroup.map(String.init) ?? "no") parameters per group, the model has \(other.parametersPerGroup.map(String.init) ?? "none")"
            )
        }
        guard again.predictions.rows.map(\.fold) == heldOut.rows.map(\.fold) else {
            return problems + ["\(file): its rows or folds differ from a cross-validation of data/regression.csv"]
        }
        // Every row as the sample holds it: its configuration, group, shape and measured time.
        for (stated, recomputed) in zip(heldOut.rows, again.predictions.rows) {
            var differs = stated
            differs.predictedMs = recomputed.predictedMs
            if differs != recomputed {
                return problems + [
                    "\(file): row \(stated.configID) differs from the sample's row \(recomputed.configID) (its configuration, shape, group or measured time)"
                ]
            }
        }
        let groupOfRow = heldOut.rows.map(\.group)
        for entry in again.table.entries {
            guard let stated = heldOut.predictedMs(by: entry.model),
                let recomputed = again.predictions.predictedMs(by: entry.model)
            else { continue }
            let rmse = Dictionary(entry.groups.map { ($0.group, $0.metrics.rmseMs) }) { first, _ in first }
            if let i = heldOut.rows.indices.first(where: { i in
                !close(stated[i], recomputed[i], slack: tolerance * (rmse[groupOfRow[i]] ?? 0))
            }) {
                problems.append(
                    "\(file): \(heldOut.rows[i].configID) is predicted \(stated[i]) ms by \(entry.model) held out, a new cross-validation gives \(recomputed[i]) ms"
                )
            } else {
                confirmed.append(entry.model)
            }
        }
        return problems
    }

    static func close(_ a: Double, _ b: Double, slack: Double = 0, relative: Double = tolerance) -> Bool {
        if a == b { return true }
        guard a.isFinite, b.isFinite else { return false }
        return abs(a - b) <= max(relative * max(abs(a), abs(b), 1e-12), slack)
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
