import AlphaFit
import Analysis
import Basics
import Foundation
import Rows
import Runner

extension PackageVerifier {
    /// The README regenerated from what the package states (its statement, manifest, fit,
    /// errors, figure index, run, model table, backend fits, recomputed networks and misses, and
    /// comparison)
    /// with `template`, and compared with `README.md` as text: an edited figure in the README is a
    /// difference, named by its first differing line.
    static func verifyReadme(
        root: URL, statement: PackageStatement, models: ModelTable?, networks: NetworkTable?, misses: PackageMisses?,
        comparison: ComparisonCheck, template: String
    ) -> [String] {
        let file = PackageLayout.readme
        do {
            let expected = try regeneratedReadme(
                root: root, statement: statement, models: models, networks: networks, misses: misses,
                comparison: comparison, template: template)
            let written = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            guard written != expected else { return [] }
            let a = written.split(separator: "\n", omittingEmptySubsequences: false)
            let b = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let line = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
            let stated = line < a.count ? String(a[line]) : "(the end of the file)"
            let regenerated = line < b.count ? String(b[line]) : "(the end of the file)"
            let column = zip(stated, regenerated).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? 0
            func around(_ text: String) -> String { String(text.dropFirst(max(0, column - 40)).prefix(120)) }
            return [
                "\(file) line \(line + 1) differs from the README regenerated from the package's files: states \"…\(around(stated))…\", regenerated \"…\(around(regenerated))…\" (a package written by an older convsweep: `verify-package --regenerate-readme`)"
            ]
        } catch {
            return ["\(file): not checked: cannot regenerate it from the package's files (\(error))"]
        }
    }

    /// The README of the package at `root` as `template` renders what the package states.
    static func regeneratedReadme(
        root: URL, statement: PackageStatement, models: ModelTable?, networks: NetworkTable?, misses: PackageMisses?,
        comparison: ComparisonCheck, template: String
    ) throws -> String {
        let manifest = try RunManifest.read(path: root.appendingPathComponent(PackageLayout.manifest).path)
        let fit = try FitReport.load(path: root.appendingPathComponent(PackageLayout.fit).path)
        let predictions = try PackagePredictions.read(package: root)
        let rows = try MeasurementsFile.read(path: root.appendingPathComponent("run/measurements.csv").path)
        // The networks' trees were grown by the same scikit-learn as the model table's (a recomputed
        // table takes their times as stated, so it cannot know it).
        var networks = networks
        if let models, networks?.models.contains(TreeCeiling.name) == true { networks?.ceiling = models.ceiling }
        let readme = PackageReadme(
            statement: statement, manifest: manifest, runCount: 1, fit: fit, errors: predictions.errors,
            figureIndex: (try? Data(contentsOf: root.appendingPathComponent(PackageLayout.figureIndex))) ?? Data(),
            measurements: rows, comparison: comparison.comparison, comparedWith: statement.comparedWith,
            comparedRun: comparison.comparedRun, models: models,
            backendFits: try PackageBuilder.backendFits(package: root), networks: networks, misses: misses,
            acrossCounts: try PackageBuilder.acrossCountsJudgements(package: root),
            networkScaling: try NetworkScaling(
                networks: try NetworkTable.definitions(package: root), measurements: rows
            ).rows,
            framework: try networks.flatMap { table in
                try FrameworkSection.reference(package: root, manifest: manifest).map {
                    try FrameworkSection(reference: $0, table: table)
                }
            })
        return try readme.render(templatePath: template)
    }

    /// Rewrites the README of the package at `directory` from what the package states, with
    /// `template` (a package written by an older convsweep, whose README an older template
    /// rendered), and its line in `SHA256SUMS` — only after every other check passed, so that
    /// nothing but the README's wording changes — then checks the whole package again.
    public static func regenerateReadme(directory: String, template: String) throws -> Report {
        let first = try verify(directory: directory, readmeTemplate: template, checkingReadme: false)
        guard first.ok else { return first }
        let root = URL(fileURLWithPath: directory)
        let statement = try StrictJSON.decode(
            PackageStatement.self, from: Data(contentsOf: root.appendingPathComponent(PackageLayout.statement)))
        let readme = try regeneratedReadme(
            root: root, statement: statement, models: first.modelTable, networks: first.networkTable,
            misses: first.misses, comparison: first.comparison, template: template)
        let readmeData = Data(readme.utf8)
        try SafeFile.writeAtomically(readmeData, to: root.appendingPathComponent(PackageLayout.readme).path)
        let sumsPath = root.appendingPathComponent(Checksums.fileName).path
        let sums = try String(contentsOfFile: sumsPath, encoding: .utf8)
        let digest = SHA256Hex.of(readmeData)
        let lines = sums.split(separator: "\n").map { line in
            line.hasSuffix("  \(PackageLayout.readme)") ? "\(digest)  \(PackageLayout.readme)" : String(line)
        }
        try SafeFile.writeAtomically(Data((lines.joined(separator: "\n") + "\n").utf8), to: sumsPath)
        return try verify(directory: directory, readmeTemplate: template)
    }
}
