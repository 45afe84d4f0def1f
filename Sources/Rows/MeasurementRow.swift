import Basics
import CSV
import ConvKernels
import Foundation
import Sweeps

/// One row of measurements.csv: a configuration, its figures, why timing stopped, its status.
///
/// The one model of a measured configuration: the runner writes it, and the fit, the package and
/// the commands read it through ``MeasurementsFile``. Times are milliseconds. A configuration that
/// was not measured has `runs` 0, no figures, and the reason in ``status``.
public struct MeasurementRow: Hashable, Sendable {
    /// The configuration's stable id (see sweeps/README.md).
    public var configID: String
    /// The experiment (sweep file) it comes from, e.g. `B` or `regression`.
    public var experiment: String
    /// The series (line of a figure).
    public var series: String
    /// The layer.
    public var shape: ConvShape
    /// The algorithm used (`auto` resolved).
    public var algorithm: ConvAlgorithm
    /// OpenBLAS threads.
    public var threads: Int
    /// FLOPs of one forward pass (2 per multiply–add).
    public var flops: Double
    /// Timed runs (0 when not measured).
    public var runs: Int
    /// Warm-up runs before timing.
    public var warmUpRuns: Int
    /// Median of the timed runs.
    public var medianMs: Double?
    /// Mean of the timed runs.
    public var meanMs: Double?
    /// Fastest timed run.
    public var minMs: Double?
    /// First quartile of the timed runs.
    public var p25Ms: Double?
    /// Third quartile of the timed runs.
    public var p75Ms: Double?
    /// Standard deviation of the timed runs.
    public var stddevMs: Double?
    /// Lower end of the median's 95% confidence interval (order statistics).
    public var ci95LowMs: Double?
    /// Upper end of the median's 95% confidence interval.
    public var ci95HighMs: Double?
    /// Median lowering (im2col) time of the timed runs.
    public var loweringMs: Double?
    /// Median GEMM time of the timed runs.
    public var gemmMs: Double?
    /// FLOPs / median time, in GFLOP/s.
    public var gflops: Double?
    /// Why timing stopped (nil when not measured).
    public var stopReason: StopReason?
    /// Measured, or why not.
    public var status: ConfigurationStatus
    /// The session (1-based, as in the manifest's `sessions`) that measured the round the figures
    /// come from; nil in files written before sessions were recorded per row.
    public var session: Int?
    /// In rounds.csv, the round's number; in measurements.csv, the number of the round the figures
    /// come from.
    public var round: Int?
    /// measurements.csv only: rounds measured, disturbed ones included.
    public var rounds: Int?
    /// measurements.csv only: rounds measured in a clean window.
    public var cleanRounds: Int?
    /// measurements.csv only: the fastest and slowest median of the rounds the row was chosen from
    /// (the clean ones, or all when none was clean): the between-round spread.
    public var roundMinMs: Double?
    /// See ``roundMinMs``.
    public var roundMaxMs: Double?
    /// The drift probe's mean rate next to the round (the lower of the readings before and after
    /// it), as a share of the session's reference rate.
    public var probeRatio: Double?
    /// Whether the window was clean; in measurements.csv, whether the row's rounds settled.
    public var window: MeasurementWindow?
    /// measurements.csv only: FLOPs per byte of the input, weight and output tensors.
    public var arithmeticIntensity: Double?
    /// measurements.csv only: GFLOP/s over what the session's roofs allow at that intensity.
    public var attainedShare: Double?
    /// measurements.csv only: the roof that bounds the configuration, `memory` or `compute`.
    public var bound: String?
    /// The implementation a oneDNN algorithm ran (`dnnl_query_impl_info_str`, e.g. `jit:avx2`);
    /// nil for the OpenBLAS algorithms (their implementation is the algorithm).
    public var implementation: String?
    /// A oneDNN algorithm's layouts, `src <tag> weights <tag> dst <tag>` (`abcd` is NCHW); nil
    /// for the OpenBLAS algorithms (NCHW, OIHW).
    public var layouts: String?

    /// The library that computed the row: `openblas`, `onednn` or `reference`.
    public var backend: ConvBackend { algorithm.backend }

    /// The columns of measurements.csv (and of rounds.csv), in order. Files written before rounds
    /// existed lack the columns after `status`; they read as empty. The ``layerColumns`` come last
    /// and only in files that hold a layer other than the grid's (``ConvShape/hasGridGeometry``):
    /// a file of grid layers is what it always was, byte for byte.
    public static let columns = baseColumns + roundColumns + backendColumns + layerColumns

    /// The columns of a file of grid layers only: ``columns`` without ``layerColumns``.
    public static let gridColumns = baseColumns + roundColumns + backendColumns

    /// The columns every measurements.csv has.
    public static let baseColumns = [
        "config_id", "experiment", "series", "H", "W", "Cin", "Cout", "K1", "K2", "batch", "algorithm",
        "threads", "flops", "runs", "warmup_runs", "median_ms", "mean_ms", "min_ms", "p25_ms", "p75_ms",
        "stddev_ms", "ci95_low_ms", "ci95_high_ms", "lowering_ms", "gemm_ms", "gflops", "stop_reason",
        "status",
    ]

    /// The columns of rounds, sessions, the drift probe and the roofline.
    public static let roundColumns = [
        "session", "round", "rounds", "clean_rounds", "round_min_ms", "round_max_ms", "probe_ratio", "window",
        "arithmetic_intensity", "attained_share", "bound",
    ]

    /// The columns of the backend that computed the row; absent in files written before there
    /// were two backends (they read as OpenBLAS rows).
    public static let backendColumns = ["backend", "implementation", "layouts"]

    /// The layer's geometry beyond its sizes: stride, padding (top, left, bottom, right),
    /// dilation, groups, and `layer` (`conv` or `fc`). Absent, they read as the grid's layer
    /// (stride 1, 'same' padding, dilation 1, groups 1, a convolution).
    public static let layerColumns = ConvShape.geometryColumns

    /// Whether a file holding `shapes` needs the ``layerColumns`` (``ConvShape/needGeometryColumns(_:)``).
    public static func needsLayerColumns<S: Sequence>(_ shapes: S) -> Bool where S.Element == ConvShape {
        ConvShape.needGeometryColumns(shapes)
    }

    /// A row for `configuration` with no figures and `status`.
    public init(
        configuration c: SweepConfiguration, algorithm: ConvAlgorithm, threads: Int, status: ConfigurationStatus
    ) {
        configID = c.id
        experiment = c.experiment
        series = c.series
        shape = c.shape
        self.algorithm = algorithm
        self.threads = threads
        flops = c.flops
        runs = 0
        warmUpRuns = 0
        stopReason = nil
        self.status = status
    }

    /// The row's fields as text, in ``columns`` order.
    public var fields: [String] {
        func number(_ value: Double?) -> String {
            guard let value, value.isFinite else { return "" }
            return String(format: "%.6g", value)
        }
        func integer(_ value: Int?) -> String { value.map(String.init) ?? "" }
        return [
            configID, experiment, series, "\(shape.height)", "\(shape.width)", "\(shape.inputChannels)",
            "\(shape.outputChannels)", "\(shape.kernelHeight)", "\(shape.kernelWidth)", "\(shape.batch)",
            algorithm.rawValue, "\(threads)", String(format: "%.0f", flops), "\(runs)", "\(warmUpRuns)",
            number(medianMs), number(meanMs), number(minMs), number(p25Ms), number(p75Ms), number(stddevMs),
            number(ci95LowMs), number(ci95HighMs), number(loweringMs), number(gemmMs), number(gflops),
            stopReason?.rawValue ?? "", status.text, integer(session), integer(round), integer(rounds),
            integer(cleanRounds), number(roundMinMs), number(roundMaxMs), number(probeRatio), window?.rawValue ?? "",
            number(arithmeticIntensity), number(attainedShare), bound ?? "", backend.rawValue, implementation ?? "",
            layouts ?? "",
        ] + shape.geometryFields
    }

    /// The row as one CSV line in ``columns``, newline included.
    public var csvLine: String { CSVText.line(fields) }

    /// The row as one CSV line, with the ``layerColumns`` or without (``gridColumns``).
    public func csvLine(layerColumns: Bool) -> String {
        layerColumns ? csvLine : CSVText.line(Array(fields.dropLast(MeasurementRow.layerColumns.count)))
    }

    /// Reads a row from `record` (fields keyed by column name), line `line` of `source`.
    init(record: [String: String], source: String, line: Int) throws(RowFormatError) {
        let r = RecordFields(record: record, source: source, line: line)
        configID = try r.text("config_id")
        experiment = try r.text("experiment")
        series = try r.text("series")
        shape = ConvShape(
            batch: try r.integer("batch"), height: try r.integer("H"), width: try r.integer("W"),
            inputChannels: try r.integer("Cin"), outputChannels: try r.integer("Cout"),
            kernelHeight: try r.integer("K1"), kernelWidth: try r.integer("K2"))
        if record["layer"] != nil {
            do { try shape.readGeometry { record[$0] } } catch { throw r.bad(error.column, error.problem) }
        }
        guard let algorithm = try r.known("algorithm", ConvAlgorithm.init(rawValue:), "unknown algorithm") else {
            throw r.bad("algorithm", "unknown algorithm ''")
        }
        self.algorithm = algorithm
        // The backend column is the algorithm's (derived, never read into the row): any other
        // value is an edit the row would otherwise drop unseen.
        if let written = r.nonEmpty("backend"), written != algorithm.backend.rawValue {
            throw r.bad(
                "backend", "'\(written)' is not the backend of \(algorithm.rawValue) (\(algorithm.backend.rawValue))")
        }
        threads = try r.integer("threads")
        guard threads >= 1 else { throw r.bad("threads", "'\(threads)' is not a positive integer") }
        guard let flops = try r.number("flops") else { throw r.bad("flops", "empty") }
        self.flops = flops
        runs = try r.integer("runs")
        warmUpRuns = try r.integer("warmup_runs")
        guard runs >= 0 else { throw r.bad("runs", "'\(runs)' is negative") }
        guard warmUpRuns >= 0 else { throw r.bad("warmup_runs", "'\(warmUpRuns)' is negative") }
        (medianMs, meanMs, minMs) = (try r.number("median_ms"), try r.number("mean_ms"), try r.number("min_ms"))
        (p25Ms, p75Ms, stddevMs) = (try r.number("p25_ms"), try r.number("p75_ms"), try r.number("stddev_ms"))
        (ci95LowMs, ci95HighMs) = (try r.number("ci95_low_ms"), try r.number("ci95_high_ms"))
        (loweringMs, gemmMs, gflops) = (try r.number("lowering_ms"), try r.number("gemm_ms"), try r.number("gflops"))
        stopReason = try r.known("stop_reason", StopReason.init(rawValue:), "unknown")
        let statusText = try r.text("status")
        guard let status = ConfigurationStatus(text: statusText) else {
            throw r.bad("status", "'\(statusText)' is neither ok nor a known reason")
        }
        self.status = status
        // Every row's layer, a grid row's too: a hostile file's negative or overflowing
        // dimensions stop here, not in the accounting.
        do { try shape.validateReadable(refused: !status.isOK) } catch {
            throw r.bad(record["layer"] != nil ? "layer" : "H", "\(shape.sizesAsRead): \(error.description)")
        }
        // The round columns: absent in files written before rounds, empty where they do not apply.
        session = try r.optionalInteger("session")
        round = try r.optionalInteger("round")
        rounds = try r.optionalInteger("rounds")
        cleanRounds = try r.optionalInteger("clean_rounds")
        roundMinMs = try r.optionalNumber("round_min_ms")
        roundMaxMs = try r.optionalNumber("round_max_ms")
        probeRatio = try r.optionalNumber("probe_ratio")
        arithmeticIntensity = try r.optionalNumber("arithmetic_intensity")
        attainedShare = try r.optionalNumber("attained_share")
        bound = r.nonEmpty("bound")
        implementation = r.nonEmpty("implementation")
        layouts = r.nonEmpty("layouts")
        window = r.nonEmpty("window") == nil ? nil : try r.known("window", MeasurementWindow.init(rawValue:), "unknown")
    }
}

/// The fields of one measurements.csv record, read with the errors that name its file, line and
/// column.
private struct RecordFields {
    var record: [String: String]
    var source: String
    var line: Int

    func bad(_ column: String, _ problem: String) -> RowFormatError {
        RowFormatError("\(source) line \(line), column \(column): \(problem)")
    }

    /// A column every row has.
    func text(_ key: String) throws(RowFormatError) -> String {
        guard let value = record[key] else { throw bad(key, "missing") }
        return value
    }

    func integer(_ key: String) throws(RowFormatError) -> Int {
        let value = try text(key)
        guard let number = Int(value) else { throw bad(key, "'\(value)' is not an integer") }
        return number
    }

    /// A number of a column every row has; nil when empty. Only a finite number reads (`nan` and
    /// `inf` are refused), and the time, rate and count columns hold none below their minimum:
    /// a time measured is positive, a spread or a share is not negative.
    func number(_ key: String) throws(RowFormatError) -> Double? {
        let value = try text(key)
        if value.isEmpty { return nil }
        guard let number = Double(value) else { throw bad(key, "'\(value)' is not a number") }
        guard number.isFinite else { throw bad(key, "'\(value)' is not a finite number") }
        if RecordFields.positiveColumns.contains(key), number <= 0 {
            throw bad(key, "'\(value)' is not a positive number (a time or a count of operations)")
        }
        if key.hasSuffix("_ms"), number > RecordFields.maximumMilliseconds {
            throw bad(
                key, "'\(value)' ms is more than a measurement can take (\(Int(RecordFields.maximumMilliseconds)) ms)")
        }
        if RecordFields.nonNegativeColumns.contains(key), number < 0 {
            throw bad(key, "'\(value)' is negative")
        }
        return number
    }

    /// The longest time a row may state: about eleven days, far beyond any layer's.
    static let maximumMilliseconds = 1e9
    /// Columns whose value, where present, is positive.
    static let positiveColumns: Set<String> = [
        "median_ms", "mean_ms", "min_ms", "p25_ms", "p75_ms", "ci95_low_ms", "ci95_high_ms",
        "round_min_ms", "round_max_ms",
    ]
    /// Columns whose value, where present, is not negative.
    static let nonNegativeColumns: Set<String> = [
        "flops", "stddev_ms", "lowering_ms", "gemm_ms", "gflops", "probe_ratio", "arithmetic_intensity",
        "attained_share",
    ]

    /// A value of a column every row has, one of `make`'s; nil when empty.
    func known<T>(_ key: String, _ make: (String) -> T?, _ problem: String) throws(RowFormatError) -> T? {
        let value = try text(key)
        if value.isEmpty { return nil }
        guard let known = make(value) else { throw bad(key, "\(problem) '\(value)'") }
        return known
    }

    /// An integer of a column files written before rounds lack; nil when absent or empty.
    func optionalInteger(_ key: String) throws(RowFormatError) -> Int? {
        guard let value = record[key], !value.isEmpty else { return nil }
        guard let number = Int(value) else { throw bad(key, "'\(value)' is not an integer") }
        return number
    }

    /// A number of a column files written before rounds lack; nil when absent or empty.
    func optionalNumber(_ key: String) throws(RowFormatError) -> Double? {
        guard record[key] != nil else { return nil }
        return try number(key)
    }

    /// The text of a column, nil when absent or empty.
    func nonEmpty(_ key: String) -> String? {
        record[key].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// How clean the machine was while a configuration was measured.
public enum MeasurementWindow: String, Codable, Hashable, Sendable {
    /// The drift probe read no slowdown next to it; for a row, its clean rounds agreed within the
    /// round tolerance.
    case clean
    /// The probe read the machine clearly slower than its reference next to it; for a row, no
    /// round of it had a clean window.
    case disturbed
    /// A row whose clean rounds still disagreed by more than the round tolerance when the round
    /// limit was reached.
    case unsettled
}

/// Reads measurements.csv files.
public enum MeasurementsFile {
    /// The header line of measurements.csv with the layer columns.
    public static var header: String { CSVText.line(MeasurementRow.columns) }

    /// The header line of a measurements.csv of grid layers only (no layer columns).
    public static var gridHeader: String { CSVText.line(MeasurementRow.gridColumns) }

    /// The header of a file holding `shapes`: with the layer columns only when one needs them.
    public static func header<S: Sequence>(for shapes: S) -> String where S.Element == ConvShape {
        MeasurementRow.needsLayerColumns(shapes) ? header : gridHeader
    }

    /// `rows` as the text of a measurements.csv, header first; the layer columns only when a row
    /// needs them.
    public static func text(_ rows: [MeasurementRow]) -> String {
        let layer = MeasurementRow.needsLayerColumns(rows.map(\.shape))
        return (layer ? header : gridHeader) + rows.map { $0.csvLine(layerColumns: layer) }.joined()
    }

    /// Whether a CSV header holds every column of measurements.csv (a run's file, or a package's
    /// `data/` file, which has the same columns).
    public static func isMeasurementsHeader(_ header: [String]) -> Bool {
        Set(MeasurementRow.baseColumns).isSubset(of: Set(header))
    }

    /// Every row of the measurements.csv at `path`.
    public static func read(path: String) throws -> [MeasurementRow] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RowFormatError("cannot read \(path)")
        }
        return try parse(String(decoding: data, as: UTF8.self), source: path)
    }

    /// Every row of measurements.csv `text`.
    public static func parse(_ text: String, source: String = "measurements.csv") throws -> [MeasurementRow] {
        if let problem = CSVLimits.problem(in: text) { throw RowFormatError("\(source) \(problem)") }
        let reader: CSVReader
        do { reader = try CSVReader(string: text, hasHeaderRow: true) } catch {
            throw RowFormatError("\(source): not CSV (\(error))")
        }
        guard let header = reader.headerRow, isMeasurementsHeader(header) else {
            throw RowFormatError("\(source): the header lacks columns of measurements.csv")
        }
        if let (name, column) = CSVLimits.duplicateColumn(header) {
            throw RowFormatError("\(source) line 1, column \(column): the header names '\(name)' a second time")
        }
        var rows: [MeasurementRow] = []
        var line = 1
        while let fields = reader.next() {
            line += 1
            guard fields.count == header.count else {
                throw RowFormatError("\(source) line \(line): \(fields.count) fields, expected \(header.count)")
            }
            rows.append(
                try MeasurementRow(
                    record: Dictionary(uniqueKeysWithValues: zip(header, fields)), source: source, line: line))
        }
        return rows
    }
}
