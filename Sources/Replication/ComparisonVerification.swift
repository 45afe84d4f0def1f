import Analysis
import Basics
import Foundation
import Rows
import Runner

/// What `verify-package` could check of a package's `compare/`.
public struct ComparisonCheck: Sendable {
    /// What does not hold, one line each, naming the file.
    public var problems: [String] = []
    /// The comparison as read (nil when the package has none, or it does not read).
    public var comparison: RunComparison?
    /// The run or package it compares with, as the package states it.
    public var comparedWith: String?
    /// Whether this package's side was held against its own run's rounds (a package built from
    /// one run has them in `run/`; one of several runs has no `run/`, and its rounds are taken
    /// as stated).
    public var roundsChecked = false
    /// Whether the comparison was recomputed whole from the package's run and what it holds of
    /// the other run (`compare/other/`, since 0.20.0); else the other run's times, rounds and
    /// probe readings were taken as stated.
    public var recomputed = false
    /// What the package holds of the other run (nil: nothing, as before 0.20.0, or it does not read).
    public var comparedRun: ComparedRun?
}

/// What a package holds of the run its comparison read (`compare/other/`, since 0.20.0).
public struct ComparedRun: Equatable, Sendable {
    /// The machine that measured it, as its manifest names it; nil when it has none (a CSV file).
    /// (Not `machine`: the README's template would find the package's own where this is nil.)
    public var measuredOn: String?

    /// The compared run the package at `root` holds; nil when it holds none (no comparison, or a
    /// package written before 0.20.0).
    ///
    /// - Throws: what reading its manifest throws (one that is not a convsweep manifest).
    public static func held(in root: URL) throws -> ComparedRun? {
        let kept = root.appendingPathComponent(PackageLayout.comparedRun)
        guard FileManager.default.fileExists(atPath: kept.appendingPathComponent(RowSource.measurementsFile).path)
        else { return nil }
        guard let manifest = try RowSource(path: kept.path).manifestFile else { return ComparedRun() }
        return ComparedRun(measuredOn: PackageBuilder.machineLabel(try RunManifest.read(path: manifest).machine))
    }
}

extension PackageVerifier {
    /// `compare/` against what the package holds: recomputed whole from `run/` and the other
    /// run's rows, rounds and probe readings in `compare/other/` (a package of 0.20.0 or later);
    /// in an older package, which does not hold them, they are taken as stated and everything
    /// else is recomputed:
    ///
    /// - This package's side (A) of every configuration from the package's own rows: the same
    ///   configuration, experiment, series, FLOPs and time, and the clean rounds of `run/`.
    /// - Each configuration's ratio from its two times; its interval symmetric about the ratio
    ///   in logarithms and at least as wide as the noise floor alone makes it; its verdict the
    ///   interval's.
    /// - The groups, the rankings and the probe-normalised ratio from the configurations; the
    ///   floor from its stated source; `onlyInA` from the package's rows; compare.csv as the
    ///   configurations write it; compare.json reads back to all it states.
    static func verifyComparison(root: URL, contents: PackageContents, statement: PackageStatement) -> ComparisonCheck {
        let file = "\(PackageLayout.compareDirectory)/\(ComparisonFiles.jsonFile)"
        var check = ComparisonCheck(comparedWith: statement.comparedWith)
        guard contents.holds(.comparison) else {
            if let other = statement.comparedWith {
                check.problems.append(
                    "\(PackageLayout.statement): names \(other) as compared with, but the package has no \(file)")
            }
            return check
        }
        guard statement.comparedWith != nil else {
            check.problems.append(
                "\(PackageLayout.statement): the package has \(PackageLayout.compareDirectory)/ but does not name what it was compared with"
            )
            return check
        }
        let comparison: RunComparison
        do {
            let data: Data
            (comparison, data) = try PackageLayout.decodeWithBytes(
                RunComparison.self, file, in: root, decoder: ComparisonFiles.jsonDecoder)
            if let path = StrictJSON.unread(in: data, readBack: try ComparisonFiles.jsonData(comparison)) {
                check.problems.append("\(file): field \(path): states what convsweep does not read back")
            }
        } catch {
            check.problems.append("\(error)")
            return check
        }
        check.comparison = comparison
        let csv = "\(PackageLayout.compareDirectory)/\(ComparisonFiles.csvFile)"
        if (try? String(contentsOf: root.appendingPathComponent(csv), encoding: .utf8))
            != ComparisonFiles.csvText(comparison)
        {
            check.problems.append("\(csv): differs from the configurations of \(file)")
        }
        // This package's side, from its own rows and rounds.
        let own = root.appendingPathComponent("run")
        let hasRun = FileManager.default.fileExists(atPath: own.appendingPathComponent("measurements.csv").path)
        let rows: [MeasurementRow]
        let rounds: [MeasurementRow]
        do {
            rows = try MeasurementSource.rows(at: hasRun ? own.path : root.path)
            rounds = hasRun ? try MeasurementSource.rounds(at: own.path) : []
        } catch {
            check.problems.append("\(file): cannot be checked against the package's rows (\(error))")
            return check
        }
        check.roundsChecked = hasRun
        check.problems += comparisonSideA(comparison, rows: rows, rounds: hasRun ? rounds : nil, file: file)
        check.problems += comparisonArithmetic(comparison, file: file)
        // The whole comparison again, from the package's run and the other run's files it holds.
        let kept = root.appendingPathComponent(PackageLayout.comparedRun)
        guard FileManager.default.fileExists(atPath: kept.appendingPathComponent(RowSource.measurementsFile).path)
        else { return check }
        guard hasRun else {
            check.problems.append(
                "\(file): cannot be recomputed: the package has \(PackageLayout.comparedRun)/ but no run/ of its own")
            return check
        }
        do {
            check.comparedRun = try ComparedRun.held(in: root)
            let (rowsB, roundsB) = (
                try MeasurementSource.rows(at: kept.path), try MeasurementSource.rounds(at: kept.path)
            )
            if let mismatch = MeasurementSource.roundMismatch(
                roundsB, rows: rowsB, file: "\(PackageLayout.comparedRun)/\(RowSource.roundsFile)")
            {
                check.problems.append(mismatch)
            }
            let again = try RunComparison(
                a: rows, roundsA: rounds, b: rowsB, roundsB: roundsB,
                noiseFloor: comparison.noiseFloorSource == "given" ? comparison.noiseFloor : nil,
                probeRatesA: try MeasurementSource.probeRates(at: own.path),
                probeRatesB: try MeasurementSource.probeRates(at: kept.path), topK: comparison.rankings.first?.k ?? 5)
            if let path = firstDifference(try ComparisonFiles.jsonData(comparison), try ComparisonFiles.jsonData(again))
            {
                check.problems.append(
                    "\(file): field \(path) differs from the comparison of run/ with \(PackageLayout.comparedRun)/ recomputed"
                )
            }
            check.recomputed = true
        } catch {
            check.problems.append(
                "\(file): cannot be recomputed from run/ and \(PackageLayout.comparedRun)/ (\(error))")
        }
        return check
    }

    /// Each configuration's side A against the package's `rows` (and `rounds`, when it has
    /// them), and `onlyInA`.
    static func comparisonSideA(
        _ comparison: RunComparison, rows: [MeasurementRow], rounds: [MeasurementRow]?, file: String
    ) -> [String] {
        var problems: [String] = []
        let measured = rows.filter { $0.status.isOK && ($0.medianMs ?? 0) > 0 }
        let byID = Dictionary(measured.map { ($0.configID, $0) }, uniquingKeysWith: { first, _ in first })
        let roundCounts = rounds.map { RunComparison.cleanRoundLogs($0).mapValues(\.count) }
        var seen = Set<String>()
        for c in comparison.configurations {
            guard seen.insert(c.configID).inserted else {
                problems.append("\(file): configuration \(c.configID) appears twice")
                continue
            }
            guard let row = byID[c.configID] else {
                problems.append("\(file): configuration \(c.configID): not a configuration this package measured")
                continue
            }
            if c.experiment != row.experiment || c.series != row.series || !agrees(c.flops, row.flops)
                || !agrees(c.timeAMs, row.medianMs!)
            {
                problems.append(
                    "\(file): configuration \(c.configID): time_a_ms, experiment, series or flops differ from the package's row (\(row.medianMs!) ms)"
                )
            }
            if let roundCounts, c.roundsA != roundCounts[c.configID, default: 0] {
                problems.append(
                    "\(file): configuration \(c.configID): rounds_a \(c.roundsA), the package's run has \(roundCounts[c.configID, default: 0])"
                )
            }
        }
        let onlyInA = Set(byID.keys).subtracting(seen).count
        if comparison.onlyInA != onlyInA {
            problems.append(
                "\(file): onlyInA \(comparison.onlyInA), but \(onlyInA) of the package's measured configurations are not compared"
            )
        }
        return problems
    }

    /// What follows from the stated configurations alone: ratios, intervals, verdicts, the
    /// floor, the groups, the rankings and the probe-normalised ratio.
    static func comparisonArithmetic(_ comparison: RunComparison, file: String) -> [String] {
        var problems: [String] = []
        let floor = comparison.noiseFloor
        guard floor.isFinite, floor >= 0 else { return ["\(file): noiseFloor \(floor) is not a share"] }
        // The least half-width of a configuration's interval in logarithms: the floor of both runs
        // at the 95% normal quantile (the Student t of any degrees of freedom is larger).
        let leastHalfWidth = 1.959963984540054 * (2 * floor * floor).squareRoot()
        for c in comparison.configurations {
            let name = "\(file): configuration \(c.configID)"
            guard c.timeAMs > 0, c.timeBMs > 0, c.timeAMs.isFinite, c.timeBMs.isFinite, c.roundsA >= 0, c.roundsB >= 0
            else {
                problems.append("\(name): a time that is not positive or a negative round count")
                continue
            }
            let d = log(c.timeBMs) - log(c.timeAMs)
            guard agrees(log(c.ratio), d, absolute: 1e-9) else {
                problems.append("\(name): ratio \(c.ratio), but time_b_ms / time_a_ms is \(exp(d))")
                continue
            }
            let (low, high) = (log(c.low), log(c.high))
            guard low.isFinite, high.isFinite, low <= d, d <= high, agrees(low + high, 2 * d, absolute: 1e-9),
                high - d >= leastHalfWidth * (1 - 1e-9)
            else {
                problems.append(
                    "\(name): interval \(c.low)–\(c.high) is not one about its ratio \(c.ratio) at least as wide as the noise floor \(floor) makes it"
                )
                continue
            }
            let verdict: RunComparison.Verdict = low > 0 ? .slower : (high < 0 ? .faster : .unchanged)
            let onEdge = abs(low) < 1e-12 || abs(high) < 1e-12
            if c.verdict != verdict && !onEdge {
                problems.append("\(name): verdict \(c.verdict.rawValue), but its interval says \(verdict.rawValue)")
            }
        }
        switch comparison.noiseFloorSource {
        case "given": break
        case "estimated", "estimated, capped":
            let expected = RunComparison.floor(estimated: comparison.estimatedNoiseFloor)
            if expected.source != comparison.noiseFloorSource || !agrees(floor, expected.floor) {
                problems.append(
                    "\(file): noiseFloor \(floor) (\(comparison.noiseFloorSource)) is not what its estimate \(comparison.estimatedNoiseFloor ?? RunComparison.minimumNoiseFloor) gives (\(expected.floor))"
                )
            }
        default:
            problems.append("\(file): noiseFloorSource \"\(comparison.noiseFloorSource)\" is none convsweep writes")
        }
        // The groups and rankings, from the configurations.
        let parts = [
            (
                "groups", try? ComparisonFiles.encoded(comparison.groups),
                try? ComparisonFiles.encoded(RunComparison.groups(comparison.configurations, floor: floor))
            ),
            (
                "rankings", try? ComparisonFiles.encoded(comparison.rankings),
                try? ComparisonFiles.encoded(
                    RunComparison.rankings(comparison.configurations, topK: comparison.rankings.first?.k ?? 5))
            ),
        ]
        for case let (name, stated?, expected?) in parts {
            if let path = firstDifference(stated, expected) {
                problems.append("\(file): \(name)\(path): differs from what its configurations give")
            }
        }
        switch (comparison.probeRatio, comparison.probeNormalisedGeometricMeanRatio) {
        case (nil, nil): break
        case (let ratio?, let stated?):
            let again = RunComparison.probeNormalised(comparison.configurations, probeRatio: ratio)
            if !(ratio > 0) || !agrees(stated, again) {
                problems.append(
                    "\(file): probeNormalisedGeometricMeanRatio \(stated), but the configurations and probeRatio \(ratio) give \(again)"
                )
            }
        default:
            problems.append("\(file): probeRatio and probeNormalisedGeometricMeanRatio: one without the other")
        }
        return problems
    }

    /// The first path at which two JSON texts differ either way (a number by more than
    /// ``tolerance`` of itself); nil when they agree.
    static func firstDifference(_ stated: Data, _ expected: Data) -> String? {
        StrictJSON.difference(in: stated, from: expected, relativeTolerance: tolerance)
            ?? StrictJSON.difference(in: expected, from: stated, relativeTolerance: tolerance)
    }

    /// ``close(_:_:slack:relative:)`` with NaN agreeing with NaN (a group of one configuration
    /// has no interval).
    static func agrees(_ a: Double, _ b: Double, absolute: Double = 0) -> Bool {
        a.isNaN || b.isNaN ? a.isNaN && b.isNaN : close(a, b, slack: absolute)
    }
}
