import AlphaFit
import Analysis
import ArgumentParser
import ConvKernels
import Foundation
import Rows
import Sweeps

/// `convsweep networks`: the zoo of networks as data, and what a measured network costs.
struct NetworksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "networks",
        abstract: "Networks as data (sweeps/networks/): list them, and sum a measured network's layers.",
        discussion: """
            A network file lists every convolution and fully-connected layer of a network in \
            execution order (sweeps/networks/README.md). Measure networks as any sweep: \
            `convsweep run sweeps/networks/resnet50.yaml … --out DIR` measures each distinct layer \
            once (rounds, drift probe, resumable, shards); `convsweep networks cost DIR` then sums \
            them per network.
            """,
        subcommands: [NetworksList.self, NetworksCost.self])
}

/// The networks of the sweeps directory (`networks/`), each read once.
private func shippedNetworks(_ directory: SweepsDirectoryOption) throws -> [Network] {
    let root = try directory.shippedFiles().networksDirectory
    return try reportingErrors { try Network.loadAll(directory: root) }
}

/// `convsweep networks list`.
struct NetworksList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract:
            "The shipped networks: layers, distinct layers, GMACs against the published figure, a measuring estimate.")

    @OptionGroup var sweepsDirectory: SweepsDirectoryOption

    func run() throws {
        let model = MeasuringTimeModel()
        print(
            "network               convs  fc  distinct   GMACs  published  estimate (one core, \(model.rounds) rounds)"
        )
        var total = 0.0
        for network in try shippedNetworks(sweepsDirectory) {
            let seconds = network.configurations.map { model.seconds($0) }.reduce(0, +)
            total += seconds
            print(
                network.name.padding(toLength: 21, withPad: " ", startingAt: 0)
                    + String(
                        format: " %5d %3d  %8d  %6.3f  %9.3f  %.0f s", network.convolutionCount,
                        network.fullyConnectedCount, network.distinctShapes.count, network.macs / 1e9,
                        network.publishedGMACs, seconds))
        }
        print(
            String(format: "all networks: about %.1f min with the assumed rates", total / 60)
                + " (`convsweep sweeps estimate sweeps/networks/*.yaml --measure-machine` for this machine's)")
    }
}

/// `convsweep networks cost`.
struct NetworksCost: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cost",
        abstract: "What measured networks cost: the sum over their layers of count × time, by kind of layer.",
        discussion: """
            Reads the rows of SOURCE (a run directory, a package or a measurements CSV) and, for every \
            network of the sweeps directory (or those named), sums count × median time over its \
            convolution and fully-connected layers, with the interval of the rounds (count × the \
            fastest and slowest round median), and breaks it down by kind of layer: share of time \
            against share of MACs, and its throughput where SOURCE holds the network at a larger \
            batch (a network-batch sweep, sweeps/networks-batch8.yaml). With three networks or more it ranks them: how parameters, MACs \
            and bytes moved (and, with --compare-with, another run's times) order the networks \
            against their measured times (Spearman, Kendall, pairs ordered the other way — of all \
            pairs and of those whose rounds' intervals do not overlap —, networks displaced by two \
            places or more). Normalisation, activations, pooling, additions and \
            concatenations are not measured and not summed. A network whose layers the rows lack \
            is skipped with a note, or is an error when named.
            """)

    @Argument(help: "A run directory, a package or a measurements CSV holding the networks' layers.")
    var source: String
    @Option(name: .customLong("network"), help: "A network to cost (repeatable; default: every one measured).")
    var networks: [String] = []
    @Option(help: "The algorithm whose rows to sum (default: any, the first row of each layer).")
    var algorithm: ConvAlgorithm?
    @Option(
        help:
            "The thread count whose rows to sum, in a run of several (--threads 1,2): each network's cost at that count (default: the smallest)."
    )
    var threads: Int?
    @Option(
        help: ArgumentHelp(
            "A fit (fit.json) to predict each network with: the sum over its layers of count × the fit's prediction, against the measured sum.",
            valueName: "fit.json"))
    var fit: String?
    @Option(
        name: .customLong("compare-with"),
        help: "Another run or package of the same networks: how its network times order them (rank transfer).")
    var other: String?
    @OptionGroup var sweepsDirectory: SweepsDirectoryOption

    func run() throws {
        let rows = try reportingErrors { try MeasurementSource.rows(at: source) }
        let otherRows = try other.map { path in try reportingErrors { try MeasurementSource.rows(at: path) } }
        let report = try fit.map { path in try reportingErrors { try FitReport.load(path: path) } }
        var predictions: [(name: String, predicted: Double, measured: Double, interval: ClosedRange<Double>)] = []
        var costed = 0
        var ranked: [(network: Network, cost: NetworkCost, other: NetworkCost?)] = []
        for network in try shippedNetworks(sweepsDirectory) {
            guard networks.isEmpty || networks.contains(network.name) else { continue }
            let cost: NetworkCost
            do { cost = try NetworkCost(network: network, rows: rows, algorithm: algorithm, threads: threads) } catch {
                if networks.isEmpty {
                    FileHandle.standardError.write(Data("networks cost: skipped \(error)\n".utf8))
                    continue
                }
                throw fail("\(error)", code: ExitStatus.dataError)
            }
            costed += 1
            ranked.append(
                (network, cost, otherRows.flatMap { try? NetworkCost(network: network, rows: $0, threads: threads) }))
            if let predicted = printCost(cost, of: network, rows: rows, report: report) {
                predictions.append((network.name, predicted, cost.milliseconds, cost.interval))
            }
        }
        for name in networks where !rows.isEmpty && costed == 0 {
            throw fail("no network named \(name) in the sweeps directory", code: ExitStatus.usage)
        }
        if costed == 0 { throw fail("\(source) holds the layers of no network", code: ExitStatus.dataError) }
        print(
            "(convolution and fully-connected layers only: normalisation, activations, pooling, additions and concatenations are not measured)"
        )
        if ranked.count >= 3 { printRankings(ranked) }
        if let fit, !predictions.isEmpty { printPredictionSummary(predictions, fit: fit) }
    }

    /// Prints what `network` costs: its time, throughput at larger batches, the fit's prediction
    /// and its layers by kind; returns the prediction, when the fit made one.
    private func printCost(_ cost: NetworkCost, of network: Network, rows: [MeasurementRow], report: FitReport?)
        -> Double?
    {
        print(
            String(
                format: "%@: %.3f ms (rounds %.3f–%.3f), %d layers, %.3f GMACs", network.name, cost.milliseconds,
                cost.lowMilliseconds, cost.highMilliseconds, cost.layers, cost.gmacs))
        // Throughput, where the rows hold the network at a larger batch (a network-batch sweep).
        for batch in NetworkCost.throughputBatches(of: network, in: rows) {
            if let (perSecond, atBatch) = try? NetworkCost.throughput(
                of: network, atBatch: batch, rows: rows, algorithm: algorithm, threads: threads)
            {
                print(
                    String(
                        format: "  throughput at batch %d: %.2f images/s (%.3f ms a batch)", batch, perSecond,
                        atBatch.milliseconds))
            }
        }
        var predicted: Double?
        if let report {
            do {
                let sum = try network.layers.map { try report.predict($0.shape) * Double($0.count) }.reduce(0, +)
                predicted = sum
                print(
                    String(
                        format: "  predicted by the fit's %@: %.3f ms (%+.1f%%)", report.model.rawValue, sum,
                        100 * (sum / cost.milliseconds - 1)))
            } catch {
                print("  not predicted: \(error)")
            }
        }
        for kind in cost.kinds {
            print(
                "  " + kind.kind.padding(toLength: 16, withPad: " ", startingAt: 0)
                    + String(
                        format: "%4d layers %9.3f ms  %5.1f%% of time  %5.1f%% of MACs", kind.layers,
                        kind.milliseconds, 100 * kind.timeShare, 100 * kind.macShare))
        }
        return predicted
    }

    /// How parameters, MACs, bytes moved (and another run's times) order the networks against
    /// their measured times.
    private func printRankings(_ ranked: [(network: Network, cost: NetworkCost, other: NetworkCost?)]) {
        var rankings = NetworkRanking.onPaper(ranked.map(\.network), costs: ranked.map(\.cost))
        let compared = ranked.filter { $0.other != nil }
        if let other, compared.count >= 3 {
            rankings.append(
                NetworkRanking(
                    indicator: "time in \(other)", names: compared.map(\.network.name),
                    values: compared.map { $0.other!.milliseconds }, measured: compared.map(\.cost.milliseconds),
                    intervals: compared.map(\.cost.interval)))
        }
        print("\nhow each indicator orders the \(ranked.count) networks against their measured times:")
        let width = rankings.map(\.indicator.count).max()! + 2
        for r in rankings {
            print(
                "  " + r.indicator.padding(toLength: width, withPad: " ", startingAt: 0)
                    + String(
                        format:
                            "Spearman %.3f  Kendall %.3f  %d of %d pairs the other way (%d of the %d the rounds separate)",
                        r.spearman, r.kendall, r.discordantPairs, r.pairs, r.resolvedDiscordantPairs ?? 0,
                        r.resolvedPairs ?? 0)
                    + "  displaced by 2 or more: "
                    + (r.displaced.isEmpty ? "none" : r.displaced.joined(separator: ", ")))
        }
    }

    /// How well the fit predicts the networks it could predict: within ±10%, MAPE, and whether it
    /// orders them as measured.
    private func printPredictionSummary(
        _ predictions: [(name: String, predicted: Double, measured: Double, interval: ClosedRange<Double>)], fit: String
    ) {
        let accuracy = NetworkPredictionAccuracy(
            model: fit, names: predictions.map(\.name), predicted: predictions.map(\.predicted),
            measured: predictions.map(\.measured), intervals: predictions.map(\.interval))
        var line = String(
            format: "\n%@ predicts %d network(s): %d within ±10%%, MAPE %.1f%%", fit, accuracy.networks,
            accuracy.withinTenPercent, accuracy.mapePercent)
        if let ranking = accuracy.ranking {
            line += String(
                format:
                    "; order against measured: Spearman %.3f, Kendall %.3f, %d of %d pairs the other way (%d of the %d the rounds separate)",
                ranking.spearman, ranking.kendall, ranking.discordantPairs, ranking.pairs,
                ranking.resolvedDiscordantPairs ?? 0, ranking.resolvedPairs ?? 0)
        }
        print(line)
    }
}
