import Basics
import CSV
import Foundation
import Measurement
import Sweeps

/// One row of measurements.csv: a configuration, its figures, why timing stopped, its status.
///
/// Times are milliseconds. A configuration that was not measured has `runs` 0, empty figures and
/// the reason in ``status``.
public struct MeasurementRow: Hashable, Sendable {
    public var configID: String
    public var experiment: String
    public var series: String
    public var height: Int
    public var width: Int
    public var inputChannels: Int
    public var outputChannels: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var batch: Int
    /// The algorithm used (`auto` resolved).
    public var algorithm: String
    public var threads: Int
    public var flops: Double
    /// Timed runs (0 when not measured).
    public var runs: Int
    /// Warm-up runs before timing.
    public var warmUpRuns: Int
    public var medianMs: Double?
    public var meanMs: Double?
    public var minMs: Double?
    public var p25Ms: Double?
    public var p75Ms: Double?
    public var stddevMs: Double?
    public var ci95LowMs: Double?
    public var ci95HighMs: Double?
    /// Median lowering (im2col) time of the timed runs.
    public var loweringMs: Double?
    /// Median GEMM time of the timed runs.
    public var gemmMs: Double?
    /// FLOPs / median time, in GFLOP/s.
    public var gflops: Double?
    /// Why timing stopped (empty when not measured).
    public var stopReason: String
    /// `ok`, or why the configuration was not measured or failed.
    public var status: String

    /// The columns of measurements.csv, in order.
    public static let columns = [
        "config_id", "experiment", "series", "H", "W", "Cin", "Cout", "K1", "K2", "batch", "algorithm",
        "threads", "flops", "runs", "warmup_runs", "median_ms", "mean_ms", "min_ms", "p25_ms", "p75_ms",
        "stddev_ms", "ci95_low_ms", "ci95_high_ms", "lowering_ms", "gemm_ms", "gflops", "stop_reason",
        "status",
    ]

    /// A row for `configuration` with no figures and `status`.
    public init(configuration c: SweepConfiguration, algorithm: String, threads: Int, status: String) {
        configID = c.id
        experiment = c.experiment
        series = c.series
        height = c.shape.height
        width = c.shape.width
        inputChannels = c.shape.inputChannels
        outputChannels = c.shape.outputChannels
        kernelHeight = c.shape.kernelHeight
        kernelWidth = c.shape.kernelWidth
        batch = c.shape.batch
        self.algorithm = algorithm
        self.threads = threads
        flops = c.flops
        runs = 0
        warmUpRuns = 0
        stopReason = ""
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
        stopReason = samples.stopReason.rawValue
    }

    /// The row's fields as text, in ``columns`` order.
    public var fields: [String] {
        func number(_ value: Double?) -> String {
            guard let value, value.isFinite else { return "" }
            return String(format: "%.6g", value)
        }
        return [
            configID, experiment, series, "\(height)", "\(width)", "\(inputChannels)", "\(outputChannels)",
            "\(kernelHeight)", "\(kernelWidth)", "\(batch)", algorithm, "\(threads)", String(format: "%.0f", flops),
            "\(runs)", "\(warmUpRuns)", number(medianMs), number(meanMs), number(minMs), number(p25Ms),
            number(p75Ms), number(stddevMs), number(ci95LowMs), number(ci95HighMs), number(loweringMs),
            number(gemmMs), number(gflops), stopReason, status,
        ]
    }

    /// The row as one CSV line, newline included.
    public var csvLine: String { CSVText.line(fields) }

    /// Reads a row from `fields` keyed by column name.
    init(record: [String: String], line: Int) throws(RunError) {
        func text(_ key: String) throws(RunError) -> String {
            guard let value = record[key] else { throw RunError.format("line \(line): missing column \(key)") }
            return value
        }
        func integer(_ key: String) throws(RunError) -> Int {
            guard let value = Int(try text(key)) else {
                throw RunError.format("line \(line): column \(key) is not an integer")
            }
            return value
        }
        func optional(_ key: String) throws(RunError) -> Double? {
            let value = try text(key)
            if value.isEmpty { return nil }
            guard let number = Double(value) else {
                throw RunError.format("line \(line): column \(key) is not a number")
            }
            return number
        }
        configID = try text("config_id")
        experiment = try text("experiment")
        series = try text("series")
        height = try integer("H")
        width = try integer("W")
        inputChannels = try integer("Cin")
        outputChannels = try integer("Cout")
        kernelHeight = try integer("K1")
        kernelWidth = try integer("K2")
        batch = try integer("batch")
        algorithm = try text("algorithm")
        threads = try integer("threads")
        guard let flops = try optional("flops") else { throw RunError.format("line \(line): empty flops") }
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
        stopReason = try text("stop_reason")
        status = try text("status")
    }
}

/// Reads measurements.csv files.
public enum MeasurementsFile {
    /// The header line of measurements.csv.
    public static var header: String { CSVText.line(MeasurementRow.columns) }

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
        guard let header = reader.headerRow, Set(MeasurementRow.columns).isSubset(of: Set(header)) else {
            throw RunError.format("\(source): the header lacks columns of measurements.csv")
        }
        var rows: [MeasurementRow] = []
        var line = 1
        while let fields = reader.next() {
            line += 1
            guard fields.count == header.count else {
                throw RunError.format("\(source) line \(line): \(fields.count) fields, expected \(header.count)")
            }
            rows.append(try MeasurementRow(record: Dictionary(uniqueKeysWithValues: zip(header, fields)), line: line))
        }
        return rows
    }
}

/// CSV quoting (RFC 4180): fields with a comma, quote or line break are quoted.
enum CSVText {
    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func line(_ fields: [String]) -> String { fields.map(field).joined(separator: ",") + "\n" }
}
