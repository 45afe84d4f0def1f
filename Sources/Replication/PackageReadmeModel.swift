import AlphaFit
import Analysis
import ConvKernels
import Foundation
import Measurement
import Rows
import Runner

extension PackageReadme {
    /// The values `templates/package-readme.mustache` names: numbers, flags and names, most of
    /// them the package's own typed values; the template formats every number.
    struct Model {
        var machineLabel, profile: String
        /// What the rows computed: batches, layers and algorithms (``PackageReadme/kernelDescription(of:workspaceMiB:channelBlocked:)``).
        var kernels: String
        var cpuset, cpusetChosenBy, bindingMethod: String
        /// The NUMA nodes memory was bound to, with the policy read back (nil in a manifest
        /// written before memory was bound).
        var memoryBinding: String?
        var threads: Int
        var stopRule, order: String
        var seed: UInt64
        /// Rounds and probe; nil for a run measured before rounds.
        var rounds: Rounds?
        var cache: String
        var timer: TimerCalibration
        var verificationSamples: Int
        var verificationSeed, dataSeed: UInt64
        var runCount: Int
        var oneRun: Bool
        var sweeps: [Sweep]
        var dataFiles: [PackageStatement.DataFile]
        var machine: [Row]
        var model, grouping, flopsConvention, formula, loss: String
        var parameters: [Parameter]
        var diagnostics: [Diagnostic]
        var errors: [PackagePredictions.SeriesError]
        var ranks: [FlopsRanking]
        var comparison: Comparison?
        var models: Models?
        var networks: Networks?
        /// A framework's end-to-end times beside the networks' sums; nil without a reference.
        var framework: Framework?
        /// How the layers scale with threads; nil for a run of one count.
        var scaling: Scaling?
        var backends: [Parameter]
        var figures: [Figure]
        var starts: String
        /// nil when the fit records no options (a given fit).
        var startAndBounds: StartAndBounds?
        var sessions: Sessions
        /// The convsweep that wrote the package, when recorded.
        var writtenBy: String?
        var warnings: [String]
        var commit, rebuildCommand: String

        struct Sweep {
            var path, shortHash: String
        }

        /// The framework reference's section: each network's end-to-end time beside its layer sum,
        /// and how each indicator orders the networks against the framework.
        struct Framework {
            var label: String
            var rows: [FrameworkSection.Row]
            var ranks: [Networks.Rank]

            init(_ section: FrameworkSection) {
                label = section.label
                rows = section.rows
                ranks = section.rankings.map { Networks.Rank(ranking: $0) }
            }
        }

        /// The threads section: Spearman's ρ of the speedup per count, and the models fitted
        /// across counts against each count's own fit.
        struct Scaling {
            struct Dependence {
                var threads: Int
                var positions, channels, taps, flops: Double
            }
            struct Judged {
                var model: String
                var threads, n: Int
                var ownMape, ownWithin, acrossMape, acrossWithin, floorWithin: Double
                var better: String
            }
            struct LeftOut {
                var model: String
                var threads: Int
                var fittedOn: String
                var mape, within: Double
            }
            struct Share {
                var model, group: String
                var sigma, positions, taps, channels: Double
            }
            struct WorkShare {
                var model, group, shares: String
            }
            var counts: String
            var dependence: [Dependence]
            var networks: [NetworkScaling.Row]
            var judged: [Judged]
            var leftOut: [LeftOut]
            var shares: [Share]
            var workShares: [WorkShare]
            var hasJudgements: Bool
            /// The models a package fits across counts that these rows could not be fitted with.
            var unfitted: [String]

            /// The section for `rows` (nil when no configuration is measured at one thread and at
            /// more) with the judgements of `threads/across-counts.json`.
            init?(
                rows: [MeasurementRow], judgements: [ThreadCountJudgement], networks: [NetworkScaling.Row],
                expected: [FitModel]
            ) {
                let scaling = ThreadScaling(rows: rows)
                guard !scaling.points.isEmpty else { return nil }
                counts = ([1] + scaling.counts).map(String.init).joined(separator: ", ")
                self.networks = networks
                let rho = Dictionary(
                    scaling.dependence().map { ("\($0.threads) \($0.dimension)", $0.rho) },
                    uniquingKeysWith: { a, _ in a })
                dependence = scaling.counts.map { p in
                    Dependence(
                        threads: p, positions: rho["\(p) H·W"] ?? .nan, channels: rho["\(p) Cin·Cout"] ?? .nan,
                        taps: rho["\(p) K1·K2"] ?? .nan, flops: rho["\(p) FLOPs"] ?? .nan)
                }
                judged = judgements.flatMap { j in
                    j.heldOut.map {
                        Judged(
                            model: j.model.rawValue, threads: $0.threads, n: $0.perCount.n,
                            ownMape: $0.perCount.mapePercent, ownWithin: $0.perCount.within10Percent,
                            acrossMape: $0.acrossCounts.mapePercent, acrossWithin: $0.acrossCounts.within10Percent,
                            floorWithin: $0.noiseFloor?.within10Percent ?? .nan, better: $0.better)
                    }
                }
                leftOut = judgements.flatMap { j in
                    j.countLeftOut.map {
                        LeftOut(
                            model: j.model.rawValue, threads: $0.threads,
                            fittedOn: $0.fittedOn.map(String.init).joined(separator: ", "),
                            mape: $0.acrossCounts.mapePercent, within: $0.acrossCounts.within10Percent)
                    }
                }
                shares = judgements.filter { $0.fit.form == .dimensions }.flatMap { j in
                    j.fit.groups.map {
                        Share(
                            model: j.model.rawValue, group: $0.group, sigma: $0.centreShare,
                            positions: $0.share["perLnPositions"] ?? 0, taps: $0.share["perLnTaps"] ?? 0,
                            channels: $0.share["perLnChannels"] ?? 0)
                    }
                }
                workShares = judgements.filter { $0.fit.form.perWork }.flatMap { j in
                    j.fit.groups.map {
                        WorkShare(
                            model: j.model.rawValue, group: $0.group, shares: $0.workShares(of: j.model))
                    }
                }
                unfitted = expected.filter { model in !judgements.contains { $0.model == model } }.map(\.rawValue)
                hasJudgements = !judgements.isEmpty || !unfitted.isEmpty
            }
        }

        struct Figure {
            var png, svg, replication, original: String
        }

        /// A line of the machine table.
        struct Row {
            var what, value: String
        }

        /// The machine and its software, as the table states them.
        static func machineRows(_ manifest: RunManifest) -> [Row] {
            let m = manifest.machine
            let caches = m.caches.map { "L\($0.level) \($0.kind) \($0.sizeBytes >> 10) KiB" }.joined(separator: ", ")
            let governors =
                m.governors.isEmpty
                ? "not readable (virtual machine)" : Set(m.governors).sorted().joined(separator: ", ")
            // The kernel-selecting variables any session ran under (a replicator must set them too).
            let selected = Set(
                manifest.sessions.flatMap { ($0.kernelSelection ?? [:]).map { "\($0.key)=\($0.value)" } })
            let chosen = selected.isEmpty ? "" : "; kernels chosen with " + selected.sorted().joined(separator: ", ")
            let rows = [
                ("CPU", "\(m.cpuModel): \(m.packages) package(s), \(m.cores) core(s), \(m.processingUnits) PU(s)"),
                ("caches (hwloc)", caches.isEmpty ? "not reported" : caches), ("OS kernel", m.kernel),
                ("operating system", m.operatingSystem ?? "unknown"), ("Swift", m.swiftCompiler),
                ("build", m.buildConfiguration),
                (
                    "OpenBLAS",
                    "\(m.openBLASVersion), core \(m.openBLASCore), \(m.openBLASParallelism); config `\(m.openBLASConfig)`"
                        + chosen
                ),
                ("hwloc", m.hwlocVersion), ("frequency governor", governors),
                ("load average at start", m.loadAverage.map { String(format: "%.2f", $0) }.joined(separator: " ")),
                ("convsweep", "\(manifest.tool.version), commit \(manifest.tool.gitCommit ?? "unknown")"),
            ]
            // Recorded since 0.12.0 (a package of an older run keeps its README as it was).
            let own = m.ownKernels.map { [("convsweep's own kernels", "the \($0) clone (depthwise-direct)")] } ?? []
            return (rows + own).map { Row(what: $0.0, value: $0.1.replacingOccurrences(of: "|", with: "\\|")) }
        }

        /// How the run measured in rounds, and what the probe saw.
        struct Rounds {
            var rounds, maxRounds: Int
            var roundStopRule: String
            var probePercent: Int
            var tolerancePercent: Double
            /// Whether the rows took their fastest round, clean or not (runs since 0.16.0), or
            /// their fastest clean round (the manifest records no rule).
            var fastestRound: Bool
            var clean, unsettled, withoutClean, sentBack: Int
            /// The slowest probe reading, a share of the reference; nil without readings.
            var slowest: Double?
            /// The run's repeatability statement, when it has one.
            var repeatability: String?

            /// nil for a run measured before rounds.
            init?(_ manifest: RunManifest, rows: [MeasurementRow]) {
                let s = manifest.settings
                guard s.declared["rounds"] != nil, let maxRounds = s.maxRounds else { return nil }
                let rounds = s.rounds
                let measured = rows.filter { $0.status.isOK }
                let windows = Dictionary(grouping: measured, by: { $0.window?.rawValue ?? "unknown" }).mapValues(
                    \.count)
                let probes = manifest.sessions.compactMap(\.probe)
                (self.rounds, self.maxRounds) = (rounds, maxRounds)
                roundStopRule = s.roundStopRuleDescription ?? "a share of the stop rule's budget"
                probePercent = Int(((s.value("probeSlowdown", as: Double.self) ?? 0) * 100).rounded())
                tolerancePercent = (s.value("roundTolerance", as: Double.self) ?? 0) * 100
                fastestRound = s.rowsTakeFastestRound
                clean = windows["clean"] ?? 0
                unsettled = windows["unsettled"] ?? 0
                withoutClean = windows["disturbed"] ?? 0
                sentBack = probes.map(\.disturbedRounds).reduce(0, +)
                slowest = probes.map(\.minimumRatio).min()
                repeatability = manifest.repeatability?.statement
            }
        }

        /// A fitted parameter: of the main fit, with its 95% interval, or of a backend's, with
        /// the fit's R² and MAPE.
        struct Parameter {
            var group: String
            var n: Int?
            var name: String
            var value: Double
            var standardError: Double?
            var ciLow, ciHigh: Double?
            var backendRSquared, backendMape: Double?

            /// Every parameter of every group of `fit`; with `algorithm`, a backend's.
            static func rows(of fit: FitReport, algorithm: String? = nil) -> [Parameter] {
                fit.fits.flatMap { group in
                    fit.model.parameterNames.map { name in
                        let d = group.diagnostics
                        let ci = algorithm == nil ? d?.confidence95?[name] : nil
                        return Parameter(
                            group: algorithm.map { "`\($0)` \(group.group)" } ?? group.group, n: group.n, name: name,
                            value: group.parameters[name] ?? .nan, standardError: d?.standardErrors?[name],
                            ciLow: ci?[0], ciHigh: ci?[1], backendRSquared: algorithm == nil ? nil : d?.rSquared,
                            backendMape: algorithm == nil ? nil : d?.mapePercent)
                    }
                }
            }
        }

        struct Diagnostic {
            var group: String
            var fit: FitDiagnostics
            /// The fit's warnings, joined; nil without any (not `warnings`, which a nil value
            /// would let the template find in the run's).
            var fitWarnings: String?
        }

        /// The deterministic start and the bounds the fit used, marked as the replication's
        /// when they are its (the alpha model's defaults).
        struct StartAndBounds {
            var replications: Bool
            var start, bounds: String

            /// nil for a fit that records no options.
            init?(_ options: FitOptions?, model: FitModel) {
                guard let options else { return nil }
                func number(_ value: Double) -> String { String(format: "%g", value) }
                let (names, start, bounds) = (model.parameterNames, options.effectiveStart, options.effectiveBounds)
                self.start = zip(names, start).map { "\($0) \(number($1))" }.joined(separator: ", ")
                if model == .alpha && start == FitModel.alpha.defaultStart && bounds == FitModel.alpha.defaultBounds,
                    Set(bounds).count == 1, let only = bounds.first
                {
                    replications = true
                    self.bounds = "[\(number(only.lowerBound)), \(number(only.upperBound))]"
                } else {
                    replications = false
                    self.bounds = zip(names, bounds).map {
                        "\($0) [\(number($1.lowerBound)), \(number($1.upperBound))]"
                    }.joined(separator: ", ")
                }
            }
        }

        /// The sessions that measured the run: how many, when; how many were interrupted and
        /// resumed; the commits later sessions recorded other than the first's (read from the
        /// source tree when each started); and how many different executables (by SHA-256) ran
        /// over the sessions that recorded it: a run resumed across days or builds says so.
        struct Sessions {
            var count: Int
            var started: String
            var lastEnded: String?
            var interrupted: Int?
            var laterCommits: String?
            var executables, sessionsWithExecutable: Int?

            init(_ manifest: RunManifest) {
                let sessions = manifest.sessions
                let killed = sessions.filter { $0.endedAt == nil }.count
                var commits: [String] = []
                for commit in sessions.compactMap(\.gitCommit)
                where commit != manifest.tool.gitCommit && !commits.contains(commit) {
                    commits.append(commit)
                }
                let hashes = sessions.compactMap(\.executableSHA256)
                count = sessions.count
                started = sessions.first.map { "\($0.startedAt)" } ?? "never"
                lastEnded = sessions.last?.endedAt.map { "\($0)" }
                interrupted = killed > 0 ? killed : nil
                laterCommits = commits.isEmpty ? nil : commits.joined(separator: ", ")
                executables = hashes.isEmpty ? nil : Set(hashes).count
                sessionsWithExecutable = hashes.isEmpty ? nil : hashes.count
            }
        }

        /// The comparison with another run: its groups over all series, and its rankings.
        struct Comparison {
            var other: String
            var run: RunComparison
            var groups: [RunComparison.Group]
            /// What the package holds of the compared run, from which the verifier recomputes it.
            var held: ComparedRun?

            init(_ comparison: RunComparison, other: String, held: ComparedRun?) {
                (self.other, run, self.held) = (other, comparison, held)
                groups = comparison.groups.filter { $0.series == "all" }
            }
        }

        /// The model table and what the template asks of it that the table computes (the template
        /// reads stored properties only).
        struct Models {
            var table: ModelTable
            var loss: String
            var hasCeiling: Bool
            var hasGemmWork: Bool
            var misses: Misses?

            init(_ table: ModelTable, misses: PackageMisses?) {
                (self.table, loss, hasCeiling) = (table, table.loss.rawValue, table.hasCeiling)
                hasGemmWork = table.entries.contains { $0.model == FitModel.gemmWork.rawValue }
                self.misses = misses.map(Misses.init)
            }
        }

        /// The section "Where the models miss": for each model, the three features along which
        /// its held-out median error moves most, each with its two buckets furthest apart.
        struct Misses {
            struct Line {
                var model: String
                var within: String
                var features: String
            }
            var caches: String
            var lines: [Line]

            init(_ misses: PackageMisses) {
                caches = misses.caches.map { "\($0.name) \(WorkSetting.text($0.bytes))" }.joined(separator: ", ")
                lines = misses.models.map { model in
                    let features = model.features.prefix(3).map { feature -> String in
                        let counted = feature.buckets.filter { $0.count >= ModelMisses.minimumBucket }
                        guard let low = counted.min(by: { $0.medianError < $1.medianError }),
                            let high = counted.max(by: { $0.medianError < $1.medianError }), counted.count >= 2
                        else { return "\(feature.name) (no two buckets of \(ModelMisses.minimumBucket) rows)" }
                        func text(_ b: ModelMisses.Bucket) -> String {
                            String(
                                format: "%@: %+.1f%%, %d rows, %.0f%% within ±10%%", b.value, 100 * b.medianError,
                                b.count, 100 * b.withinTenPercent)
                        }
                        return "\(feature.name) (\(text(low)); \(text(high)))"
                    }
                    return Line(
                        model: model.model, within: String(format: "%.1f%%", 100 * model.withinTenPercent),
                        features: features.joined(separator: "; "))
                }
            }
        }

        /// The networks section: each network's measured and predicted time, and how each
        /// indicator and model orders the networks.
        struct Networks {
            struct Cell {
                /// nil where the model cannot predict the network.
                var predictedMs: Double?
                var errorPercent: Double
            }
            struct Network {
                var row: NetworkTable.Row
                var parametersMillions: Double
                var predicted: [Cell]
            }
            struct Rank {
                var ranking: NetworkRanking
                var withinTen: Int?
                var mapePercent: Double?
                /// "inverted of separated": the pairs whose rounds' intervals do not overlap, and
                /// those of them ordered the other way; "–" without intervals.
                var resolved: String

                init(ranking: NetworkRanking, withinTen: Int? = nil, mapePercent: Double? = nil) {
                    self.ranking = ranking
                    self.withinTen = withinTen
                    self.mapePercent = mapePercent
                    resolved =
                        ranking.resolvedPairs.map { "\(ranking.resolvedDiscordantPairs ?? 0) of \($0)" } ?? "–"
                }
            }
            struct Unfitted {
                var model, reason: String
            }
            var unfitted: [Unfitted]
            var hasTrees: Bool
            var ceiling: String
            var rows: [Network]
            var ranks: [Rank]
            /// The prediction columns: the parametric models, then the trees.
            var columns: [String]

            init(_ t: NetworkTable) {
                // A column per model the table fitted or tried to (a package written before a
                // model existed has neither, and no column for it).
                let columns =
                    NetworkTable.parametricModels.map(\.rawValue).filter {
                        t.models.contains($0) || t.notFitted[$0] != nil
                    } + [TreeCeiling.name]
                self.columns = columns
                rows = t.rows.map { row in
                    let cells = columns.map { model -> Cell in
                        let value = t.models.firstIndex(of: model).flatMap { row.predictedMs[$0] }
                        return Cell(predictedMs: value, errorPercent: 100 * ((value ?? .nan) / row.measuredMs - 1))
                    }
                    return Network(row: row, parametersMillions: Double(row.parameters) / 1e6, predicted: cells)
                }
                ranks =
                    (t.rows.count >= 3 ? t.onPaper.map { Rank(ranking: $0) } : [])
                    + t.accuracy.map {
                        Rank(ranking: $0.ranking!, withinTen: $0.withinTenPercent, mapePercent: $0.mapePercent)
                    }
                unfitted = t.notFitted.keys.sorted().map { Unfitted(model: $0, reason: t.notFitted[$0]!) }
                hasTrees = t.models.contains(TreeCeiling.name)
                ceiling = t.ceiling
            }
        }
    }
}
