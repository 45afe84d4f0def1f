import AlphaFit
import Analysis
import Basics
import ConvKernels
import Foundation
import Measurement
import Rows
import Runner
import Sweeps

/// What a replication package states about itself: `package.json` (see docs/replication-package.md).
public struct PackageStatement: Codable, Equatable, Sendable {
    /// Format of this file; bumped on incompatible change: 2 lists the ``contents``, 1 did not.
    public var formatVersion = PackageStatement.currentFormatVersion
    /// The format this convsweep writes.
    public static let currentFormatVersion = 2
    /// A shipped profile (`quick`, `paper`, `full`, `networks`), or `custom` for a package built
    /// from arbitrary runs.
    public var profile: PackageProfile
    /// The machine the data were measured on, e.g. `amd-epyc-2pu`.
    public var machineLabel: String
    /// The command that rebuilds the package (run from the repository root).
    public var rebuildCommand: String
    /// The data files and the configurations they hold.
    public var data: [DataFile]
    /// Fitted parameters per group, as in fit/alpha.json.
    public var parameters: [String: [String: Double]]
    /// Per-series errors, as in fit/errors.csv: `experiment/series` → (rmse_ms, nrmse).
    public var errors: [SeriesErrorStatement]
    /// The convsweep that wrote the package (its version and commit), which may be later than
    /// the one that measured the runs (the manifest's `tool`). Absent in packages written
    /// before it was recorded.
    public var writtenBy: RunManifest.ToolInfo?
    /// The run or package the package's `compare/` compares with, as given; absent without a
    /// comparison, and in packages written before it was recorded.
    public var comparedWith: String?
    /// Every file of the package by its role (absent in format 1).
    public var contents: PackageContents?

    /// One data file.
    public struct DataFile: Codable, Equatable, Sendable {
        /// The file, relative to the package.
        public var path: String
        /// Its experiment.
        public var experiment: String
        /// Its rows.
        public var configurations: Int
        /// Rows measured (status ok).
        public var measured: Int
    }

    /// The error of one series of one experiment.
    public struct SeriesErrorStatement: Codable, Equatable, Sendable {
        /// The experiment.
        public var experiment: String
        /// The series.
        public var series: String
        /// Rows of the series.
        public var n: Int
        /// RMSE, milliseconds.
        public var rmseMs: Double
        /// RMSE over the measured range; nil for a series of one time.
        public var nrmse: Double?
    }
}

/// Why a package could not be built or checked.
public struct PackageError: Error, CustomStringConvertible, Equatable {
    /// The message.
    public var message: String
    /// An error saying `message`.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

/// Builds a replication package from run directories.
public struct PackageBuilder {
    /// The run directories whose measurements go into the package.
    public var runDirectories: [String]
    /// The package directory to write.
    public var packageDirectory: String
    /// Where the figure script and its Python are.
    public var shippedFiles: ShippedFiles
    /// The profile recorded in the package.
    public var profile: PackageProfile
    /// The command that rebuilds the package, recorded in its README.
    public var rebuildCommand: String
    /// A fit to use instead of fitting the regression sample (`convsweep package --fit`).
    public var givenFit: FitReport?
    /// Another run directory or package to compare this package's measurements with (the package
    /// then holds `compare/` and a comparison section); nil for none.
    public var comparedWith: String?
    /// A framework reference of the same machine (`convsweep networks reference --out DIR`: the
    /// directory or its `reference.json`) to hold beside the networks' sums; nil for none.
    public var frameworkReference: String?
    /// Options of the fit made when no fit is given, and of the model table: the relative loss
    /// by default (times span five orders of magnitude; an absolute loss is ruled by the few
    /// largest layers, so a small sample's fit would depend on which large layers it drew).
    public var fitOptions = FitOptions(loss: .relative)

    /// A builder of the package at `packageDirectory` from `runDirectories`.
    public init(
        runDirectories: [String], packageDirectory: String, shippedFiles: ShippedFiles, profile: PackageProfile,
        rebuildCommand: String, givenFit: FitReport? = nil
    ) {
        self.runDirectories = runDirectories
        self.packageDirectory = packageDirectory
        self.shippedFiles = shippedFiles
        self.profile = profile
        self.rebuildCommand = rebuildCommand
        self.givenFit = givenFit
    }

    /// The file name in `data/` of an experiment: `regression.csv`, `layers.csv` (the sample of
    /// real networks' layers), `network-<name>.csv` (the layers of a network of `networks`) or
    /// `exp-<letter>.csv`.
    public static func dataFileName(experiment: String, networks: Set<String> = []) -> String {
        switch experiment {
        case "regression": return "regression.csv"
        case PackageBuilder.layerSample: return "layers.csv"
        case _ where networks.contains(experiment): return "network-\(experiment).csv"
        default: return "exp-\(experiment.lowercased()).csv"
        }
    }

    /// The experiment of the layer sample (sweeps/layers.yaml): the layers real CNNs use, judged by
    /// the model table beside the regression sample.
    public static let layerSample = "layers"

    /// The rows the model table leaves out beyond the main fit's: with a layer sample, its
    /// fully-connected layers. Every one has S = 1 and K = 1, where alpha-FLOPs' spatial term
    /// (S_K + beta·(S − S_K)) / S is 1 whatever beta and gamma: the alpha models cannot be fitted
    /// there (the fitter refuses a group whose points share one (S, K)), and a table whose models
    /// were judged on different rows would not compare them. They stay in data/layers.csv.
    public static func modelTableExclusions(root: URL) -> [RowFilter] {
        modelTableData(root: root).count > 1
            ? [RowFilter(column: "layer", value: LayerKind.fullyConnected.rawValue)] : []
    }

    /// The data files the model table cross-validates: the regression sample, and the layer sample
    /// where the package has one (a package without it has the table it always had).
    public static func modelTableData(root: URL) -> [String] {
        let layers = "data/" + dataFileName(experiment: layerSample)
        return [PackageLayout.regressionData]
            + (FileManager.default.fileExists(atPath: root.appendingPathComponent(layers).path) ? [layers] : [])
    }

    /// The machine label of a manifest: the CPU model as a slug, and the number of PUs.
    public static func machineLabel(_ machine: EnvironmentSnapshot) -> String {
        let slug = machine.cpuModel.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
        let collapsed = String(slug).split(separator: "-").joined(separator: "-")
        return "\(collapsed.isEmpty ? "cpu" : collapsed)-\(machine.processingUnits)pu"
    }

    /// Refuses a directory that holds something other than a package of `machineLabel`.
    public static func checkOutputDirectory(_ path: String, machineLabel: String) throws {
        let manager = FileManager.default
        guard manager.fileExists(atPath: path) else { return }
        let statementPath = (path as NSString).appendingPathComponent(PackageLayout.statement)
        if let data = manager.contents(atPath: statementPath) {
            guard let statement = try? StrictJSON.decode(PackageStatement.self, from: data) else {
                throw PackageError(
                    "\(statementPath): not a convsweep package statement; choose another output directory")
            }
            if statement.machineLabel != machineLabel {
                throw PackageError(
                    "\(path) holds the package of machine \(statement.machineLabel), not of this machine (\(machineLabel)); choose another output directory"
                )
            }
            return
        }
        let contents = (try? manager.contentsOfDirectory(atPath: path)) ?? []
        let ours: Set<String> = ["run"]
        if !contents.filter({ !ours.contains($0) }).isEmpty {
            throw PackageError(
                "\(path) exists and holds files that are not a convsweep package; choose another output directory")
        }
    }

    /// Builds the package and returns what it states: reads the runs, lays out the directory,
    /// writes `data/`, the fits, the model table and the networks section, then `package.json`,
    /// the figures, the README and the sums.
    @discardableResult
    public func build() throws -> PackageStatement {
        let runs = try readRuns()
        // The gemm-work model charges bytes against the caches the runs measured under.
        var builder = self
        if builder.fitOptions.workSetting == nil { builder.fitOptions.workSetting = runs.manifests[0].workSetting }
        return try builder.build(runs)
    }

    /// Builds the package of `runs` with this builder's options.
    private func build(_ runs: Runs) throws -> PackageStatement {
        try PackageBuilder.checkOutputDirectory(packageDirectory, machineLabel: runs.machineLabel)
        // A framework reference of another machine, or without a network to hold it beside, is
        // refused before anything is written.
        let reference = try frameworkReference.map { path in
            guard !runs.networks.isEmpty else {
                throw PackageError(
                    "\(path): a framework reference needs networks in the package; the runs measured none")
            }
            return try FrameworkSection.checked(path: path, manifest: runs.manifests[0])
        }
        // The comparison too: two runs with nothing in common, or a run holding a configuration
        // twice, are refused before anything is written.
        let compared = try comparedWith.map { try compare(with: $0, rows: runs.measurements) }
        let root = URL(fileURLWithPath: packageDirectory)
        try layOut(root)
        let data = try writeData(runs, root: root)
        try writeThreadScaling(runs.measurements, root: root)
        let fits = try writeFits(data, root: root)
        let models = fits.regression == nil ? nil : try writeModelTable(root: root, excluded: fits.exclusions)
        let modelTable = models?.table
        var networkTable: NetworkTable?
        if fits.regression != nil, !runs.networks.isEmpty {
            networkTable = try writeNetworks(runs, root: root, excluded: fits.exclusions)
        }
        var framework: FrameworkSection?
        if let reference, let networkTable {
            try reference.encoded().write(
                to: root.appendingPathComponent(FrameworkSection.referenceFile), options: .atomic)
            framework = try FrameworkSection(reference: reference, table: networkTable)
            try framework!.table.write(to: root.appendingPathComponent(FrameworkSection.tableFile))
        }
        let networkScaling = try NetworkScaling(
            networks: runs.networks.map(\.network), measurements: runs.measurements)
        if !networkScaling.rows.isEmpty {
            try Data(networkScaling.csv.utf8).write(
                to: root.appendingPathComponent(PackageLayout.threadNetworks), options: .atomic)
        }
        let statement = PackageStatement(
            profile: profile, machineLabel: runs.machineLabel, rebuildCommand: rebuildCommand, data: data.files,
            parameters: Dictionary(uniqueKeysWithValues: fits.main.fits.map { ($0.group, $0.parameters) }),
            errors: fits.predictions.errorStatements,
            writtenBy: RunManifest.ToolInfo(version: BuildInfo.version, gitCommit: BuildInfo.gitCommit()),
            comparedWith: comparedWith)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(statement).write(to: root.appendingPathComponent(PackageLayout.statement), options: .atomic)
        try drawFigures(root: root)
        if let compared { try write(compared, root: root) }
        let comparison = compared?.comparison
        let readme = PackageReadme(
            statement: statement, manifest: runs.manifests[0], runCount: runs.manifests.count, fit: fits.main,
            errors: fits.predictions.errors,
            figureIndex: (try? Data(contentsOf: root.appendingPathComponent(PackageLayout.figureIndex))) ?? Data(),
            measurements: runs.measurements, comparison: comparison, comparedWith: comparedWith,
            comparedRun: try ComparedRun.held(in: root), models: modelTable, backendFits: fits.backends,
            networks: networkTable,
            misses: models?.misses, acrossCounts: try PackageBuilder.acrossCountsJudgements(package: root),
            networkScaling: networkScaling.rows, framework: framework)
        try Data(readme.render(templatePath: shippedFiles.readmeTemplate).utf8).write(
            to: root.appendingPathComponent(PackageLayout.readme), options: .atomic)
        // Last, the list of what the package holds (package.json itself included), then the sums.
        let (contents, strangers) = PackageContents.classifying(try Checksums.files(in: root))
        guard strangers.isEmpty else {
            throw PackageError(
                "\(packageDirectory) holds files a package does not: \(strangers.joined(separator: ", "))")
        }
        var stated = statement
        stated.contents = contents
        try encoder.encode(stated).write(to: root.appendingPathComponent(PackageLayout.statement), options: .atomic)
        try Checksums.write(directory: root)
        return stated
    }

    /// The runs a package is built from: their manifests, their rows, the machine, and the
    /// networks they measured (with each network file's bytes).
    struct Runs {
        var manifests: [RunManifest]
        var measurements: [MeasurementRow]
        var machineLabel: String
        var networks: [(network: Network, contents: Data)]
    }

    /// Reads and checks the runs: complete, one machine.
    func readRuns() throws -> Runs {
        guard !runDirectories.isEmpty else { throw PackageError("no run directory given") }
        var manifests: [RunManifest] = []
        var measurements: [MeasurementRow] = []
        var ids = Set<String>()
        for directory in runDirectories {
            let source: RowSource
            do { source = try RowSource(path: directory) } catch { throw PackageError("\(directory): \(error)") }
            guard case .run = source, let manifestPath = source.manifestFile else {
                throw PackageError("\(directory): not a run directory (no measurements.csv and manifest.json)")
            }
            let manifest: RunManifest
            do { manifest = try RunManifest.read(path: manifestPath) } catch {
                throw PackageError("\(directory): not a run directory (\(error))")
            }
            guard manifest.status == .complete else {
                throw PackageError(
                    "\(directory): the run is \(manifest.status), not complete; resume it to completion first"
                )
            }
            if let first = manifests.first,
                PackageBuilder.machineLabel(first.machine) != PackageBuilder.machineLabel(manifest.machine)
            {
                throw PackageError(
                    "\(directory): measured on \(PackageBuilder.machineLabel(manifest.machine)), the others on \(PackageBuilder.machineLabel(first.machine))"
                )
            }
            manifests.append(manifest)
            let rows = try source.rows()
            // A configuration has one row (merge refuses the same): refused before anything is written.
            if let twice = rows.first(where: { ids.contains($0.configID) }) {
                throw PackageError(
                    "\(directory): configuration \(twice.configID) is also in an earlier run directory (a configuration has one row: join shards with `convsweep merge`, which refuses the same)"
                )
            }
            measurements += rows
            ids.formUnion(rows.map(\.configID))
        }
        return Runs(
            manifests: manifests, measurements: measurements,
            machineLabel: PackageBuilder.machineLabel(manifests[0].machine),
            networks: try NetworkTable.measuredNetworks(
                manifests, shipped: (shippedFiles.sweepsDirectory as NSString).appendingPathComponent("networks")))
    }

    /// Removes what an earlier build wrote (keeping `run/`), creates the directories and copies
    /// the first run's manifest and topology.
    func layOut(_ root: URL) throws {
        let manager = FileManager.default
        for stale in PackageLayout.written {
            try? manager.removeItem(at: root.appendingPathComponent(stale))
        }
        for sub in [PackageLayout.dataDirectory, PackageLayout.fitDirectory, PackageLayout.figuresDirectory] {
            try manager.createDirectory(at: root.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        // The run the package is built from, as `run/` (a package built in place already has it):
        // what verify-package checks data/ against. A package of several runs has none.
        let ownRun = root.appendingPathComponent("run")
        if runDirectories.count == 1, !manager.fileExists(atPath: ownRun.path),
            URL(fileURLWithPath: runDirectories[0]).standardizedFileURL.path != ownRun.standardizedFileURL.path
        {
            try manager.createDirectory(at: ownRun, withIntermediateDirectories: false)
            let run = RunDirectory(path: runDirectories[0])
            try PackageBuilder.copy(
                [run.manifestPath, run.measurementsPath, run.roundsPath, run.probesPath, run.topologyPath], into: ownRun
            )
        }
        try manager.copyItem(
            atPath: (runDirectories[0] as NSString).appendingPathComponent(PackageLayout.manifest),
            toPath: root.appendingPathComponent(PackageLayout.manifest).path)
        let topology = (runDirectories[0] as NSString).appendingPathComponent(PackageLayout.topology)
        if manager.fileExists(atPath: topology) {
            try manager.copyItem(atPath: topology, toPath: root.appendingPathComponent(PackageLayout.topology).path)
        }
    }

    /// `threads/`: how each configuration scales with threads, for runs of several counts.
    func writeThreadScaling(_ rows: [MeasurementRow], root: URL) throws {
        let files = ThreadScaling(rows: rows).packageFiles
        guard !files.isEmpty else { return }
        let directory = root.appendingPathComponent(PackageLayout.threadsDirectory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, text) in files {
            try Data(text.utf8).write(to: directory.appendingPathComponent(name), options: .atomic)
        }
    }

    /// The rows by experiment and the data files written.
    struct DataFiles {
        var experiments: [String]
        var byExperiment: [String: [MeasurementRow]]
        var files: [PackageStatement.DataFile]
        /// Each file's text, in the order of ``files``.
        var texts: [String]
    }

    /// `data/`: the rows split by experiment, in run order (the regression sample first).
    func writeData(_ runs: Runs, root: URL) throws -> DataFiles {
        let data = PackageBuilder.dataFiles(
            of: runs.measurements, networks: Set(runs.networks.map(\.network.name)))
        for (file, text) in zip(data.files, data.texts) {
            try Data(text.utf8).write(to: root.appendingPathComponent(file.path), options: .atomic)
        }
        return data
    }

    /// What `data/` holds for `rows` of runs that measured the networks named `measured`: the
    /// rows split by experiment, in run order (the regression sample first), each file's text.
    /// The builder writes it; the verifier compares a package's `data/` with it.
    static func dataFiles(of rows: [MeasurementRow], networks measured: Set<String>) -> DataFiles {
        // The networks' experiments: each network's, and its layers at a larger batch (NAME-batchB).
        let networkNames = measured.union(
            rows.map(\.experiment).filter {
                Network.batchOf(experiment: $0).map { measured.contains($0.network) } ?? false
            })
        var experiments: [String] = []
        var byExperiment: [String: [MeasurementRow]] = [:]
        for row in rows {
            let name = row.experiment
            if byExperiment[name] == nil { experiments.append(name) }
            byExperiment[name, default: []].append(row)
        }
        experiments.sort { a, b in a == "regression" ? b != "regression" : (b == "regression" ? false : a < b) }
        var files: [PackageStatement.DataFile] = []
        var texts: [String] = []
        for name in experiments {
            let rows = byExperiment[name, default: []]
            let relative = "data/" + PackageBuilder.dataFileName(experiment: name, networks: networkNames)
            texts.append(MeasurementsFile.text(rows))
            files.append(
                .init(
                    path: relative, experiment: name, configurations: rows.count,
                    measured: rows.filter(\.status.isOK).count))
        }
        return DataFiles(experiments: experiments, byExperiment: byExperiment, files: files, texts: texts)
    }

    /// The fits of a package: the main fit, each oneDNN algorithm's, the rows the main fit left
    /// out, the regression sample it read (nil without one) and the predictions and errors.
    struct Fits {
        var main: FitReport
        var backends: [BackendFit]
        var exclusions: [RowFilter]
        var regression: FitDataset?
        var predictions: PackagePredictions
    }

    /// `fit/`: fits the regression sample (or takes the given fit) and each oneDNN algorithm's
    /// rows, and predicts every row of `data/`.
    func writeFits(_ data: DataFiles, root: URL) throws -> Fits {
        let regressionRows = data.byExperiment["regression"] ?? []
        let algorithms = PackageBuilder.oneDNNAlgorithms(in: regressionRows)
        let exclusions = PackageBuilder.mainFitExclusions(of: regressionRows)
        // The OpenBLAS rows of the regression sample, read once: the main fit's and the model table's.
        let regression =
            try data.experiments.contains("regression")
            ? PackageBuilder.regressionSample(root: root, excluded: exclusions) : nil
        let fit: FitReport
        if let givenFit {
            fit = givenFit
        } else if let regression {
            fit = try fitRegression(regression, excluded: exclusions)
        } else {
            throw PackageError("the runs hold no regression sample to fit, and no fit was given")
        }
        var backendFits: [BackendFit] = []
        if givenFit == nil {
            for algorithm in algorithms {
                let excluded =
                    PackageBuilder.backendFitExclusions(algorithm, among: algorithms)
                    + PackageBuilder.otherThreadCounts(than: 1, in: regressionRows)
                backendFits.append(
                    BackendFit(
                        algorithm: algorithm.rawValue,
                        fit: try fitRegression(
                            PackageBuilder.regressionSample(root: root, excluded: excluded), excluded: excluded)))
            }
        }
        if givenFit == nil { try writeThreadCountFits(regressionRows, root: root) }
        if !backendFits.isEmpty {
            try PackageBuilder.writeFits(backendFits, to: root, file: PackageBuilder.backendFitsFile)
        }
        try fit.jsonData().write(to: root.appendingPathComponent(PackageLayout.fit), options: .atomic)
        let predictions = try PackagePredictions(fit: fit, package: root, dataFiles: data.files.map(\.path))
        try predictions.write(package: root)
        return Fits(
            main: fit, backends: backendFits, exclusions: exclusions, regression: regression, predictions: predictions)
    }

    /// `fit/models.json` and `fit/cv-predictions.csv`: every model held out on the same folds of
    /// the regression and layer samples, without the rows `excluded` names; `fit/misses.csv`
    /// (returned for the README) and `fit/model-predictions.csv` from them.
    func writeModelTable(root: URL, excluded mainExclusions: [RowFilter]) throws -> (
        table: ModelTable, misses: PackageMisses
    ) {
        let excluded = mainExclusions + PackageBuilder.modelTableExclusions(root: root)
        let sample = try FitDataset.load(
            paths: PackageBuilder.modelTableData(root: root).map { root.appendingPathComponent($0).path },
            excluding: excluded)
        var built = try ModelTable.build(dataset: sample, options: fitOptions, shippedFiles: shippedFiles)
        built.table.excluded = excluded.isEmpty ? nil : excluded
        try built.table.jsonData().write(to: root.appendingPathComponent(ModelTable.fileName), options: .atomic)
        try built.predictions.table.write(to: root.appendingPathComponent(ModelTable.predictionsFileName))
        let misses = try PackageMisses.of(package: root)
        try misses.write(package: root)
        try ModelPredictions.write(root: root, fits: built.fits, excluded: mainExclusions)
        return (built.table, misses)
    }

    /// `networks/`: what each measured network costs, and what every model predicts.
    func writeNetworks(_ runs: Runs, root: URL, excluded: [RowFilter]) throws -> NetworkTable {
        let table = try NetworkTable.build(
            networks: runs.networks.map(\.network), measurements: runs.measurements,
            sample: try PackageBuilder.networkSample(root: root, excluded: excluded), options: fitOptions,
            shippedFiles: shippedFiles)
        try table.write(
            to: root,
            definitions: Dictionary(uniqueKeysWithValues: runs.networks.map { ($0.network.name, $0.contents) }))
        return table
    }

    /// `data/regression.csv` of the package at `root` without the rows `excluded` names, its
    /// input recorded relative to the package: what the builder fits and the verifier refits.
    static func regressionSample(root: URL, excluded: [RowFilter]) throws -> FitDataset {
        try FitDataset.load(
            paths: [root.appendingPathComponent(PackageLayout.regressionData).path], excluding: excluded
        ).relative(to: root.path)
    }

    /// The sample the networks' models are fitted on: the model table's data (the regression and
    /// layer samples), its fully-connected layers included (networks have them), without the rows
    /// `excluded` names.
    static func networkSample(root: URL, excluded: [RowFilter]) throws -> FitDataset {
        try FitDataset.load(
            paths: PackageBuilder.modelTableData(root: root).map { root.appendingPathComponent($0).path },
            excluding: excluded
        ).relative(to: root.path)
    }

    /// Fits alpha-FLOPs on `dataset`, recording the rows `excluded` left out of it.
    func fitRegression(_ dataset: FitDataset, excluded: [RowFilter]) throws -> FitReport {
        try AlphaFitter(options: fitOptions).fit(dataset, excluded: excluded.isEmpty ? nil : excluded)
    }

    /// `threads/fits.json`: in a package of several thread counts, alpha-FLOPs fitted on the
    /// regression sample's (OpenBLAS) rows of each count.
    func writeThreadCountFits(_ regression: [MeasurementRow], root: URL) throws {
        let counts = Set(regression.map(\.threads)).sorted()
        guard counts.count > 1 else { return }
        let backends = PackageBuilder.mainFitExclusions(of: regression).filter { $0.column != "threads" }
        var fits: [ThreadCountFit] = []
        for p in counts {
            let excluded = backends + PackageBuilder.otherThreadCounts(than: p, in: regression)
            fits.append(
                ThreadCountFit(
                    threads: p,
                    fit: try fitRegression(
                        PackageBuilder.regressionSample(root: root, excluded: excluded), excluded: excluded)))
        }
        try PackageBuilder.writeFits(fits, to: root, file: PackageLayout.threadFits)
        let judgements = try PackageBuilder.acrossCounts(
            PackageBuilder.regressionSample(root: root, excluded: backends), options: fitOptions, excluded: backends)
        try PackageBuilder.writeFits(judgements, to: root, file: PackageLayout.acrossCounts)
    }

    /// The models `threads/across-counts.json` fits across thread counts: alpha-FLOPs (the
    /// papers') and the best rate model these options can fit (gemm-work where the cache sizes
    /// are known, else tensor-bytes).
    static func acrossCountsModels(_ options: FitOptions) -> [FitModel] {
        [.alpha, options.canFit(.gemmWork) ? .gemmWork : .tensorBytes]
    }

    /// `threads/across-counts.json`: each of ``acrossCountsModels(_:)`` fitted across thread
    /// counts (the serial-share model) and judged held out against each count's own fit, on 5
    /// folds of configurations with the options' seed.
    static func acrossCounts(
        _ sample: FitDataset, options: FitOptions, excluded: [RowFilter]
    ) throws -> [ThreadCountJudgement] {
        try acrossCountsModels(options).compactMap { model in
            var each = options
            each.model = model
            // A model these rows cannot fit (a group too small for its parameters) is left out;
            // the README says so and verify-package checks that it still cannot be fitted.
            do {
                var judgement = try SerialShareFitter(options: each).judge(
                    sample, folds: acrossCountsFolds, seed: options.seed)
                judgement.excluded = excluded.isEmpty ? nil : excluded
                return judgement
            } catch is FitInputError {
                return nil
            }
        }
    }

    /// The folds of `threads/across-counts.json`.
    static let acrossCountsFolds = 5

    /// Reads `threads/across-counts.json` of the package at `root`; empty when it has none.
    public static func acrossCountsJudgements(package root: URL) throws -> [ThreadCountJudgement] {
        try readFits(
            package: root, file: PackageLayout.acrossCounts, validate: { try $0.fit.validate(source: $1) },
            name: { $0.model.rawValue })
    }

    /// Writes a list of fits (`fit/backends.json`, `threads/fits.json`) as the package writes JSON.
    static func writeFits<T: Encodable>(_ fits: [T], to root: URL, file: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(fits).write(to: root.appendingPathComponent(file), options: .atomic)
    }

    /// Reads a list of fits of the package at `root` (empty when it has no `file`), each fit
    /// validated and named in errors by `name`.
    static func readFits<T: Decodable>(
        package root: URL, file: String, fit: (T) -> FitReport, name: (T) -> String
    ) throws -> [T] {
        try readFits(package: root, file: file, validate: { try fit($0).validate(source: $1) }, name: name)
    }

    /// Reads a list of fits of the package at `root` (empty when it has no `file`), each checked
    /// by `validate` with its name in errors.
    static func readFits<T: Decodable>(
        package root: URL, file: String, validate: (T, String) throws -> Void, name: (T) -> String
    ) throws -> [T] {
        let path = root.appendingPathComponent(file)
        guard FileManager.default.fileExists(atPath: path.path) else { return [] }
        let fits: [T]
        do { fits = try StrictJSON.decode([T].self, from: Data(contentsOf: path)) } catch {
            throw FitInputError(input: file, "does not read (\(DecodingProblem.describe(error)))")
        }
        for each in fits { try validate(each, "\(file) (\(name(each)))") }
        return fits
    }

    /// Reads `threads/fits.json` of the package at `root`; empty when it has none.
    public static func threadCountFits(package root: URL) throws -> [ThreadCountFit] {
        try readFits(package: root, file: PackageLayout.threadFits, fit: \.fit, name: { "\($0.threads) threads" })
    }

    /// Reads `fit/backends.json` of the package at `root`; empty when it has none.
    public static func backendFits(package root: URL) throws -> [BackendFit] {
        try readFits(package: root, file: backendFitsFile, fit: \.fit, name: \.algorithm)
    }

    /// Where a package with several backends keeps each oneDNN algorithm's own fit.
    public static let backendFitsFile = PackageLayout.backendFits

    /// The oneDNN algorithms among `rows`, in their order of first appearance.
    static func oneDNNAlgorithms(in rows: [MeasurementRow]) -> [ConvAlgorithm] {
        var seen: [ConvAlgorithm] = []
        for row in rows where row.backend == .onednn && row.status.isOK && !seen.contains(row.algorithm) {
            seen.append(row.algorithm)
        }
        return seen
    }

    /// The main fit is of the OpenBLAS rows at one thread: the oneDNN rows (when there are any)
    /// and, in a run of several thread counts, the rows at the others are left out.
    static func mainFitExclusions(of regression: [MeasurementRow]) -> [RowFilter] {
        let algorithms = oneDNNAlgorithms(in: regression)
        return (algorithms.isEmpty ? [] : [RowFilter(column: "backend", value: ConvBackend.onednn.rawValue)])
            + otherThreadCounts(than: 1, in: regression)
    }

    /// Filters that leave out the rows of `regression` at every thread count but `count`, when it
    /// holds several (none for rows of one count).
    static func otherThreadCounts(than count: Int, in regression: [MeasurementRow]) -> [RowFilter] {
        let counts = Set(regression.map(\.threads))
        guard counts.count > 1 else { return [] }
        return counts.subtracting([count]).sorted().map { RowFilter(column: "threads", value: "\($0)") }
    }

    /// One oneDNN algorithm's fit: every other backend and algorithm left out.
    static func backendFitExclusions(_ algorithm: ConvAlgorithm, among algorithms: [ConvAlgorithm]) -> [RowFilter] {
        [ConvBackend.openblas, .direct].map { RowFilter(column: "backend", value: $0.rawValue) }
            + algorithms.filter { $0 != algorithm }.map { RowFilter(column: "algorithm", value: $0.rawValue) }
    }

    /// A comparison of the package's rows with another run, and what it read of that run.
    struct Compared {
        var comparison: RunComparison
        /// The other run as given, and its rows as read.
        var other: String, otherRows: [MeasurementRow]
    }

    /// Compares `rows` (with the rounds of the run directories) with `other`.
    func compare(with other: String, rows: [MeasurementRow]) throws -> Compared {
        var rounds: [MeasurementRow] = []
        var probes: [Double] = []
        for directory in runDirectories {
            rounds += try MeasurementSource.rounds(at: directory)
            probes += try MeasurementSource.probeRates(at: directory)
        }
        let otherRows = try MeasurementSource.rows(at: other)
        let comparison = try RunComparison(
            a: rows, roundsA: rounds, b: otherRows, roundsB: try MeasurementSource.rounds(at: other),
            probeRatesA: probes, probeRatesB: try MeasurementSource.probeRates(at: other))
        return Compared(comparison: comparison, other: other, otherRows: otherRows)
    }

    /// Writes `compare/compare.csv`, `compare/compare.json`, the ratio figure and, in
    /// `compare/other/`, what the comparison read of the other run (its rows, rounds, probe
    /// readings and manifest: so that `verify-package` recomputes the comparison whole).
    func write(_ compared: Compared, root: URL) throws {
        let directory = root.appendingPathComponent(PackageLayout.compareDirectory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try ComparisonFiles.write(compared.comparison, to: directory)
        let kept = root.appendingPathComponent(PackageLayout.comparedRun)
        try FileManager.default.createDirectory(at: kept, withIntermediateDirectories: true)
        try Data(MeasurementsFile.text(compared.otherRows).utf8).write(
            to: kept.appendingPathComponent(RowSource.measurementsFile), options: .atomic)
        let source = try RowSource(path: compared.other)
        try PackageBuilder.copy(
            [source.roundsFile, source.probesFile, source.manifestFile].compactMap { $0 }, into: kept)
        try FigureScript.drawComparison(directory, shippedFiles: shippedFiles)
    }

    /// Copies each of a run's `files` that exists into `directory`, by its name.
    static func copy(_ files: [String], into directory: URL) throws {
        for file in files where FileManager.default.fileExists(atPath: file) {
            try FileManager.default.copyItem(
                atPath: file, toPath: directory.appendingPathComponent((file as NSString).lastPathComponent).path)
        }
    }

    /// Runs the figure script with its virtualenv.
    func drawFigures(root: URL) throws {
        try FigureScript.draw(package: root, shippedFiles: shippedFiles)
    }
}

/// The figure scripts (`plot_figures.py`, `plot_compare.py`), run with the virtualenv that holds
/// matplotlib.
public enum FigureScript {
    /// Draws the figures of the package at `package`; throws with the script's output when it fails.
    public static func draw(package: URL, shippedFiles: ShippedFiles) throws {
        try run(shippedFiles.figureScript, on: package, shippedFiles: shippedFiles)
    }

    /// Draws the figure of a `convsweep compare` written to `directory`.
    public static func drawComparison(_ directory: URL, shippedFiles: ShippedFiles) throws {
        try run(shippedFiles.compareFigureScript, on: directory, shippedFiles: shippedFiles)
    }

    /// Runs `script` on `directory`; throws with the script's output when it fails.
    static func run(_ script: String, on directory: URL, shippedFiles: ShippedFiles) throws {
        let python = shippedFiles.python
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw PackageError("no \(python): run \(shippedFiles.pythonSetUpCommand) to create the plotting virtualenv")
        }
        guard FileManager.default.fileExists(atPath: script) else {
            throw PackageError("no figure script at \(script)")
        }
        if let refusal = shippedFiles.refusalToRun([python, script]) { throw PackageError(refusal) }
        let (status, output) = try Subprocess.run(python, [script, directory.path])
        guard status == 0 else { throw PackageError("\(script) failed:\n\(output)") }
    }
}

/// The fit of one thread count, in a package of several (`threads/fits.json`): alpha-FLOPs on
/// the regression sample's rows at that count, so that beta, gamma and final can be read against p.
public struct ThreadCountFit: Codable, Equatable, Sendable {
    /// The thread count p.
    public var threads: Int
    /// Its fit (its `excluded` filters name the rows left out: the other counts, oneDNN's rows).
    public var fit: FitReport
}

/// One oneDNN algorithm's own alpha-FLOPs fit in a package of several backends
/// (`fit/backends.json`): the regression rows of that algorithm alone.
public struct BackendFit: Codable, Equatable, Sendable {
    /// The algorithm, e.g. `dnnl-direct`.
    public var algorithm: String
    /// Its fit (its `excluded` filters name the rows left out).
    public var fit: FitReport
}
