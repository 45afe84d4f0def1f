import AlphaFit
import Analysis
import Basics
import ConvKernels
import Foundation
import Rows
import Sweeps
import TestSupport
import Testing

@testable import Orchestration
@testable import Replication
@testable import Runner

/// A tiny regression sweep of 48 small grid layers, written as `sweeps/regression.yaml`.
private func writeRegressionSweep(_ sweeps: URL) throws {
    try """
    name: regression
    description: tiny regression sample for tests
    series:
      - label: grid
        H: [4, 12]
        W: [6, 16]
        Cin: [8, 24]
        Cout: [4, 16]
        K: [1, 2, 3]
    """.write(to: sweeps.appendingPathComponent("regression.yaml"), atomically: true, encoding: .utf8)
}

/// Measures the sweep files `names` of `sweeps` into `dir/run` (3 runs a configuration, on every
/// PU); returns the run directory.
private func measure(
    _ names: [String], of sweeps: URL, in dir: URL, algorithms: [ConvAlgorithm] = [.auto],
    threads: ThreadCounts = ThreadCounts(1)
) throws -> String {
    let paths = names.map { sweeps.appendingPathComponent($0).path }
    var configurations: [SweepConfiguration] = []
    for path in paths { configurations += try Sweep.load(path: path).configurations }
    var options = RunOptions()
    options.fixedRuns = 3
    options.showProgress = false
    // A package's tests are of the package, not of the drift probe: a short calibration, small
    // roofs, one recorded reference rate, and no waiting out a slow phase (the suites running
    // beside this one in parallel would send it waiting for seconds each pass).
    options.probeCalibrationSeconds = 0.05
    options.standIns.quickRoofs = true
    options.standIns.referenceRate = 50
    options.probeRecheckSeconds = 0
    options.slowPhaseWait = 0
    options.cpuset = Array(0..<ProcessInfo.processInfo.activeProcessorCount)
    options.algorithms = algorithms
    options.threadCounts = threads
    let run = dir.appendingPathComponent("run").path
    _ = try RunDriver.run(sweepPaths: paths, configurations: configurations, options: options, outputDirectory: run)
    return run
}

/// A real, tiny measuring run: a regression sweep and an experiment B sweep of small layers.
private func makeRun(in dir: URL, algorithms: [ConvAlgorithm] = [.auto], threads: ThreadCounts = ThreadCounts(1))
    throws -> String
{
    let sweeps = dir.appendingPathComponent("sweeps")
    try FileManager.default.createDirectory(at: sweeps, withIntermediateDirectories: true)
    try writeRegressionSweep(sweeps)
    try """
    name: B
    description: tiny experiment B for tests
    series:
      - label: Cin=8
        K: [1, 2, 3, 5]
        H: round(30 / K)
        W: H
        Cin: 8
        Cout: Cin
      - label: Cin=16
        K: [1, 2, 3, 5]
        H: round(30 / K)
        W: H
        Cin: 16
        Cout: Cin
    """.write(to: sweeps.appendingPathComponent("exp-b.yaml"), atomically: true, encoding: .utf8)
    return try measure(
        ["regression.yaml", "exp-b.yaml"], of: sweeps, in: dir, algorithms: algorithms, threads: threads)
}

private func builder(_ run: String, _ out: URL) -> PackageBuilder {
    PackageBuilder(
        runDirectories: [run], packageDirectory: out.path, shippedFiles: sourceTree, profile: .custom,
        rebuildCommand: "convsweep package \(run) --out \(out.path)")
}

@Test(.computeThreadsExclusive) func packageFromARealRunVerifiesAndNamesEveryEditedFile() throws {
    let dir = temporaryDirectoryURL()
    defer { try? FileManager.default.removeItem(at: dir) }
    let run = try makeRun(in: dir)
    let out = dir.appendingPathComponent("package")
    let statement = try builder(run, out).build()

    #expect(statement.data.map(\.path) == ["data/regression.csv", "data/exp-b.csv"])
    #expect(statement.data.map(\.configurations) == [48, 8])
    #expect(Set(statement.parameters.keys) == ["K=1", "K>1"])
    #expect(Set(statement.errors.map(\.experiment)) == ["regression", "B"])
    for file in [
        "README.md", "manifest.json", "topology.xml", "fit/alpha.json", "fit/predictions.csv",
        "fit/errors.csv", "figures/exp-b.png", "figures/exp-b.svg", "figures/index.json", "SHA256SUMS",
    ] {
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file) missing")
    }
    let report = try PackageVerifier.verify(directory: out.path)
    #expect(report.ok, "\(report.problems)")
    #expect(report.refittedGroups.sorted() == ["K=1", "K>1"])
    // The fit records the file it read relative to the package, which any copy can check, not
    // the directory it was built in; a copy elsewhere verifies, and an edited path does not.
    let inputs = try #require(FitReport.load(path: out.appendingPathComponent("fit/alpha.json").path).inputs)
    #expect(inputs.map(\.path) == ["data/regression.csv"] && inputs.map(\.file) == ["data/regression.csv"])
    let moved = dir.appendingPathComponent("moved")
    try FileManager.default.copyItem(at: out, to: moved)
    #expect(try PackageVerifier.verify(directory: moved.path).ok)
    let fitText = try String(contentsOf: moved.appendingPathComponent("fit/alpha.json"), encoding: .utf8)
    try fitText.replacingOccurrences(of: "\"data\\/regression.csv\"", with: "\"data\\/other.csv\"").write(
        to: moved.appendingPathComponent("fit/alpha.json"), atomically: true, encoding: .utf8)
    _ = try Checksums.write(directory: moved)
    #expect(
        try PackageVerifier.verify(directory: moved.path).problems.contains {
            $0.contains("fit/alpha.json: its inputs (data/other.csv")
        })
    // The README states the sessions that measured the data.
    let readme = try String(contentsOf: out.appendingPathComponent("README.md"), encoding: .utf8)
    #expect(readme.contains("| sessions | 1, started "))
    #expect(readme.contains("1 executable(s) by SHA-256 over the 1 session(s)"))
    // The rule that chose each row's round, as the run records it (a run started before 0.16.0
    // records none: its rows took their fastest clean round, and its README says so).
    #expect(readme.contains("a row takes its fastest round, clean or not"))
    // It names the convsweep that wrote it, and the rebuild starts from that commit.
    let writer = try #require(statement.writtenBy)
    #expect(writer.version == BuildInfo.version && writer.gitCommit == BuildInfo.gitCommit())
    #expect(
        readme.contains(
            "| package written by | convsweep \(BuildInfo.version), commit \(writer.gitCommit ?? "unknown") |"))
    #expect(readme.contains("From a clone of convsweep at commit `\(writer.gitCommit ?? "unknown")`"))

    // Rebuilding from the same run gives the same files, byte for byte.
    let sums = try String(contentsOf: out.appendingPathComponent("SHA256SUMS"), encoding: .utf8)
    try builder(run, out).build()
    #expect(try String(contentsOf: out.appendingPathComponent("SHA256SUMS"), encoding: .utf8) == sums)

    // An edited data file, then a removed figure: verify-package names the file.
    let data = out.appendingPathComponent("data/exp-b.csv")
    let original = try Data(contentsOf: data)
    try (String(decoding: original, as: UTF8.self) + "\n").write(to: data, atomically: true, encoding: .utf8)
    let edited = try PackageVerifier.verify(directory: out.path)
    #expect(!edited.ok)
    #expect(edited.problems.contains { $0.hasPrefix("data/exp-b.csv") })
    try original.write(to: data)

    // Every model's predictions and where each misses are in the package, the figures draw
    // gemm-work's; an edited prediction or bucket, its sums rewritten, is named by the refit.
    for (file, column) in [(ModelPredictions.fileName, "gemm-work_ms"), (PackageMisses.fileName, "median_error")] {
        let url = out.appendingPathComponent(file)
        let text = try String(contentsOf: url, encoding: .utf8)
        var table = try Table(contentsOf: url)
        let index = try #require(table.column(column), "\(file) has no \(column)")
        let value = try #require(Double(table.rows[0][index]))
        table.rows[0][index] = "\(value * 1.5 + 1)"
        try table.write(to: url)
        _ = try Checksums.write(directory: out)
        let changed = try PackageVerifier.verify(directory: out.path)
        #expect(changed.problems.contains { $0.hasPrefix(file) }, "\(file): \(changed.problems)")
        try Data(text.utf8).write(to: url)
        _ = try Checksums.write(directory: out)
    }
    let index = try String(contentsOf: out.appendingPathComponent("figures/index.json"), encoding: .utf8)
    #expect(index.contains(ModelPredictions.fileName))

    try FileManager.default.removeItem(at: out.appendingPathComponent("figures/exp-b.svg"))
    let removed = try PackageVerifier.verify(directory: out.path)
    #expect(removed.problems.contains { $0.contains("figures/exp-b.svg") })
}

@Test(.computeThreadsExclusive) func aPackageOfSeveralThreadCountsHasItsSpeedupsFittedAtOneThreadAndVerified() throws {
    guard ProcessInfo.processInfo.activeProcessorCount >= 2 else { return }
    let dir = temporaryDirectoryURL()
    defer { try? FileManager.default.removeItem(at: dir) }
    let run = try makeRun(in: dir, threads: try #require(ThreadCounts([1, 2])))
    let out = dir.appendingPathComponent("package")
    let statement = try builder(run, out).build()
    #expect(statement.data.map(\.configurations) == [96, 16])
    let tables = ["threads/speedup.csv", "threads/series.csv", "threads/dependence.csv"]
    #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("figures/threads-speedup.png").path))
    #expect(tables.allSatisfy { statement.contents?.paths(.threadScaling).contains($0) == true })
    let speedups = try String(contentsOf: out.appendingPathComponent(tables[0]), encoding: .utf8)
    #expect(speedups.split(separator: "\n").count == 1 + 48 + 8)
    // The main fit is of the one-thread rows.
    let fit = try FitReport.load(path: out.appendingPathComponent("fit/alpha.json").path)
    #expect(fit.excluded == [RowFilter(column: "threads", value: "2")])
    #expect(fit.fits.compactMap(\.n).reduce(0, +) == 48)
    // Alpha-FLOPs at each count, each refitted by verify-package.
    let counts = try PackageBuilder.threadCountFits(package: out)
    #expect(counts.map(\.threads) == [1, 2])
    #expect(counts.map { $0.fit.fits.compactMap(\.n).reduce(0, +) } == [48, 48])
    #expect(counts[0].fit.fits.map(\.parameters) == fit.fits.map(\.parameters))
    // Alpha-FLOPs and the best rate model fitted across the counts, judged on folds of
    // configurations against each count's own fit.
    let across = try PackageBuilder.acrossCountsJudgements(package: out)
    #expect(across.map(\.model) == [.alpha, .gemmWork])
    #expect(across.map(\.fit.form) == [.dimensions, .team])
    #expect(across.allSatisfy { $0.configurations == 48 && $0.heldOut.map(\.threads) == [1, 2] })
    #expect(across.allSatisfy { $0.countLeftOut.isEmpty })
    let readme = try String(contentsOf: out.appendingPathComponent("README.md"), encoding: .utf8)
    #expect(readme.contains("## Threads: where the FLOPs sit") && readme.contains("| `gemm-work` | 2 | 48 |"))
    let report = try PackageVerifier.verify(directory: out.path)
    #expect(report.ok, "\(report.problems)")
    #expect(report.refittedGroups.contains("K>1 (2 threads)"))
    #expect(report.refittedGroups.contains("K>1 (gemm-work across counts)"))
    // A judgement edited, the sums written again: judged again, the figure is named.
    let acrossPath = out.appendingPathComponent("threads/across-counts.json")
    let original = try Data(contentsOf: acrossPath)
    var stated = try JSONDecoder().decode([ThreadCountJudgement].self, from: Data(contentsOf: acrossPath))
    stated[1].heldOut[1].acrossCounts.within10Percent += 20
    try JSONEncoder().encode(stated).write(to: acrossPath)
    try Checksums.write(directory: out)
    let judged = try PackageVerifier.verify(directory: out.path).problems
    #expect(
        judged.contains { $0.hasPrefix("threads/across-counts.json: gemm-work at 2 threads, the fit across counts") },
        "\(judged)")
    // A file that does not read is named, not a crash.
    try Data("[{\"model\": 3}]".utf8).write(to: acrossPath)
    try Checksums.write(directory: out)
    let unreadable = try PackageVerifier.verify(directory: out.path).problems
    #expect(unreadable.contains { $0.contains("threads/across-counts.json") }, "\(unreadable)")
    try original.write(to: acrossPath)
    // A speedup edited, the sums written again: the recomputation names the table.
    let edited = speedups.replacingOccurrences(of: ",2,", with: ",3,")
    try edited.write(to: out.appendingPathComponent(tables[0]), atomically: true, encoding: .utf8)
    try Checksums.write(directory: out)
    let problems = try PackageVerifier.verify(directory: out.path).problems
    #expect(problems.contains { $0.hasPrefix("threads/speedup.csv: differs") }, "\(problems)")
}

@Test(.computeThreadsExclusive) func refusesAnotherMachinesPackageAndAnIncompleteRun() throws {
    let dir = temporaryDirectoryURL()
    defer { try? FileManager.default.removeItem(at: dir) }
    let run = try makeRun(in: dir)

    // An output directory that holds another machine's package: refused, nothing overwritten.
    let other = dir.appendingPathComponent("other")
    try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
    let foreign = PackageStatement(
        profile: .shipped(.quick), machineLabel: "some-other-cpu-64pu", rebuildCommand: "", data: [], parameters: [:],
        errors: []
    )
    let foreignData = try JSONEncoder().encode(foreign)
    try foreignData.write(to: other.appendingPathComponent("package.json"))
    #expect(throws: PackageError.self) { try builder(run, other).build() }
    #expect(try Data(contentsOf: other.appendingPathComponent("package.json")) == foreignData)
    #expect(!FileManager.default.fileExists(atPath: other.appendingPathComponent("data").path))

    // A directory holding unrelated files: refused.
    let unrelated = dir.appendingPathComponent("unrelated")
    try FileManager.default.createDirectory(at: unrelated, withIntermediateDirectories: true)
    try Data("notes".utf8).write(to: unrelated.appendingPathComponent("notes.txt"))
    #expect(throws: PackageError.self) { try builder(run, unrelated).build() }

    // A run that is not complete: refused.
    let manifestURL = URL(fileURLWithPath: run).appendingPathComponent("manifest.json")
    var manifest = try RunManifest.read(path: manifestURL.path)
    manifest.status = .interrupted
    try manifest.encoded().write(to: manifestURL)
    let fresh = dir.appendingPathComponent("fresh")
    #expect(throws: PackageError.self) { try builder(run, fresh).build() }
    #expect(!FileManager.default.fileExists(atPath: fresh.appendingPathComponent("README.md").path))
}

@Test func theReadmeStatesTheStartBoundsAndFormulaTheFitUsed() throws {
    // The alpha model with the replication's set-up is named as such …
    let replications = try #require(PackageReadme.Model.StartAndBounds(FitOptions(), model: .alpha))
    #expect(
        replications.replications && replications.start == "beta 0.01, gamma 0.8, final 0.3"
            && replications.bounds == "[0, 2]")
    // … any other start, bounds or model is stated as it was used.
    let channels = try #require(
        PackageReadme.Model.StartAndBounds(FitOptions(model: .alphaChannels), model: .alphaChannels))
    #expect(channels.start.contains("delta 0") && channels.bounds.contains("eta [0, 1000]") && !channels.replications)
    let custom = try #require(
        PackageReadme.Model.StartAndBounds(
            FitOptions(bounds: [[0, 1], [0, 3], [0, 2]], start: [0.1, 1, 0.5]), model: .alpha))
    #expect(!custom.replications && custom.start == "beta 0.1, gamma 1, final 0.5")
    #expect(custom.bounds == "beta [0, 1], gamma [0, 3], final [0, 2]")
    #expect(PackageReadme.Model.StartAndBounds(nil, model: .alpha) == nil)
    #expect(PackageReadme.formula(.alphaChannels).contains("(1 + delta / Cout + eta / (K·Cin))"))
    #expect(!PackageReadme.formula(.alpha).contains("delta"))
}

@Test func theReadmeTemplateFormatsNumbersAsTheTablesState() {
    // The template's number formats: significant digits, decimals, shares as percentages, and
    // a dash (or n/a) where a figure is not a number, never "nan".
    #expect(ReadmeNumber.format(7.213334353502523, "sig") as? String == "7.21333")
    #expect(ReadmeNumber.format(.infinity, "sig") as? String == "n/a")
    #expect(ReadmeNumber.format(0.058041663449451955, "percent1") as? String == "5.8%")
    #expect(ReadmeNumber.format(.nan, "percent1") as? String == "–")
    #expect(ReadmeNumber.format(.nan, "f3") as? String == "–")
    #expect(ReadmeNumber.format(0.123456, "f3") as? String == "0.123")
    #expect(ReadmeNumber.format(123456, "g3") as? String == "1.23e+05")
    #expect(ReadmeNumber.format(-12.4, "signed0") as? String == "-12")
    #expect(ReadmeNumber.format(0.4011655926, "percent0") as? String == "40%")
    #expect(ReadmeNumber.format(.nan, "finite") as? Bool == false)
    #expect(ReadmeNumber.format(1, "bold") == nil)
}

/// A copy of `run` that measured one configuration of experiment B's series `Cin=8` and nothing
/// else of B (a group of one configuration: no interval, `"nan"` in compare.json).
private func runWithOneConfigurationOfASeries(_ run: String, in dir: URL) throws -> String {
    let other = dir.appendingPathComponent("other")
    try FileManager.default.copyItem(atPath: run, toPath: other.path)
    let file = other.appendingPathComponent("measurements.csv")
    let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map(String.init)
    let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    let (experiment, series) = (
        try #require(header.firstIndex(of: "experiment")), try #require(header.firstIndex(of: "series"))
    )
    var keptOfB = false
    let kept = lines.dropFirst().filter { line in
        let fields = line.split(separator: ",", omittingEmptySubsequences: false)
        guard fields[experiment] == "B" else { return true }
        guard !keptOfB, fields[series] == "Cin=8" else { return false }
        keptOfB = true
        return true
    }
    try (([lines[0]] + kept).joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
    return other.path
}

@Test(.computeThreadsExclusive) func aPackageComparedWithAnotherRunHoldsTheComparisonAndVerifiesAndNoEditOfItDoes()
    throws
{
    let dir = temporaryDirectoryURL()
    let run = try makeRun(in: dir)
    let other = try runWithOneConfigurationOfASeries(run, in: dir)
    let out = dir.appendingPathComponent("package")
    // A run given twice (a configuration in two of them), or a comparison with a run holding a
    // configuration twice, is refused before anything is written.
    var twice = builder(run, out)
    twice.runDirectories = [run, run]
    #expect {
        try twice.build()
    } throws: { error in
        "\(error)".contains("is also in an earlier run directory")
    }
    let doubled = dir.appendingPathComponent("doubled")
    try FileManager.default.copyItem(atPath: other, toPath: doubled.path)
    let doubledRows = doubled.appendingPathComponent("measurements.csv")
    let text = try String(contentsOf: doubledRows, encoding: .utf8)
    try (text + text.split(separator: "\n")[1] + "\n").write(to: doubledRows, atomically: true, encoding: .utf8)
    var againstDoubled = builder(run, out)
    againstDoubled.comparedWith = doubled.path
    #expect(throws: ComparisonError.self) { try againstDoubled.build() }
    #expect(!FileManager.default.fileExists(atPath: out.path))
    var withComparison = builder(run, out)
    withComparison.comparedWith = other
    try withComparison.build()
    for file in ["compare/compare.csv", "compare/compare.json", "compare/ratio-vs-flops.png"] {
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file)")
    }
    let readme = try String(contentsOf: out.appendingPathComponent("README.md"), encoding: .utf8)
    #expect(readme.contains("## Compared with \(other)") && readme.contains("## FLOPs against measured"))
    #expect(readme.contains("What the comparison read of the other run, measured on "))
    // A group of one configuration has no interval: compare.json says "nan", and reads back.
    let report = try PackageVerifier.verify(directory: out.path)
    #expect(report.ok, "\(report.problems)")
    let comparison = try #require(report.comparison.comparison)
    #expect(
        comparison.groups.contains { $0.experiment == "B" && $0.n == 1 && $0.low.isNaN },
        "\(comparison.groups.map { "\($0.experiment)/\($0.series) \($0.n)" })")
    #expect(report.comparison.roundsChecked && report.comparison.comparedWith == other)
    // The other run's rows, rounds, probe readings and manifest are in the package: the
    // comparison is recomputed whole.
    #expect(report.comparison.recomputed)
    for file in ["measurements.csv", "rounds.csv", "probes.csv", "manifest.json"] {
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("compare/other/\(file)").path))
    }

    // Each edit below is written as convsweep writes compare/ (compare.csv agreeing with
    // compare.json) with fresh sums: the comparison's arithmetic and this package's side are
    // recomputed, so none passes.
    var copies = 0
    func problems(after change: (inout RunComparison) -> Void) throws -> String {
        copies += 1
        let copy = dir.appendingPathComponent("edited-\(copies)")
        try FileManager.default.copyItem(at: out, to: copy)
        var edited = comparison
        change(&edited)
        try ComparisonFiles.write(edited, to: copy.appendingPathComponent("compare"))
        _ = try Checksums.write(directory: copy)
        let found = try PackageVerifier.verify(directory: copy.path).problems
        #expect(!found.isEmpty, "an edited comparison passed as verified")
        return found.joined(separator: "\n")
    }
    let edits: [(expected: String, change: (inout RunComparison) -> Void)] = [
        ("ratio 2.0, but time_b_ms / time_a_ms is", { $0.configurations[0].ratio = 2 }),
        ("verdict slower, but its interval says", { $0.configurations[0].verdict = .slower }),
        (
            "time_a_ms, experiment, series or flops differ from the package's row",
            {
                $0.configurations[0].timeAMs *= 2
                $0.configurations[0].ratio /= 2
                $0.configurations[0].low /= 2
                $0.configurations[0].high /= 2
            }
        ),
        (
            "at least as wide as the noise floor",
            {
                $0.configurations[0].low = $0.configurations[0].ratio * 0.999
                $0.configurations[0].high = $0.configurations[0].ratio / 0.999
            }
        ),
        ("rounds_a 99, the package's run has", { $0.configurations[0].roundsA = 99 }),
        ("appears twice", { $0.configurations.append($0.configurations[0]) }),
        ("of the package's measured configurations are not compared", { $0.configurations.removeLast() }),
        (
            "groups[\(comparison.groups.count - 1)].geometricMeanRatio: differs from what its configurations give",
            { $0.groups[$0.groups.count - 1].geometricMeanRatio = 0.5 }
        ),
        (
            "rankings[\(comparison.rankings.count - 1)].spearman: differs from what its configurations give",
            { $0.rankings[$0.rankings.count - 1].spearman = 0.5 }
        ),
        ("is not what its estimate", { $0.noiseFloor = 0.002 }),
        ("but 7 of the package's measured configurations are not compared", { $0.onlyInA += 3 }),
    ]
    for (expected, change) in edits {
        let found = try problems(after: change)
        #expect(found.contains(expected), "expected \(expected): \(found)")
    }
    // What only the other run gives: its floor estimate, and its times as compare/other/ holds them.
    #expect(
        try problems { $0.estimatedNoiseFloor = 0.004 }.contains(
            "field estimatedNoiseFloor differs from the comparison"))
    let slower = dir.appendingPathComponent("other-slower")
    try FileManager.default.copyItem(at: out, to: slower)
    let kept = slower.appendingPathComponent("compare/other/measurements.csv")
    var rows = try MeasurementsFile.read(path: kept.path)
    let index = try #require(rows.firstIndex { $0.configID == comparison.configurations[0].configID })
    rows[index].medianMs! *= 1.5
    try MeasurementsFile.text(rows).write(to: kept, atomically: true, encoding: .utf8)
    _ = try Checksums.write(directory: slower)
    #expect(
        try PackageVerifier.verify(directory: slower.path).problems.contains {
            $0.contains("differs from the comparison of run/ with compare/other/ recomputed")
        })

    // A package written before 0.20.0 holds no compare/other/: it verifies, with the other run's
    // side taken as stated (and said so).
    let older = dir.appendingPathComponent("older")
    try FileManager.default.copyItem(at: out, to: older)
    try FileManager.default.removeItem(at: older.appendingPathComponent("compare/other"))
    let statementURL = older.appendingPathComponent("package.json")
    var statement = try #require(
        try JSONSerialization.jsonObject(with: Data(contentsOf: statementURL)) as? [String: Any])
    var listed = try #require(statement["contents"] as? [String: Any])
    listed["files"] = (listed["files"] as? [[String: Any]])?.filter {
        ($0["path"] as? String)?.hasPrefix("compare/other/") == false
    }
    statement["contents"] = listed
    try JSONSerialization.data(withJSONObject: statement, options: [.prettyPrinted, .sortedKeys]).write(
        to: statementURL)
    _ = try Checksums.write(directory: older)
    // Its README, which says nothing of compare/other/, is what the older convsweep rendered:
    // regenerated here, after every other check passed.
    let olderReport = try PackageVerifier.regenerateReadme(directory: older.path, template: sourceTree.readmeTemplate)
    #expect(olderReport.ok, "\(olderReport.problems)")
    #expect(!olderReport.comparison.recomputed && olderReport.comparison.comparison != nil)
    let olderReadme = try String(contentsOf: older.appendingPathComponent("README.md"), encoding: .utf8)
    #expect(!olderReadme.contains("compare/other/"))
}

@Test func aSlurmSubmissionsJobsQuoteTheirPathsAndDependOnEachOther() {
    let submission = SlurmSubmission(
        shards: 4, profile: .quick, sweepFiles: ["/a b/regression.yaml"], outputDirectory: "/out/it's",
        executable: "/bin/convsweep", runArguments: ["--max-seconds", "0.5"], sbatchArguments: [])
    #expect(submission.workDirectory == "/out/it's.slurm")
    #expect(
        submission.shardCommand
            == "'/bin/convsweep' run '/a b/regression.yaml' --out '/out/it'\\''s.slurm/shards/shard-'$SLURM_ARRAY_TASK_ID --shard $SLURM_ARRAY_TASK_ID/4 --accept-machine-change '--max-seconds' '0.5' --quiet"
    )
    #expect(
        submission.mergeCommand.contains("merge '/out/it'\\''s.slurm/shards'/shard-* --out '/out/it'\\''s'/run.merging")
    )
    #expect(submission.packageCommand.hasSuffix("--profile quick --out '/out/it'\\''s'"))
    // One thread: a CPU per shard; several threads: a whole node per shard.
    #expect(submission.shardResources == ["--ntasks=1", "--cpus-per-task=1"])
    var threaded = submission
    threaded.wholeNodes = true
    #expect(threaded.shardResources.contains("--exclusive") && !threaded.shardResources.contains("--cpus-per-task=1"))
}

@Test(.computeThreadsExclusive, .enabled(if: OneDNN.isAvailable, "this build has no oneDNN backend"))
func aPackageOfTwoBackendsFitsEachAndVerifies() throws {
    let dir = temporaryDirectoryURL()
    defer { try? FileManager.default.removeItem(at: dir) }
    let run = try makeRun(in: dir, algorithms: [.auto, .dnnlDirect])
    let rows = try MeasurementsFile.read(path: run + "/measurements.csv")
    #expect(rows.count == 2 * 56)
    let onednn = rows.filter { $0.backend == .onednn }
    #expect(onednn.count == 56 && onednn.allSatisfy { $0.configID.hasSuffix("@dnnl-direct") })
    #expect(onednn.allSatisfy { $0.status == .ok && $0.implementation != nil && $0.layouts?.hasPrefix("src ") == true })
    let manifest = try RunManifest.read(path: run + "/manifest.json")
    #expect(manifest.settings.algorithms == [.auto, .dnnlDirect])
    #expect(manifest.sessions[0].oneDNN?.hasPrefix("oneDNN 2.") == true)

    let out = dir.appendingPathComponent("package")
    try builder(run, out).build()
    let main = try FitReport.load(path: out.appendingPathComponent("fit/alpha.json").path)
    #expect(main.excluded == [RowFilter(column: "backend", value: "onednn")])
    #expect(main.fits.compactMap(\.n).reduce(0, +) == 48)
    let backends = try PackageBuilder.backendFits(package: out)
    #expect(backends.map(\.algorithm) == ["dnnl-direct"])
    #expect(backends[0].fit.fits.compactMap(\.n).reduce(0, +) == 48)
    let readme = try String(contentsOf: out.appendingPathComponent("README.md"), encoding: .utf8)
    #expect(readme.contains("## Per backend") && readme.contains("`dnnl-direct` K>1"))
    #expect(readme.contains("[dnnl-direct]"), "the figures' series name the backend")
    let report = try PackageVerifier.verify(directory: out.path)
    #expect(report.ok, "\(report.problems)")
    #expect(report.refittedGroups.contains("K>1 (dnnl-direct)"))
}

/// A real, tiny run of a regression sample, a layer sample (depthwise and fully connected) and a
/// four-layer network of every kind, at batch 1 and 2 (throughput), from sweep files in `dir/sweeps`.
private func makeNetworkRun(in dir: URL) throws -> String {
    let sweeps = dir.appendingPathComponent("sweeps")
    try FileManager.default.createDirectory(
        at: sweeps.appendingPathComponent("nets"), withIntermediateDirectories: true)
    try writeRegressionSweep(sweeps)
    try """
    name: layers
    series:
      - label: depthwise
        H: [6, 10, 14]
        W: H
        Cin: [8, 24]
        Cout: Cin
        K: 3
        stride: [1, 2]
        padding: 1
        groups: Cin
      - label: fc
        layer: fc
        batch: [1, 4]
        Cin: [32, 64]
        Cout: [8, 20]
    """.write(to: sweeps.appendingPathComponent("layers.yaml"), atomically: true, encoding: .utf8)
    try """
    network: tiny
    source: a test's network
    published_gmacs: 0.000039584
    layers:
      - {name: stem, H: 16, W: 16, Cin: 3, Cout: 8, K: 3, stride: 2, padding: 1}
      - {name: pw, H: 8, W: 8, Cin: 8, Cout: 16, K: 1, padding: 0, count: 2}
      - {name: dw, H: 8, W: 8, Cin: 16, Cout: 16, K: 3, padding: 1, groups: 16}
      - {name: fc, layer: fc, batch: 1, Cin: 16, Cout: 10}
    """.write(to: sweeps.appendingPathComponent("nets/tiny.yaml"), atomically: true, encoding: .utf8)
    try """
    name: nets-batch2
    networks: nets
    batch: 2
    """.write(to: sweeps.appendingPathComponent("nets-batch2.yaml"), atomically: true, encoding: .utf8)
    return try measure(["regression.yaml", "layers.yaml", "nets/tiny.yaml", "nets-batch2.yaml"], of: sweeps, in: dir)
}

@Test func aPackageOfANetworkCostsAndPredictsItAndVerifiesEveryFigure() throws {
    let dir = temporaryDirectoryURL()
    defer { try? FileManager.default.removeItem(at: dir) }
    let run = try makeNetworkRun(in: dir)
    let out = dir.appendingPathComponent("package")
    // With a framework reference of this machine: the framework's end-to-end time beside the sum.
    let manifest = try RunManifest.read(path: (run as NSString).appendingPathComponent("manifest.json"))
    func reference(host: String) throws -> String {
        let entry = FrameworkReference.Entry(
            network: "tiny", modelSHA256: String(repeating: "0", count: 64), framework: "onnxruntime",
            frameworkVersion: "1.32.0", threads: 1, pu: 1, optimization: "ORT_ENABLE_ALL",
            roundMediansMs: [0.5, 0.4, 0.6], runsPerRound: [5, 5, 5])
        let file = dir.appendingPathComponent("reference-\(host).json")
        try FrameworkReference(
            convsweep: "test", cpuModel: manifest.machine.cpuModel, host: host, date: "2026-12-07T00:00:00Z",
            networks: [entry]
        ).encoded().write(to: file)
        return file.path
    }
    // Another host's reference: refused before anything is written, naming both machines.
    var foreign = builder(run, dir.appendingPathComponent("foreign"))
    foreign.frameworkReference = try reference(host: "elsewhere")
    #expect { try foreign.build() } throws: { "\($0)".contains("elsewhere") && "\($0)".contains("not on the machine") }
    #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("foreign/data").path))
    var own = builder(run, out)
    own.frameworkReference = try reference(host: manifest.machine.hostName)
    let statement = try own.build()
    #expect(
        statement.data.map(\.path) == [
            "data/regression.csv", "data/layers.csv", "data/network-tiny.csv", "data/network-tiny-batch2.csv",
        ])
    for file in [
        NetworkTable.networksFile, NetworkTable.kindsFile, NetworkTable.rankingFile, NetworkTable.fitsFile,
        "networks/definitions/tiny.yaml", "figures/networks-by-kind.png", "figures/networks-predicted.png",
        "figures/networks-macs.png",
    ] {
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file) missing")
    }
    // networks.csv: the network's measured time is count × median over its layers, and every
    // model predicts it (each group — K>1, 1x1, depthwise, FC — has its fit).
    let table = try Table(contentsOf: out.appendingPathComponent(NetworkTable.networksFile))
    #expect(
        Array(table.header.prefix(10)) == [
            "network", "layers", "parameters", "gmacs", "mb_moved", "measured_ms", "measured_low_ms",
            "measured_high_ms", "throughput_batch", "throughput_per_s",
        ])
    #expect(
        table.header.dropFirst(10).prefix(5) == [
            "flops_ms", "alpha_ms", "alpha-channels_ms", "data-movement_ms", "tensor-bytes_ms",
        ])
    let row = try #require(table.records.first)
    #expect(row["network"] == "tiny" && row["layers"] == "5" && row["parameters"] == "\(216 + 2 * 128 + 144 + 160)")
    let rows = try MeasurementsFile.read(path: out.appendingPathComponent("data/network-tiny.csv").path)
    let median = Dictionary(uniqueKeysWithValues: rows.map { ($0.shape, $0.medianMs!) })
    let network = try Network.load(path: dir.appendingPathComponent("sweeps/nets/tiny.yaml").path)
    let expected = network.layers.map { median[$0.shape]! * Double($0.count) }.reduce(0, +)
    #expect(abs(Double(row["measured_ms"]!)! / expected - 1) < 1e-12)
    // Throughput: 2 images over the network's layers measured at batch 2.
    let batch2 = try MeasurementsFile.read(path: out.appendingPathComponent("data/network-tiny-batch2.csv").path)
    let median2 = Dictionary(uniqueKeysWithValues: batch2.map { ($0.shape, $0.medianMs!) })
    let atBatch2 = network.atBatch(2).layers.map { median2[$0.shape]! * Double($0.count) }.reduce(0, +)
    #expect(row["throughput_batch"] == "2")
    #expect(abs(Double(row["throughput_per_s"]!)! / (2000 / atBatch2) - 1) < 1e-12)
    for model in ["flops", "alpha", "alpha-channels", "data-movement", "tensor-bytes"] {
        let predicted = try #require(Double(row["\(model)_ms"] ?? ""), "\(model) did not predict the network")
        #expect(predicted > 0)
    }
    let readme = try String(contentsOf: out.appendingPathComponent("README.md"), encoding: .utf8)
    #expect(readme.contains("## What does my network cost?"))
    #expect(readme.contains("| tiny | 0.000 |"))

    let report = try PackageVerifier.verify(directory: out.path)
    #expect(report.ok, "\(report.problems)")
    let framework = try Table(contentsOf: out.appendingPathComponent(FrameworkSection.tableFile))
    let frameworkRow = try #require(framework.records.first)
    let sum = try #require(Double(row["measured_ms"] ?? ""))
    #expect(frameworkRow["network"] == "tiny" && Double(frameworkRow["framework_ms"]!) == 0.5)
    #expect(Double(frameworkRow["layer_sum_ms"]!) == sum && abs(Double(frameworkRow["share"]!)! - sum / 0.5) < 1e-12)
    #expect(
        readme.contains("### Against a framework's own inference") && readme.contains("onnxruntime 1.32.0, 1 thread"))

    // A package written before tensor-bytes existed: its networks are recomputed with the models
    // its fits.json states, and it verifies; the same files with a prediction edited do not.
    let older = dir.appendingPathComponent("older")
    try FileManager.default.copyItem(at: out, to: older)
    let fitsURL = older.appendingPathComponent(NetworkTable.fitsFile)
    let fits = try JSONDecoder().decode([FitReport].self, from: Data(contentsOf: fitsURL))
    try JSONEncoder().encode(fits.filter { $0.model != .tensorBytes }).write(to: fitsURL)
    var withoutModel = table
    let dropped = try #require(table.column("tensor-bytes_ms"))
    withoutModel.header.remove(at: dropped)
    withoutModel.rows = withoutModel.rows.map {
        var r = $0
        r.remove(at: dropped)
        return r
    }
    try withoutModel.write(to: older.appendingPathComponent(NetworkTable.networksFile))
    let rankingURL = older.appendingPathComponent(NetworkTable.rankingFile)
    var ranking = try Table(contentsOf: rankingURL)
    ranking.rows.removeAll { $0.first == "tensor-bytes" }
    try ranking.write(to: rankingURL)
    _ = try Checksums.write(directory: older)
    // Its README, written without the column, is what the older convsweep rendered: regenerated
    // here from the stripped files, after every other check passed.
    let olderReport = try PackageVerifier.regenerateReadme(directory: older.path, template: sourceTree.readmeTemplate)
    #expect(olderReport.ok, "\(olderReport.problems)")
    withoutModel.rows[0][withoutModel.column("data-movement_ms")!] = "\(Double(row["data-movement_ms"]!)! * 1.01)"
    try withoutModel.write(to: older.appendingPathComponent(NetworkTable.networksFile))
    _ = try Checksums.write(directory: older)
    #expect(!(try PackageVerifier.verify(directory: older.path).ok))

    // networks.csv edited (and its sum rewritten): the recomputation names file, line and column.
    let path = out.appendingPathComponent(NetworkTable.networksFile)
    var edited = table
    edited.rows[0][table.column("alpha_ms")!] = "\(Double(row["alpha_ms"]!)! * 1.01)"
    try edited.write(to: path)
    _ = try Checksums.write(directory: out)
    let problems = try PackageVerifier.verify(directory: out.path).problems
    #expect(problems.contains { $0.hasPrefix("networks/networks.csv: line 2, alpha_ms states") }, "\(problems)")
    // framework.csv edited too: named.
    var frameworkEdited = framework
    frameworkEdited.rows[0][framework.column("framework_ms")!] = "0.25"
    try frameworkEdited.write(to: out.appendingPathComponent(FrameworkSection.tableFile))
    _ = try Checksums.write(directory: out)
    let frameworkProblems = try PackageVerifier.verify(directory: out.path).problems
    #expect(frameworkProblems.contains { $0.hasPrefix(FrameworkSection.tableFile) }, "\(frameworkProblems)")
}

@Test func aRankingWrittenBeforeTheResolvedPairsStillVerifiesOnItsOwnColumns() {
    let recomputed = Table(
        header: ["indicator", "discordant_pairs", "pairs", "resolved_discordant_pairs", "resolved_pairs", "displaced"],
        rows: [["MACs", "1", "55", "0", "54", ""]])
    let older = Table(
        header: ["indicator", "discordant_pairs", "pairs", "displaced"], rows: [["MACs", "1", "55", ""]])
    #expect(PackageVerifier.compare(older, recomputed, file: "networks/ranking.csv") == nil)
    // An edited value is still found, and a column missing that no version lacked is named.
    let edited = Table(header: older.header, rows: [["MACs", "0", "55", ""]])
    #expect(
        PackageVerifier.compare(edited, recomputed, file: "networks/ranking.csv")
            == "networks/ranking.csv: line 2, discordant_pairs states 0, recomputing gives 1")
    let lacking = Table(header: ["indicator", "pairs", "displaced"], rows: [["MACs", "55", ""]])
    #expect(
        PackageVerifier.compare(lacking, recomputed, file: "networks/ranking.csv")?.hasPrefix(
            "networks/ranking.csv: columns indicator,pairs,displaced") == true)
}

@Test func theReadmeSaysWhichVariablesChoseTheKernels() throws {
    // A run measured before sessions recorded the variables names none; a session that ran under
    // OPENBLAS_CORETYPE has its package's README say so.
    let run = repositoryRoot.appendingPathComponent("results/intel-r-xeon-r-processor-2pu/networks/run")
    var manifest = try RunManifest.read(path: run.appendingPathComponent("manifest.json").path)
    let openBLAS = { (m: RunManifest) in PackageReadme.Model.machineRows(m).first { $0.what == "OpenBLAS" }?.value }
    #expect(try #require(openBLAS(manifest)).contains("kernels chosen with") == false)
    manifest.sessions[0].kernelSelection = ["OPENBLAS_CORETYPE": "SkylakeX"]
    #expect(try #require(openBLAS(manifest)).hasSuffix("; kernels chosen with OPENBLAS_CORETYPE=SkylakeX"))
}

@Test func theReadmeDescribesTheKernelsTheRowsRan() {
    func row(_ shape: ConvShape, _ algorithm: ConvAlgorithm, status: ConfigurationStatus = .ok) -> MeasurementRow {
        MeasurementRow(
            configuration: SweepConfiguration(id: "\(shape)", experiment: "x", series: "s", shape: shape),
            algorithm: algorithm, threads: 1, status: status)
    }
    // The alpha-FLOPs grid alone: stride 1, 'same', the two GEMM algorithms.
    let grid = [
        row(ConvShape(height: 8, width: 8, inputChannels: 4, outputChannels: 4, kernel: 1), .gemm1x1),
        row(ConvShape(height: 8, width: 8, inputChannels: 4, outputChannels: 4, kernel: 3), .im2colGemm),
        // A row not measured names no algorithm.
        row(ConvShape.fullyConnected(rows: 1, inputs: 8, outputs: 8), .fullyConnectedGemm, status: .dropped("x")),
    ]
    let text = PackageReadme.kernelDescription(of: grid, workspaceMiB: 256)
    #expect(text.contains("batch 1 (as each row states); stride 1, 'same' output size"))
    #expect(text.contains("`gemm-1x1`") && text.contains("256 MiB workspace") && !text.contains("fc-gemm"))
    // General layers: each row's geometry, and every algorithm that ran, named.
    let general =
        grid + [
            row(
                ConvShape(
                    height: 8, width: 8, inputChannels: 4, outputChannels: 4, kernel: 3, stride: 2,
                    padding: .uniform(1), groups: 4), .depthwiseDirect),
            row(ConvShape.fullyConnected(rows: 49, inputs: 8, outputs: 8), .fullyConnectedGemm),
        ]
    let mixed = PackageReadme.kernelDescription(of: general, workspaceMiB: 256)
    #expect(mixed.contains("batch 1 (as each row states)"), "a fully-connected layer's M rows are no batch")
    #expect(mixed.contains("each row's stride, padding, dilation and groups"))
    #expect(
        mixed.contains("`depthwise-direct`") && mixed.contains("`fc-gemm`")
            && !mixed.contains("stride 1, 'same' output size ("))
    // The depthwise kernel as the run's version had it: channel-blocked since 0.12.0, per channel
    // before (a package of an older run keeps its README's words).
    #expect(mixed.contains("channel-blocked") && !mixed.contains("each output row accumulated"))
    let older = PackageReadme.kernelDescription(of: general, workspaceMiB: 256, channelBlocked: false)
    #expect(older.contains("each output row accumulated") && !older.contains("channel-blocked"))
}
