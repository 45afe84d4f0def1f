import AlphaFit
import ArgumentParser
import ConvKernels
import Foundation
import Sweeps

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict convolution times from a fit: one layer, or every row of run directories or CSVs.",
        discussion: """
            One layer:   convsweep predict --fit fit.json --h 56 --w 56 --cin 64 --cout 64 -k 3
            A network:   convsweep predict --fit fit.json --network sweeps/networks/resnet50.yaml
            Every row:   convsweep predict --fit fit.json INPUT … --out predictions.csv [--errors errors.csv]

            A network's prediction is the sum over its convolution and fully-connected layers of \
            count × the fit's prediction, layer by layer (normalisation, activations, pooling and \
            additions are not predicted). A layer in a group the fit lacks (a fit of the regression \
            grid has no depthwise or fully-connected group) is an error naming it.

            Without a fit.json, give the constants directly, one --parameters per group, e.g. the \
            original authors' published predictor:
              convsweep predict --flops-convention asperti \\
                --parameters 'K=1:beta=0.02,gamma=0.99,final=0.0375' \\
                --parameters 'K>1:beta=0.001,gamma=0.56,final=0.0375' --h 100 --w 100 --cin 50 --cout 100 -k 3
            A hand-written fit.json with the same content works too (see docs/fit-format.md).

            errors.csv holds per series (experiment,series; or plot,line in the original data) the RMSE \
            and nRMSE = RMSE / (max − min of the measured times of the series).
            """)

    @Option(help: "The fit to predict with (fit.json, written by `fit` or by hand).")
    var fit: String?

    @Option(
        parsing: .singleValue,
        help: ArgumentHelp(
            "Instead of --fit: one group's constants, GROUP:name=value,… (GROUP is K=1, K>1 or taps=n for per-k, n = K1·K2).",
            valueName: "GROUP:PARAMS"))
    var parameters: [String] = []

    @Option(help: "With --parameters: the model.")
    var model: FitModel = .alpha

    @Option(help: "With --parameters: the FLOPs convention (standard or asperti).")
    var flopsConvention: FlopsConvention = .standard

    @Option(
        help: "With --parameters: how the data-movement and tensor-bytes models count bytes (algorithm or every-kxk).")
    var bytesConvention: BytesConvention = .algorithm

    @OptionGroup(title: "With --parameters and gemm-work") var caches: CachesOption
    @Option(help: "With --parameters: the grouping (k1-rest or per-k).")
    var groups: FitGrouping = .k1Rest

    @Option(name: .customLong("h"), help: "Input height.") var height: Int?
    @Option(name: .customLong("w"), help: "Input width.") var width: Int?
    @Option(help: "Input channels.") var cin: Int?
    @Option(help: "Output channels.") var cout: Int?
    @Option(name: .customShort("k"), help: "Square kernel side (K1 = K2 = k).") var kernel: Int?
    @Option(help: "Kernel height (instead of -k).") var k1: Int?
    @Option(help: "Kernel width (instead of -k).") var k2: Int?
    @Option(help: "Batch size (a fully-connected layer's rows with --fc).") var batch: Int = 1
    @OptionGroup var geometry: LayerGeometryOptions
    @Option(
        name: .customLong("layer-groups"),
        help: ArgumentHelp(
            "The layer's groups: G divides --cin and --cout (default 1), or 'depthwise' (--groups is the fit's grouping).",
            valueName: "G|depthwise"))
    var layerGroups: GroupsArgument?

    @Argument(help: "Run directories or CSV files whose rows to predict.")
    var inputs: [String] = []

    @Option(
        help: ArgumentHelp(
            "A network file (sweeps/networks/): predict each of its layers and the whole network.",
            valueName: "network.yaml"))
    var network: String?

    @OptionGroup var filtering: RowFilterOptions

    @Option(help: "Where to write the predictions of every row (CSV).")
    var out: String?

    @Option(help: "Where to write the per-series RMSE and nRMSE (CSV).")
    var errors: String?

    @Option(
        help: ArgumentHelp(
            "Columns identifying a series in errors.csv (default: experiment,series or plot,line).", valueName: "A,B"))
    var seriesColumns: String?

    func validate() throws {
        if fit == nil && parameters.isEmpty { throw ValidationError("give --fit fit.json or --parameters") }
        if fit != nil && !parameters.isEmpty { throw ValidationError("give --fit or --parameters, not both") }
        if network != nil {
            let layer = [height, width, cin, cout, kernel, k1, k2].contains { $0 != nil } || geometry.fullyConnected
            if layer || !inputs.isEmpty {
                throw ValidationError("--network predicts the layers of its file: give no layer and no INPUT")
            }
        } else if inputs.isEmpty, geometry.fullyConnected {
            guard cin != nil, cout != nil else { throw ValidationError("--fc needs --cin and --cout") }
            try geometry.validateFullyConnected(
                given: [("--h", height), ("--w", width), ("-k", kernel), ("--k1", k1), ("--k2", k2)],
                groups: ("--layer-groups", layerGroups != nil))
        } else if inputs.isEmpty {
            try geometry.validate(groups: layerGroups, groupsFlag: "--layer-groups")
            if height == nil || width == nil || cin == nil || cout == nil || (kernel == nil && (k1 == nil || k2 == nil))
            {
                throw ValidationError(
                    "give --h, --w, --cin, --cout and -k (or --k1 and --k2), or INPUT … --out predictions.csv")
            }
        } else if out == nil && errors == nil {
            throw ValidationError("with INPUT, give --out predictions.csv and/or --errors errors.csv")
        }
    }

    func run() throws {
        let report = try reportingErrors { try loadReport() }
        if let network {
            try predictNetwork(network, report: report)
            return
        }
        if inputs.isEmpty {
            let shape =
                geometry.fullyConnected
                ? .fullyConnected(rows: batch, inputs: cin!, outputs: cout!)
                : geometry.applied(
                    to: ConvShape(
                        batch: batch, height: height!, width: width!, inputChannels: cin!, outputChannels: cout!,
                        kernelHeight: k1 ?? kernel!, kernelWidth: k2 ?? kernel!), groups: layerGroups)
            do { try shape.validateGeometry() } catch {
                throw ValidationError("\(LayerGeometryOptions.flag(naming: error)): \(error.description)")
            }
            let ms = try reportingErrors { try report.predict(shape) }
            print(String(format: "%.9g", ms))
            return
        }
        let (predictionsData, errorsData, summary) = try reportingErrors { () -> (Data, Data?, String) in
            let filters = try filtering.filters()
            let dataset = try FitDataset.load(paths: inputs, excluding: filters)
            let predictions = try report.predictions(for: dataset)
            let columns =
                seriesColumns.map { $0.split(separator: ",").map(String.init) }
                ?? PredictionTable.defaultSeriesColumns(dataset)
            for column in columns where !dataset.carriedColumns.contains(column) {
                throw FitInputError(
                    input: inputs.joined(separator: ", "), row: 1, column: column, "no such series column")
            }
            let seriesErrors = PredictionTable.seriesErrors(predictions, seriesColumns: columns)
            let squares = predictions.map { $0.residualMs * $0.residualMs }.reduce(0, +)
            let summary = String(
                format: "%d rows, %d series, RMSE %.5g ms", predictions.count, seriesErrors.count,
                (squares / Double(max(predictions.count, 1))).squareRoot())
            return (
                try PredictionTable.predictionsCSV(predictions, dataset: dataset),
                errors == nil ? nil : try PredictionTable.errorsCSV(seriesErrors, seriesColumns: columns), summary
            )
        }
        if let out { try write(predictionsData, to: out) }
        if let errors, let errorsData { try write(errorsData, to: errors) }
        print(summary)
    }

    /// Prints each layer of the network file at `path` with its prediction, then the total.
    func predictNetwork(_ path: String, report: FitReport) throws {
        let network = try reportingErrors { try Network.load(path: path) }
        var total = 0.0
        var lines: [String] = []
        for layer in network.layers {
            let ms: Double
            do { ms = try report.predict(layer.shape) } catch {
                throw fail(
                    "\(path): layer \(layer.name) (\(layer.shape)): \(error)", code: ExitStatus.dataError)
            }
            total += ms * Double(layer.count)
            lines.append(
                String(format: "%10.4f ms  × %d  ", ms, layer.count) + "\(layer.name)  \(layer.shape)")
        }
        print("\(network.name): \(network.layerCount) layers, \(String(format: "%.3f", network.macs / 1e9)) GMACs")
        for line in lines { print("  " + line) }
        print(
            String(format: "%@ predicted by the fit's %@: %.4f ms", network.name, report.model.rawValue, total)
                + " (convolution and fully-connected layers only)")
    }

    func loadReport() throws -> FitReport {
        if let fit { return try FitReport.load(path: fit) }
        var fits: [GroupFit] = []
        for text in parameters {
            guard let colon = text.firstIndex(of: ":") else {
                throw FitInputError(input: "--parameters", "expected GROUP:name=value,…, got '\(text)'")
            }
            var values: [String: Double] = [:]
            for pair in text[text.index(after: colon)...].split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, let value = Double(parts[1]) else {
                    throw FitInputError(input: "--parameters", "expected name=value, got '\(pair)'")
                }
                guard values.updateValue(value, forKey: parts[0]) == nil else {
                    throw FitInputError(input: "--parameters", "\(parts[0]) is given twice in '\(text)'")
                }
            }
            fits.append(GroupFit(group: String(text[..<colon]), parameters: values))
        }
        let report = FitReport(
            model: model, grouping: groups, flopsConvention: flopsConvention, fits: fits,
            options: FitOptions(
                model: model, grouping: groups, flopsConvention: flopsConvention, bytesConvention: bytesConvention,
                workSetting: try caches.setting(inputs: inputs)))
        try report.validate(source: "--parameters")
        return report
    }
}
