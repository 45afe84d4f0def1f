import Basics
import CSV
import ConvKernels
import Foundation
import Measurement
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

    /// The columns of measurements.csv, in order.
    public static let columns = [
        "config_id", "experiment", "series", "H", "W", "Cin", "Cout", "K1", "K2", "batch", "algorithm",
        "threads", "flops", "runs", "warmup_runs", "median_ms", "mean_ms", "min_ms", "p25_ms", "p75_ms",
        "stddev_ms", "ci95_low_ms", "ci95_high_ms", "lowering_ms", "gemm_ms", "gflops", "stop_reason",
        "status",
    ]

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

    /// Fills the figures from `samples` (seconds).
    public mutating func record(_ samples: Samples) {
        let s = SampleSummary(samples.times)
        runs = s.count
        warmUpRuns = samples.warmUpRuns
        medianMs = s.median * 1e3
        meanMs = s.mean * 1e3
        minMs = s.minimum * 1e3
        p25Ms = s.p25 * 1e3
        p75Ms = s.p75 * 1e3
        stddevMs = s.standardDeviation * 1e3
        ci95LowMs = s.ci95Low * 1e3
        ci95HighMs = s.ci95High * 1e3
        loweringMs = Statistics.median(samples.lowering) * 1e3
        gemmMs = Statistics.median(samples.gemm) * 1e3
        gflops = flops / s.median / 1e9
        stopReason = samples.stopReason
    }

    /// The row's fields as text, in ``columns`` order.
    public var fields: [String] {
        func number(_ value: Double?) -> String {
            guard let value, value.isFinite else { return "" }
            return String(format: "%.6g", value)
        }
        return [
            configID, experiment, series, "\(shape.height)", "\(shape.width)", "\(shape.inputChannels)",
            "\(shape.outputChannels)", "\(shape.kernelHeight)", "\(shape.kernelWidth)", "\(shape.batch)",
            algorithm.rawValue, "\(threads)", String(format: "%.0f", flops), "\(runs)", "\(warmUpRuns)",
            number(medianMs), number(meanMs), number(minMs), number(p25Ms), number(p75Ms), number(stddevMs),
            number(ci95LowMs), number(ci95HighMs), number(loweringMs), number(gemmMs), number(gflops),
            stopReason?.rawValue ?? "", status.text,
        ]
    }

    /// The row as one CSV line, newline included.
    public var csvLine: String { CSVText.line(fields) }

    /// Reads a row from `record` (fields keyed by column name), line `line` of `source`.
    init(record: [String: String], source: String, line: Int) throws(RunError) {
        func bad(_ column: String, _ problem: String) -> RunError {
            .format("\(source) line \(line), column \(column): \(problem)")
        }
        func text(_ key: String) throws(RunError) -> String {
            guard let value = record[key] else { throw bad(key, "missing") }
            return value
        }
        func integer(_ key: String) throws(RunError) -> Int {
            let value = try text(key)
            guard let number = Int(value) else { throw bad(key, "'\(value)' is not an integer") }
            return number
        }
        func optional(_ key: String) throws(RunError) -> Double? {
            let value = try text(key)
            if value.isEmpty { return nil }
            guard let number = Double(value) else { throw bad(key, "'\(value)' is not a number") }
            return number
        }
        configID = try text("config_id")
        experiment = try text("experiment")
        series = try text("series")
        shape = ConvShape(
            batch: try integer("batch"), height: try integer("H"), width: try integer("W"),
            inputChannels: try integer("Cin"), outputChannels: try integer("Cout"), kernelHeight: try integer("K1"),
            kernelWidth: try integer("K2"))
        let algorithmText = try text("algorithm")
        guard let algorithm = ConvAlgorithm(rawValue: algorithmText) else {
            throw bad("algorithm", "unknown algorithm '\(algorithmText)'")
        }
        self.algorithm = algorithm
        threads = try integer("threads")
        guard let flops = try optional("flops") else { throw bad("flops", "empty") }
        self.flops = flops
        runs = try integer("runs")
        warmUpRuns = try integer("warmup_runs")
        medianMs = try optional("median_ms")
        meanMs = try optional("mean_ms")
        minMs = try optional("min_ms")
        p25Ms = try optional("p25_ms")
        p75Ms = try optional("p75_ms")
        stddevMs = try optional("stddev_ms")
        ci95LowMs = try optional("ci95_low_ms")
        ci95HighMs = try optional("ci95_high_ms")
        loweringMs = try optional("lowering_ms")
        gemmMs = try optional("gemm_ms")
        gflops = try optional("gflops")
        let reason = try text("stop_reason")
        if reason.isEmpty {
            stopReason = nil
        } else {
            guard let known = StopReason(rawValue: reason) else { throw bad("stop_reason", "unknown '\(reason)'") }
            stopReason = known
        }
        let statusText = try text("status")
        guard let status = ConfigurationStatus(text: statusText) else {
            throw bad("status", "'\(statusText)' is neither ok nor a known reason")
        }
        self.status = status
    }
}

/// Reads measurements.csv files.
public enum MeasurementsFile {
    /// The header line of measurements.csv.
    public static var header: String { CSVText.line(MeasurementRow.columns) }

    /// `rows` as the text of a measurements.csv, header first.
    public static func text(_ rows: [MeasurementRow]) -> String {
        header + rows.map(\.csvLine).joined()
    }

    /// Whether a CSV header holds every column of measurements.csv (a run's file, or a package's
    /// `data/` file, which has the same columns).
    public static func isMeasurementsHeader(_ header: [String]) -> Bool {
        Set(MeasurementRow.columns).isSubset(of: Set(header))
    }

    /// Every row of the measurements.csv at `path`.
    public static func read(path: String) throws -> [MeasurementRow] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RunError.format("cannot read \(path)")
        }
        return try parse(String(decoding: data, as: UTF8.self), source: path)
    }

    /// Every row of measurements.csv `text`.
    public static func parse(_ text: String, source: String = "measurements.csv") throws -> [MeasurementRow] {
        let reader: CSVReader
        do { reader = try CSVReader(string: text, hasHeaderRow: true) } catch {
            throw RunError.format("\(source): not CSV (\(error))")
        }
        guard let header = reader.headerRow, isMeasurementsHeader(header) else {
            throw RunError.format("\(source): the header lacks columns of measurements.csv")
        }
        var rows: [MeasurementRow] = []
        var line = 1
        while let fields = reader.next() {
            line += 1
            guard fields.count == header.count else {
                throw RunError.format("\(source) line \(line): \(fields.count) fields, expected \(header.count)")
            }
            rows.append(
                try MeasurementRow(
                    record: Dictionary(uniqueKeysWithValues: zip(header, fields)), source: source, line: line))
        }
        return rows
    }
}
