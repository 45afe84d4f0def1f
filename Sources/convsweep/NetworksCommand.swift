import AlphaFit
import Analysis
import ArgumentParser
import Basics
import ConvKernels
import Foundation
import Measurement
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
        subcommands: [NetworksList.self, NetworksImport.self, NetworksReference.self, NetworksCost.self])
}

/// The networks of the sweeps directory (`networks/`), each read once.
private func shippedNetworks(_ directory: SweepsDirectoryOption) throws -> [Network] {
    let root = try directory.shippedFiles().networksDirectory
    return try reportingErrors { try Network.loadAll(directory: root) }
}

/// Whether a `--network` value names a file (a network file or an ONNX model) rather than a
/// shipped network's name.
private func namesFile(_ value: String) -> Bool {
    value.contains("/") || value.hasSuffix(".yaml") || ONNXImport.isModel(value)
}

/// The networks that `values` name: each a file (`.yaml`, `.onnx`), a directory of them, or the
/// name of a shipped network; every shipped network when `values` is empty.
private func resolveNetworks(_ values: [String], _ directory: SweepsDirectoryOption) throws -> [Network] {
    if values.isEmpty { return try shippedNetworks(directory) }
    var shipped: [Network]?
    var result: [Network] = []
    for value in values {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: value, isDirectory: &isDirectory), isDirectory.boolValue {
            result += try reportingErrors { try Network.loadAll(directory: value) }
        } else if namesFile(value) {
            result.append(try reportingErrors { try Network.load(path: value) })
        } else {
            if shipped == nil { shipped = try shippedNetworks(directory) }
            guard let network = shipped!.first(where: { $0.name == value }) else {
                throw fail(
                    "no network named \(value) in the sweeps directory (a network file or model is a path: ./\(value).yaml)",
                    code: ExitStatus.usage)
            }
            result.append(network)
        }
    }
    return result
}

/// `convsweep networks list`.
struct NetworksList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract:
            "Networks: layers, distinct layers, GMACs against the published figure, a measuring estimate.",
        discussion: """
            Lists the shipped networks (sweeps/networks/), or the networks named: network files, \
            ONNX models (imported on the fly, as `networks import` does) or directories of them.
            """)

    @Argument(help: "Network files (.yaml), ONNX models (.onnx) or directories of them (default: the shipped ones).")
    var networks: [String] = []
    @OptionGroup var sweepsDirectory: SweepsDirectoryOption

    func run() throws {
        let model = MeasuringTimeModel()
        print(
            "network               convs  fc  distinct   GMACs  published  estimate (one core, \(model.rounds) rounds)"
        )
        var total = 0.0
        for network in try resolveNetworks(networks, sweepsDirectory) {
            let seconds = network.configurations.map { model.seconds($0) }.reduce(0, +)
            total += seconds
            print(
                network.name.padding(toLength: 21, withPad: " ", startingAt: 0)
                    + String(
                        format: " %5d %3d  %8d  %6.3f  ", network.convolutionCount,
                        network.fullyConnectedCount, network.distinctShapes.count, network.macs / 1e9)
                    + (network.publishedGMACs.map { String(format: "%9.3f", $0) } ?? "        -")
                    + String(format: "  %.0f s", seconds))
        }
        print(
            String(format: "all networks: about %.1f min with the assumed rates", total / 60)
                + " (`convsweep sweeps estimate NETWORK.yaml --measure-machine` for this machine's)")
    }
}

/// `convsweep networks import`.
struct NetworksImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import an ONNX model: its convolution and fully-connected layers as a network file.",
        discussion: """
            Reads MODEL.onnx with the onnx package of convsweep's virtualenv (scripts/ensure-deps \
            --python) and ONNX's own shape inference, and writes a network file \
            (sweeps/networks/README.md): every 2-D Conv with its strides, pads (auto_pad resolved), \
            dilations and groups, every Gemm and MatMul with constant weights as a fully-connected \
            layer with its rows, in the graph's order, consecutive repeats counted. The file \
            records the model's SHA-256, opset and input shape, and lists the operators it does \
            not count by type (normalisation, activations, pooling, additions, MatMuls between \
            activations …), which this command also prints. A model with a dynamic input \
            dimension needs --input-shape. Without --out the file goes to standard output and the \
            summary to standard error. A model that cannot be imported (not ONNX, truncated, an \
            opset the onnx package does not know, computed weights, shapes that depend on the \
            data) exits 65 naming the file and the node, and nothing is written. A network file \
            or an .onnx model can then be given wherever a network goes: `networks list`, `run`, \
            `networks cost --network`, `predict --network`, `replicate --networks`.
            """)

    @Argument(help: "The ONNX model.")
    var model: String
    @OptionGroup var inputShape: InputShapeOption
    @Option(help: "The network's name (default: the model's file name without .onnx).")
    var name: String?
    @Option(help: ArgumentHelp("Where to write the network file (default: standard output).", valueName: "FILE"))
    var out: String?
    @Option(help: "Where the model comes from, in words (default: the model's file name, producer and input shape).")
    var source: String?
    @Option(
        name: .customLong("published-gmacs"),
        help: "The multiply-accumulate total the network's authors published, in GMACs (recorded in the file).")
    var publishedGMACs: Double?
    @Option(
        help: ArgumentHelp(
            "A network file to hold the import against: same layers in the same order, counts and MACs, or exit 1 naming the first difference.",
            valueName: "FILE"))
    var compare: String?

    func validate() throws {
        if let name, !Network.isValidName(name) {
            throw ValidationError("--name '\(name)' must be letters, digits and . _ : = + -")
        }
    }

    func run() throws {
        var network = try reportingErrors {
            try ONNXImport.network(at: model, inputShape: inputShape.shape, name: name)
        }
        network.publishedGMACs = publishedGMACs
        if let source { network.source = source }
        let text = network.fileText()
        // What is written is read back first: a file this command writes is one `Network.load` reads.
        _ = try reportingErrors { try Network(contents: Data(text.utf8), path: out ?? "(standard output)") }
        var comparison: String?
        if let compare {
            let other = try reportingErrors { try Network.load(path: compare) }
            if let difference = Self.difference(network, other) {
                throw fail("\(model) differs from \(compare): \(difference); nothing written", code: ExitStatus.failure)
            }
            let names = zip(Self.run(network), Self.run(other)).filter { $0.0.name != $0.1.name }.count
            comparison =
                "same layers, counts and MACs as \(compare) (\(network.layerCount) layers run, "
                + (names == 0 ? "same names)" : "\(names) named otherwise)")
        }
        if let out {
            try reportingErrors { try SafeFile.writeAtomically(Data(text.utf8), to: out) }
        } else {
            print(text, terminator: "")
        }
        var summary = String(
            format: "%@: %d convolutions, %d fully connected (%d distinct layers), %.4f GMACs, from %@ (opset %d)",
            network.name, network.convolutionCount, network.fullyConnectedCount, network.distinctShapes.count,
            network.macs / 1e9, model, network.model?.opset ?? 0)
        if let out { summary += "; written to \(out)" }
        summary += "\nnot counted (not measured, not summed): "
        summary +=
            network.uncounted.isEmpty
            ? "nothing" : network.uncounted.map { "\($0.op) × \($0.count)" }.joined(separator: ", ")
        if let comparison { summary += "\n" + comparison }
        let line = Data((summary + "\n").utf8)
        if out == nil { FileHandle.standardError.write(line) } else { FileHandle.standardOutput.write(line) }
    }

    /// The first difference between two networks' layers as run (repeats unrolled: a layer of
    /// count 2 equals the same layer twice), or of their MAC totals; nil when they are the same
    /// computation.
    static func difference(_ a: Network, _ b: Network) -> String? {
        let (x, y) = (run(a), run(b))
        for (index, (p, q)) in zip(x, y).enumerated() where p.shape != q.shape {
            return "layer \(index + 1) run: \(p.name) \(p.shape) against \(q.name) \(q.shape)"
        }
        if x.count != y.count { return "\(x.count) layers run against \(y.count)" }
        if a.macs != b.macs { return "\(a.macs) MACs against \(b.macs)" }
        return nil
    }

    /// The layers as the network runs them, repeats unrolled (each repeat named as its run's first).
    static func run(_ network: Network) -> [(name: String, shape: ConvShape)] {
        network.layers.flatMap { layer in Array(repeating: (layer.name, layer.shape), count: layer.count) }
    }
}

/// `convsweep networks reference`.
struct NetworksReference: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference",
        abstract: "Time whole ONNX models in ONNX Runtime on one pinned core: the framework's end-to-end time.",
        discussion: """
            Runs each model in ONNX Runtime (python/ort_reference.py, the onnxruntime of convsweep's \
            virtualenv) as a deployment on one core would: the CPU execution provider, one \
            intra-op thread, sequential, every graph optimisation. The PU is locked as every \
            measuring command locks it and the framework's thread is pinned to it; after 3 \
            warm-up runs, each of --rounds rounds runs the model at least 5 times and 0.2 s, its \
            time the median of its runs. DIR/reference.json (docs/analysis.md) gets, per network \
            (named as `networks import` names it), every round's median, the model's SHA-256, \
            the framework's version, the PU, the CPU and the host; a network measured again \
            replaces its entry, and the file is written after each network. `networks cost \
            SOURCE --reference DIR` then shows the framework's time beside convsweep's sum of \
            the network's convolution and fully-connected layers, the share of it they account \
            for, and how the sums and a fit's predictions order the networks against it.
            """)

    @Argument(help: "ONNX models, or directories of them.")
    var models: [String]
    @Option(help: ArgumentHelp("The directory of reference.json.", valueName: "DIR"))
    var out: String
    @Option(help: "Rounds per network.")
    var rounds: Int = 5
    @Option(help: "The PU to run on (default: the last core's first PU, as measuring commands choose it).")
    var cpuset: String?
    @OptionGroup var inputShape: InputShapeOption
    @OptionGroup var processingUnits: ProcessingUnitOptions

    func validate() throws {
        guard rounds >= 1 && rounds <= 1000 else { throw ValidationError("--rounds must be 1 to 1000, got \(rounds)") }
    }

    func run() throws {
        var files: [String] = []
        for path in models {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                let models = Network.files(in: path).filter(ONNXImport.isModel)
                guard !models.isEmpty else { throw fail("\(path) holds no .onnx model", code: ExitStatus.usage) }
                files += models
            } else {
                files.append(path)
            }
        }
        let topology: Topology
        let units: [Int]
        do {
            topology = try Topology()
            units = try cpuset.map { try topology.cpuset(parsing: $0) } ?? topology.lastCore
        } catch { throw fail("--cpuset: \(error)", code: ExitStatus.usage) }
        guard units.count == 1 else {
            throw fail("--cpuset names \(units.count) PUs: the reference runs on one", code: ExitStatus.usage)
        }
        let shipped = ShippedFiles.holding(\.frameworkReferenceScript)
        if let problem = shipped.problemRunning(shipped.frameworkReferenceScript) {
            throw fail(problem, code: ExitStatus.failure)
        }
        let path = (out as NSString).appendingPathComponent(FrameworkReference.fileName)
        var reference =
            FileManager.default.fileExists(atPath: path)
            ? try reportingErrors { try FrameworkReference.load(path: path) }
            : FrameworkReference(
                convsweep: BuildInfo.version, cpuModel: topology.cpuModel, host: EnvironmentSnapshot.hostName(),
                date: "", networks: [])
        guard reference.cpuModel == topology.cpuModel && reference.host == EnvironmentSnapshot.hostName() else {
            throw fail(
                "\(path) was measured on \(reference.host) (\(reference.cpuModel)): give another --out",
                code: ExitStatus.usage
            )
        }
        let lease = try processingUnits.lock(units)
        defer { lease.release() }
        try reportingErrors { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) }
        for file in files {
            let network = try reportingErrors {
                try ONNXImport.network(at: file, inputShape: inputShape.shape)
            }
            let entry = try reportingErrors {
                try FrameworkReference.Entry.measure(
                    model: file, network: network, rounds: rounds, pu: units[0], shippedFiles: shipped)
            }
            reference.record(entry, convsweep: BuildInfo.version)
            try reportingErrors { try SafeFile.writeAtomically(try reference.encoded(), to: path) }
            print(
                String(
                    format: "%@: %.3f ms (rounds %.3f–%.3f), %@, PU %d", entry.network, entry.milliseconds,
                    entry.interval.lowerBound, entry.interval.upperBound, entry.label, entry.pu))
        }
        print("reference: \(path)")
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
    @Option(
        name: .customLong("network"),
        help:
            "A network to cost: a shipped network's name, a network file, an ONNX model or a directory of them (repeatable; default: every shipped one measured)."
    )
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
    @Option(
        help: ArgumentHelp(
            "A framework reference (networks reference --out DIR): each network's end-to-end time beside the sum, the share the sum accounts for, and how the sums, MACs and the fit's predictions order the networks against it.",
            valueName: "DIR"))
    var reference: String?
    @OptionGroup var sweepsDirectory: SweepsDirectoryOption

    func run() throws {
        let rows = try reportingErrors { try MeasurementSource.rows(at: source) }
        let otherRows = try other.map { path in try reportingErrors { try MeasurementSource.rows(at: path) } }
        let report = try fit.map { path in try reportingErrors { try FitReport.load(path: path) } }
        let framework = try reference.map { path in try reportingErrors { try FrameworkReference.load(path: path) } }
        var referenced: [(network: Network, sum: Double, predicted: Double?, entry: FrameworkReference.Entry)] = []
        var predictions: [(name: String, predicted: Double, measured: Double, interval: ClosedRange<Double>)] = []
        var costed = 0
        var ranked: [(network: Network, cost: NetworkCost, other: NetworkCost?)] = []
        for network in try resolveNetworks(networks, sweepsDirectory) {
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
            let predicted = printCost(cost, of: network, rows: rows, report: report)
            if let predicted { predictions.append((network.name, predicted, cost.milliseconds, cost.interval)) }
            if let entry = framework?.entry(network.name) {
                print(
                    String(
                        format:
                            "  framework (%@): %.3f ms end to end (rounds %.3f–%.3f); the layers' sum is %.1f%% of it",
                        entry.label, entry.milliseconds, entry.interval.lowerBound, entry.interval.upperBound,
                        100 * cost.milliseconds / entry.milliseconds))
                referenced.append((network, cost.milliseconds, predicted, entry))
            }
        }
        if costed == 0 { throw fail("\(source) holds the layers of no network", code: ExitStatus.dataError) }
        print(
            "(convolution and fully-connected layers only: normalisation, activations, pooling, additions and concatenations are not measured)"
        )
        if ranked.count >= 3 { printRankings(ranked) }
        if referenced.count >= 3 { printFrameworkRankings(referenced) }
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
        printRankingLines(rankings)
    }

    /// One line per ranking: Spearman, Kendall, pairs the other way, networks displaced.
    private func printRankingLines(_ rankings: [NetworkRanking]) {
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

    /// How the layers' sums, the on-paper indicators and the fit's predictions order the networks
    /// against the framework's end-to-end times.
    private func printFrameworkRankings(
        _ referenced: [(network: Network, sum: Double, predicted: Double?, entry: FrameworkReference.Entry)]
    ) {
        let names = referenced.map(\.network.name)
        let times = referenced.map(\.entry.milliseconds)
        let intervals = referenced.map(\.entry.interval)
        var rankings = [
            NetworkRanking(
                indicator: "measured layer sum", names: names, values: referenced.map(\.sum), measured: times,
                intervals: intervals),
            NetworkRanking(
                indicator: "MACs", names: names, values: referenced.map(\.network.macs), measured: times,
                intervals: intervals),
            NetworkRanking(
                indicator: "parameters", names: names, values: referenced.map { Double($0.network.parameters) },
                measured: times, intervals: intervals),
        ]
        if let fit, referenced.allSatisfy({ $0.predicted != nil }) {
            rankings.append(
                NetworkRanking(
                    indicator: "\(fit) prediction", names: names, values: referenced.map { $0.predicted! },
                    measured: times, intervals: intervals))
        }
        let label = referenced[0].entry.label
        print("\nhow each orders the \(referenced.count) networks against \(label) end to end:")
        printRankingLines(rankings)
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

/// `--input-shape N,C,H,W`: an ONNX model's input shape, for `networks import` and `networks
/// reference` (needed when the model's input has a dynamic dimension).
struct InputShapeOption: ParsableArguments {
    @Option(
        name: .customLong("input-shape"),
        help: ArgumentHelp(
            "The input shape of the model (of every model named), needed when it has a dynamic dimension.",
            valueName: "N,C,H,W"))
    var text: String?

    /// The shape given, four positive numbers; nil when none was given.
    var shape: [Int]? { text.flatMap(Self.parse) }

    func validate() throws {
        if let text, Self.parse(text) == nil {
            throw ValidationError("--input-shape '\(text)' is not N,C,H,W in positive integers (1,3,224,224)")
        }
    }

    /// `N,C,H,W` as four positive numbers; nil when it is not.
    static func parse(_ text: String) -> [Int]? {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).compactMap { Int($0) }
        return parts.count == 4 && parts.allSatisfy({ $0 > 0 }) ? parts : nil
    }
}
