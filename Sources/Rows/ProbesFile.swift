import Basics
import Foundation

/// One reading of the drift probe, as probes.csv holds it.
public struct ProbeRow: Equatable, Sendable {
    /// The session that read it (1 for the first).
    public var session: Int
    /// Seconds since the session's calibration began.
    public var seconds: Double
    /// The reading's mean and best rates, GFLOP/s.
    public var meanGflops, bestGflops: Double
    /// The session's reference rate when it was read, GFLOP/s.
    public var referenceGflops: Double

    /// A reading of `session`.
    public init(session: Int, seconds: Double, meanGflops: Double, bestGflops: Double, referenceGflops: Double) {
        self.session = session
        self.seconds = seconds
        self.meanGflops = meanGflops
        self.bestGflops = bestGflops
        self.referenceGflops = referenceGflops
    }

    /// The reading as one line of probes.csv, newline included.
    public var csvLine: String {
        CSVText.line([
            "\(session)", String(format: "%.4f", seconds), String(format: "%.4g", meanGflops),
            String(format: "%.4g", bestGflops), String(format: "%.4g", referenceGflops),
        ])
    }
}

/// probes.csv: every reading of the drift probe, one line each; its one reader and writer.
public enum ProbesFile {
    /// The columns of probes.csv, in order.
    public static let columns = ["session", "seconds", "mean_gflops", "best_gflops", "reference_gflops"]
    /// The header line of probes.csv.
    public static var header: String { CSVText.line(columns) }

    /// `rows` as the text of a probes.csv, header first.
    public static func text(_ rows: [ProbeRow]) -> String { header + rows.map(\.csvLine).joined() }

    /// Every reading of the probes.csv at `path`.
    ///
    /// - Throws: ``RowFormatError`` naming the file, line and column of a field that does not read
    ///   (a session that is not a positive integer, a rate that is not a finite number ≥ 0), a
    ///   column the header names twice (which of its values counts?), a line of another width, or
    ///   a reading twice (the same session and second: the probe reads every few milliseconds).
    public static func read(path: String) throws(RowFormatError) -> [ProbeRow] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RowFormatError("cannot read \(path)")
        }
        let text = String(decoding: data, as: UTF8.self)
        if let problem = CSVLimits.problem(in: text) { throw RowFormatError("\(path) \(problem)") }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        let header =
            lines.first.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? []
        if let (name, column) = CSVLimits.duplicateColumn(header) {
            throw RowFormatError("\(path) line 1, column \(column): the header names '\(name)' a second time")
        }
        var index: [String: Int] = [:]
        for name in columns {
            guard let column = header.firstIndex(of: name) else {
                throw RowFormatError("\(path) line 1: no \(name) column")
            }
            index[name] = column
        }
        var seen: [String: Int] = [:]
        return try lines.dropFirst().enumerated().map { (offset, line) throws(RowFormatError) -> ProbeRow in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == header.count else {
                throw RowFormatError("\(path) line \(offset + 2): \(fields.count) fields, expected \(header.count)")
            }
            func field(_ name: String) throws(RowFormatError) -> Substring {
                guard let column = index[name], column < fields.count else {
                    throw RowFormatError("\(path) line \(offset + 2), column \(name): missing")
                }
                return fields[column]
            }
            func number(_ name: String) throws(RowFormatError) -> Double {
                let text = try field(name)
                guard let value = Double(text), value.isFinite, value >= 0 else {
                    throw RowFormatError(
                        "\(path) line \(offset + 2), column \(name): '\(text)' is not a finite number ≥ 0")
                }
                return value
            }
            let sessionText = try field("session")
            guard let session = Int(sessionText), session >= 1 else {
                throw RowFormatError(
                    "\(path) line \(offset + 2), column session: '\(sessionText)' is not a positive integer")
            }
            let seconds = try field("seconds")
            if let first = seen.updateValue(offset + 2, forKey: "\(session) \(seconds)") {
                throw RowFormatError(
                    "\(path) line \(offset + 2): a second reading of session \(session) at \(seconds) s (first on line \(first))"
                )
            }
            return ProbeRow(
                session: session, seconds: try number("seconds"), meanGflops: try number("mean_gflops"),
                bestGflops: try number("best_gflops"), referenceGflops: try number("reference_gflops"))
        }
    }
}
