import AlphaFit
import Analysis
import Foundation
import Measurement
import Mustache
import Rows
import Runner

/// The generated README.md of a replication package: `templates/package-readme.mustache`
/// (a shipped file, edited as text) rendered with swift-mustache from the package's typed
/// statement, manifest and fit, each value formatted here.
struct PackageReadme {
    var statement: PackageStatement
    var manifest: RunManifest
    var runCount: Int
    var fit: FitReport
    var errors: [PackagePredictions.SeriesError]
    var figureIndex: Data
    var measurements: [MeasurementRow] = []
    var comparison: RunComparison?
    var comparedWith: String?
    var models: ModelTable?
    var backendFits: [BackendFit] = []
    var networks: NetworkTable?

    /// The values the template names, every one already text.
    struct Model {
        struct Sweep {
            var path: String
            var shortHash: String
        }
        struct DataFile {
            var path: String
            var experiment: String
            var configurations: Int
            var measured: Int
        }
        struct Row {
            var what: String
            var value: String
        }
        struct Parameter {
            var group: String
            var n: String
            var name: String
            var value: String
            var standardError: String
            var interval: String
        }
        struct SeriesError {
            var experiment: String
            var series: String
            var n: String
            var rmse: String
            var nrmse: String
        }
        struct Rank {
            var experiment, series, n, spearman, kendall, displaced, inverted, slowestToFastest: String
        }
        struct ComparisonGroup {
            var experiment, series, n, ratio, interval, faster, slower, unchanged: String
        }
        struct ComparisonRank {
            var experiment, n, spearman, kendall, topK: String
        }
        struct Comparison {
            var other, configurations, onlyHere, onlyThere, noiseFloorPercent: String
            var groups: [ComparisonGroup]
            var ranks: [ComparisonRank]
        }
        struct ModelRow {
            var model, group, parameters, n, rmse, nrmse, mape, rmspe, within5, within10, within25: String
        }
        struct NoiseFloor {
            var rowsWithRounds, rows, median, mape, rmspe, within5, within10, within25: String
        }
        struct Coverage {
            var flopsLow, flopsHigh, spatialLow, spatialHigh, channelsLow, channelsHigh, tapsLow, tapsHigh: String
            var kernelOneRows, largerKernelRows: String
        }
        struct Models {
            var folds, loss: String
            /// nil when the rows state no between-round spread.
            var noiseFloor: NoiseFloor?
            var hasCeiling: Bool
            var ceiling: String
            var coverage: Coverage
            var rows: [ModelRow]
        }
        struct Unfitted {
            var model, reason: String
        }
        struct NetworkRow {
            var network, gmacs, parameters, measured, interval, throughput: String
            /// One cell per model of ``NetworkTable/parametricModels`` and the trees.
            var predicted: [String]
        }
        struct NetworkRank {
            var indicator, n, within10, mape, spearman, kendall, pairs, displaced: String
        }
        struct Networks {
            var count: String
            var unfitted: [Unfitted]
            var hasTrees: Bool
            var ceiling: String
            var rows: [NetworkRow]
            var ranks: [NetworkRank]
        }
        struct Rounds {
            var rounds, maxRounds, roundStopRule, probePercent, tolerancePercent: String
            var clean, unsettled, withoutClean, sentBack: String
            /// The slowest probe reading, percent of the reference; nil without readings.
            var slowestPercent: String?
            /// The run's repeatability statement, when it has one.
            var repeatability: String?
        }
        struct Diagnostic {
            var group, sse, rmse, rSquared, mape, iterations, stopReason, startsReaching, startsTried: String
            /// The fit's warnings, joined; nil without any (not `warnings`, which a nil value
            /// would let the template find in the run's).
            var fitWarnings: String?
        }
        struct StartAndBounds {
            /// Whether they are the replication's (the alpha model's defaults).
            var replications: Bool
            var start, bounds: String
        }
        struct Sessions {
            var count, started: String
            var lastEnded, interrupted: String?
            /// Commits later sessions recorded other than the first's.
            var laterCommits: String?
            var executables, sessionsWithExecutable: String?
        }
        struct Figure {
            var png: String
            var svg: String
            var replication: String
            var original: String
        }
        var machineLabel, profile: String
        var workspaceMiB: Int
        var cpuset, cpusetChosenBy, bindingMethod: String
        var threads: Int
        var stopRule, order, seed: String
        /// Rounds and probe; nil for a run measured before rounds.
        var rounds: Rounds?
        var cache: String
        var timer, timerResolutionNs, timerOverheadNs: String
        var verificationSamples: Int
        var verificationSeed, dataSeed, runs: String
        var sweeps: [Sweep]
        var dataFiles: [DataFile]
        var machine: [Row]
        var model, grouping, flopsConvention, formula, loss: String
        var parameters: [Parameter]
        var diagnostics: [Diagnostic]
        var errors: [SeriesError]
        var ranks: [Rank]
        var comparison: Comparison?
        var models: Models?
        var networks: Networks?
        var backends: [Parameter]
        var hasBackends: Bool
        var figures: [Figure]
        var starts: String
        /// nil when the fit records no options (a given fit).
        var startAndBounds: StartAndBounds?
        var sessions: Sessions
        /// The convsweep that wrote the package, when recorded.
        var writtenBy: String?
        var hasWarnings: Bool
        var warnings: [String]
        var commit, rebuildCommand: String
    }

    /// Renders the template at `templatePath`.
    func render(templatePath: String) throws -> String {
        guard let text = try? String(contentsOfFile: templatePath, encoding: .utf8) else {
            throw PackageError("cannot read the package README template \(templatePath)")
        }
        let template: MustacheTemplate
        do { template = try MustacheTemplate(string: text) } catch {
            throw PackageError("\(templatePath): not a valid Mustache template (\(error))")
        }
        return template.render(model())
    }

    /// The template's values.
    func model() -> Model {
        let m = manifest.machine
        let s = manifest.settings
        let caches = m.caches.map { "L\($0.level) \($0.kind) \($0.sizeBytes >> 10) KiB" }.joined(separator: ", ")
        var machineRows: [(String, String)] = [
            ("CPU", "\(m.cpuModel): \(m.packages) package(s), \(m.cores) core(s), \(m.processingUnits) PU(s)"),
            ("caches (hwloc)", caches.isEmpty ? "not reported" : caches),
            ("OS kernel", m.kernel),
            ("operating system", m.operatingSystem ?? "unknown"),
            ("Swift", m.swiftCompiler),
            ("build", m.buildConfiguration),
            (
                "OpenBLAS",
                "\(m.openBLASVersion), core \(m.openBLASCore), \(m.openBLASParallelism); config `\(m.openBLASConfig)`"
            ),
            ("hwloc", m.hwlocVersion),
            (
                "frequency governor",
                m.governors.isEmpty
                    ? "not readable (virtual machine)" : Set(m.governors).sorted().joined(separator: ", ")
            ),
            ("load average at start", m.loadAverage.map { String(format: "%.2f", $0) }.joined(separator: " ")),
            ("convsweep", "\(manifest.tool.version), commit \(manifest.tool.gitCommit ?? "unknown")"),
        ]
        var parameters: [Model.Parameter] = []
        for group in fit.fits {
            for name in fit.model.parameterNames {
                let se = group.diagnostics?.standardErrors?[name]
                let ci = group.diagnostics?.confidence95?[name]
                parameters.append(
                    Model.Parameter(
                        group: group.group, n: group.n.map(String.init) ?? "", name: name,
                        value: sig(group.parameters[name] ?? .nan), standardError: se.map(sig) ?? "n/a",
                        interval: ci.map { "[\(sig($0[0])), \(sig($0[1]))]" } ?? "n/a"))
            }
        }
        let diagnostics = fit.fits.compactMap { group -> Model.Diagnostic? in
            guard let d = group.diagnostics else { return nil }
            return Model.Diagnostic(
                group: group.group, sse: sig(d.sse), rmse: sig(d.rmseMs), rSquared: String(format: "%.4f", d.rSquared),
                mape: String(format: "%.1f", d.mapePercent), iterations: "\(d.iterations)",
                stopReason: "\(d.stopReason)",
                startsReaching: "\(d.startsReachingBest)", startsTried: "\(d.startsTried)",
                fitWarnings: d.warnings.isEmpty ? nil : d.warnings.joined(separator: "; "))
        }
        let seriesErrors = errors.map { e in
            Model.SeriesError(
                experiment: e.experiment, series: e.series, n: "\(e.n)", rmse: sig(e.rmseMs),
                nrmse: e.nrmse.map { String(format: "%.1f%%", $0 * 100) } ?? "n/a")
        }
        struct Entry: Decodable {
            var files: [String]
            var replication_figure: String
            var original_figure: String
        }
        let entries = (try? JSONDecoder().decode([Entry].self, from: figureIndex)) ?? []
        var warnings = Array(manifest.warnings.prefix(30))
        if manifest.warnings.count > 30 {
            warnings.append("… and \(manifest.warnings.count - 30) more in `manifest.json`")
        }
        return Model(
            machineLabel: statement.machineLabel, profile: statement.profile.description,
            workspaceMiB: s.workspaceLimit >> 20,
            cpuset: s.cpuset, cpusetChosenBy: s.cpusetChosenBy, bindingMethod: manifest.binding.method,
            threads: s.threads, stopRule: s.stopRuleDescription, order: s.order.rawValue, seed: "\(s.seed)",
            rounds: Self.roundsSummary(manifest, rows: measurements),
            cache: s.cache.rawValue, timer: manifest.timer.timer,
            timerResolutionNs: String(format: "%.0f", manifest.timer.measuredResolutionNs),
            timerOverheadNs: String(format: "%.0f", manifest.timer.overheadNs),
            verificationSamples: s.verificationSamples, verificationSeed: "\(s.verificationSeed)",
            dataSeed: "\(s.dataSeed)", runs: "\(runCount) run director\(runCount == 1 ? "y" : "ies")",
            sweeps: manifest.sweeps.map { Model.Sweep(path: $0.path, shortHash: String($0.sha256.prefix(16))) },
            dataFiles: statement.data.map {
                Model.DataFile(
                    path: $0.path, experiment: $0.experiment, configurations: $0.configurations, measured: $0.measured)
            },
            machine: machineRows.map { Model.Row(what: $0.0, value: $0.1.replacingOccurrences(of: "|", with: "\\|")) },
            model: fit.model.rawValue, grouping: fit.grouping.rawValue, flopsConvention: fit.flopsConvention.rawValue,
            formula: Self.formula(fit.model), loss: fit.options?.loss.rawValue ?? "given", parameters: parameters,
            diagnostics: diagnostics, errors: seriesErrors, ranks: Self.ranks(measurements),
            comparison: comparison.map { Self.comparisonModel($0, other: comparedWith ?? "the other run") },
            models: models.map(Self.modelsModel), networks: networks.map(Self.networksModel),
            backends: Self.backendParameters(backendFits),
            hasBackends: !backendFits.isEmpty,
            figures: entries.map {
                Model.Figure(
                    png: $0.files.first ?? "", svg: $0.files.last ?? "", replication: $0.replication_figure,
                    original: $0.original_figure)
            },
            starts: fit.options.map { "\($0.starts)" } ?? "the",
            startAndBounds: Self.startAndBounds(fit.options, model: fit.model), sessions: Self.sessions(manifest),
            writtenBy: statement.writtenBy.map { "\($0.version), commit \($0.gitCommit ?? "unknown")" },
            hasWarnings: !warnings.isEmpty,
            warnings: warnings,
            commit: (statement.writtenBy ?? manifest.tool).gitCommit ?? "unknown",
            rebuildCommand: statement.rebuildCommand)
    }

    /// How the run measured in rounds, and what the probe saw; nil before rounds.
    static func roundsSummary(_ manifest: RunManifest, rows: [MeasurementRow]) -> Model.Rounds? {
        let s = manifest.settings
        guard let rounds = s.rounds, let maxRounds = s.maxRounds else { return nil }
        let measured = rows.filter { $0.status.isOK }
        let windows = Dictionary(grouping: measured, by: { $0.window?.rawValue ?? "unknown" }).mapValues(\.count)
        let sent = manifest.sessions.compactMap(\.probe).map(\.disturbedRounds).reduce(0, +)
        let slowest = manifest.sessions.compactMap(\.probe).map(\.minimumRatio).min()
        return Model.Rounds(
            rounds: "\(rounds)", maxRounds: "\(maxRounds)",
            roundStopRule: s.roundStopRuleDescription ?? "a share of the stop rule's budget",
            probePercent: "\(Int(((s.probeSlowdown ?? 0) * 100).rounded()))",
            tolerancePercent: ((s.roundTolerance ?? 0) * 100).formatted(), clean: "\(windows["clean"] ?? 0)",
            unsettled: "\(windows["unsettled"] ?? 0)", withoutClean: "\(windows["disturbed"] ?? 0)",
            sentBack: "\(sent)",
            slowestPercent: slowest.map { String(format: "%.0f", 100 * $0) },
            repeatability: manifest.repeatability?.statement)
    }

    /// Each backend's fit as rows of (algorithm and group, n, parameter, value, error, R² and MAPE).
    static func backendParameters(_ fits: [BackendFit]) -> [Model.Parameter] {
        fits.flatMap { backend in
            backend.fit.fits.flatMap { group in
                backend.fit.model.parameterNames.map { name in
                    Model.Parameter(
                        group: "`\(backend.algorithm)` \(group.group)", n: group.n.map(String.init) ?? "", name: name,
                        value: sig(group.parameters[name] ?? .nan),
                        standardError: group.diagnostics?.standardErrors?[name].map(sig) ?? "n/a",
                        interval: group.diagnostics.map {
                            String(format: "R² %.3f, MAPE %.1f%%", $0.rSquared, $0.mapePercent)
                        } ?? "")
                }
            }
        }
    }

    /// The networks section, as text: each network's measured and predicted time (`–` where a
    /// model cannot predict it), and how each indicator and model orders the networks.
    static func networksModel(_ t: NetworkTable) -> Model.Networks {
        let columns = NetworkTable.parametricModels.map(\.rawValue) + [TreeCeiling.name]
        let rows = t.rows.map { row in
            Model.NetworkRow(
                network: row.network, gmacs: String(format: "%.3f", row.gmacs),
                parameters: String(format: "%.1f", Double(row.parameters) / 1e6),
                measured: String(format: "%.2f", row.measuredMs),
                interval: String(format: "%.2f–%.2f", row.lowMs, row.highMs),
                throughput: row.throughputPerSecond.map { String(format: "%.1f (batch %d)", $0, row.throughputBatch!) }
                    ?? "–",
                predicted: columns.map { model in
                    guard let m = t.models.firstIndex(of: model), let value = row.predictedMs[m] else { return "–" }
                    return String(format: "%.2f (%+.0f%%)", value, 100 * (value / row.measuredMs - 1))
                })
        }
        func rank(_ r: NetworkRanking, within: Int?, mape: Double?) -> Model.NetworkRank {
            Model.NetworkRank(
                indicator: r.indicator, n: "\(r.n)", within10: within.map { "\($0) of \(r.n)" } ?? "–",
                mape: mape.map { String(format: "%.1f%%", $0) } ?? "–", spearman: String(format: "%.3f", r.spearman),
                kendall: String(format: "%.3f", r.kendall), pairs: "\(r.discordantPairs) of \(r.pairs)",
                displaced: r.displaced.isEmpty ? "none" : r.displaced.joined(separator: ", "))
        }
        let ranks =
            (t.rows.count >= 3 ? t.onPaper.map { rank($0, within: nil, mape: nil) } : [])
            + t.accuracy.map { rank($0.ranking!, within: $0.withinTenPercent, mape: $0.mapePercent) }
        return Model.Networks(
            count: "\(t.rows.count)",
            unfitted: t.notFitted.keys.sorted().map { Model.Unfitted(model: $0, reason: t.notFitted[$0]!) },
            hasTrees: t.models.contains(TreeCeiling.name), ceiling: t.ceiling, rows: rows, ranks: ranks)
    }

    /// The model table, as text.
    static func modelsModel(_ t: ModelTable) -> Model.Models {
        func percent(_ x: Double) -> String { String(format: "%.1f%%", x) }
        var rows: [Model.ModelRow] = []
        for entry in t.entries {
            for (index, group) in ([GroupMetrics(group: "all", metrics: entry.metrics)] + entry.groups).enumerated() {
                let m = group.metrics
                rows.append(
                    Model.ModelRow(
                        model: index == 0 ? "`\(entry.model)`" : "", group: group.group,
                        parameters: index == 0 ? entry.parametersPerGroup.map { "\($0) per group" } ?? "trees" : "",
                        n: "\(m.n)", rmse: String(format: "%.4g", m.rmseMs),
                        nrmse: m.nrmse.map { String(format: "%.2f%%", 100 * $0) } ?? "–", mape: percent(m.mapePercent),
                        rmspe: percent(m.rmspePercent), within5: percent(m.within5Percent),
                        within10: percent(m.within10Percent), within25: percent(m.within25Percent)))
            }
        }
        let c = t.coverage
        return Model.Models(
            folds: "\(t.folds)", loss: t.loss.rawValue,
            noiseFloor: t.noiseFloor.map { f in
                Model.NoiseFloor(
                    rowsWithRounds: "\(f.rowsWithRounds)", rows: "\(f.rows)",
                    median: String(format: "%.2f", f.medianNoisePercent), mape: String(format: "%.1f", f.mapePercent),
                    rmspe: String(format: "%.1f", f.rmspePercent), within5: String(format: "%.1f", f.within5Percent),
                    within10: String(format: "%.1f", f.within10Percent),
                    within25: String(format: "%.1f", f.within25Percent))
            }, hasCeiling: t.hasCeiling, ceiling: t.ceiling,
            coverage: Model.Coverage(
                flopsLow: String(format: "%.3g", c.flops[0]), flopsHigh: String(format: "%.3g", c.flops[1]),
                spatialLow: "\(c.spatial[0])", spatialHigh: "\(c.spatial[1])", channelsLow: "\(c.channels[0])",
                channelsHigh: "\(c.channels[1])", tapsLow: "\(c.taps[0])", tapsHigh: "\(c.taps[1])",
                kernelOneRows: "\(c.kernelOneRows)", largerKernelRows: "\(c.largerKernelRows)"),
            rows: rows)
    }

    /// The comparison with another run, as text.
    static func comparisonModel(_ c: RunComparison, other: String) -> Model.Comparison {
        func f(_ x: Double) -> String { x.isNaN ? "–" : String(format: "%.3f", x) }
        let groups = c.groups.filter { $0.series == "all" }.map { g in
            Model.ComparisonGroup(
                experiment: g.experiment, series: g.series, n: "\(g.n)", ratio: f(g.geometricMeanRatio),
                interval: "[\(f(g.low)), \(f(g.high))]", faster: "\(g.faster)", slower: "\(g.slower)",
                unchanged: "\(g.unchanged)")
        }
        let ranks = c.rankings.map { r in
            Model.ComparisonRank(
                experiment: r.experiment, n: "\(r.n)", spearman: f(r.spearman), kendall: f(r.kendall),
                topK: r.topKAgreement.isNaN ? "–" : String(format: "%.0f%% (k = %d)", 100 * r.topKAgreement, r.k))
        }
        return Model.Comparison(
            other: other, configurations: "\(c.configurations.count)", onlyHere: "\(c.onlyInA)",
            onlyThere: "\(c.onlyInB)", noiseFloorPercent: String(format: "%.1f", 100 * c.noiseFloor), groups: groups,
            ranks: ranks)
    }

    /// The FLOPs ranking of every series and of the regression sample, as text.
    static func ranks(_ rows: [MeasurementRow]) -> [Model.Rank] {
        func number(_ x: Double) -> String { x.isNaN ? "–" : String(format: "%.3f", x) }
        func percent(_ x: Double) -> String { x.isNaN ? "–" : String(format: "%.1f%%", 100 * x) }
        return FlopsRanking.rankings(of: rows).map { r in
            Model.Rank(
                experiment: r.experiment, series: r.series, n: "\(r.n)", spearman: number(r.spearman),
                kendall: number(r.kendall), displaced: percent(r.displacedShare),
                inverted: r.pairsTwiceApart == 0 ? "–" : "\(percent(r.invertedShare)) (\(r.pairsTwiceApart))",
                slowestToFastest: number(r.slowestToFastest))
        }
    }

    /// The model's formula as the README states it (``FitModel/formula``, the one text of it).
    static func formula(_ model: FitModel) -> String {
        model == .alpha || model == .alphaChannels ? "\(model.formula), \(FitModel.definitions)" : model.formula
    }

    /// The deterministic start and the bounds the fit used, marked as the replication's when they
    /// are its (the alpha model's defaults); nil for a fit that records no options.
    static func startAndBounds(_ options: FitOptions?, model: FitModel) -> Model.StartAndBounds? {
        guard let options else { return nil }
        let names = model.parameterNames
        let start = options.effectiveStart
        let bounds = options.effectiveBounds
        let startText = zip(names, start).map { "\($0) \(number($1))" }.joined(separator: ", ")
        if model == .alpha && start == FitModel.alpha.defaultStart && bounds == FitModel.alpha.defaultBounds,
            Set(bounds).count == 1, let only = bounds.first
        {
            return .init(
                replications: true, start: startText, bounds: "[\(number(only.lowerBound)), \(number(only.upperBound))]"
            )
        }
        let boundsText = zip(names, bounds).map { "\($0) [\(number($1.lowerBound)), \(number($1.upperBound))]" }
            .joined(separator: ", ")
        return .init(replications: false, start: startText, bounds: boundsText)
    }

    private static func number(_ value: Double) -> String { String(format: "%g", value) }

    private func sig(_ value: Double) -> String { Self.sig(value) }

    private static func sig(_ value: Double) -> String {
        guard value.isFinite else { return "n/a" }
        return String(format: "%.6g", value)
    }

    /// The sessions that measured the run: how many, when; how many were interrupted and resumed;
    /// when later sessions recorded other commits than the first, those commits (read from the
    /// source tree when each session started, so a kept executable whose tree moved on records the
    /// tree's); and, over the sessions that recorded it, how many different executables (by
    /// SHA-256) ran: a run resumed across days or builds says so.
    static func sessions(_ manifest: RunManifest) -> Model.Sessions {
        let sessions = manifest.sessions
        let killed = sessions.filter { $0.endedAt == nil }.count
        var commits: [String] = []
        for commit in sessions.compactMap(\.gitCommit)
        where commit != manifest.tool.gitCommit && !commits.contains(commit) {
            commits.append(commit)
        }
        let hashes = sessions.compactMap(\.executableSHA256)
        return Model.Sessions(
            count: "\(sessions.count)", started: sessions.first.map { "\($0.startedAt)" } ?? "never",
            lastEnded: sessions.last?.endedAt.map { "\($0)" }, interrupted: killed > 0 ? "\(killed)" : nil,
            laterCommits: commits.isEmpty ? nil : commits.joined(separator: ", "),
            executables: hashes.isEmpty ? nil : "\(Set(hashes).count)",
            sessionsWithExecutable: hashes.isEmpty ? nil : "\(hashes.count)")
    }
}
