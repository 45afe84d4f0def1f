import Basics
import CSV
import Foundation

/// A CSV file held in memory: a header and rows of strings.
public struct Table: Equatable, Sendable {
    /// Column names, in file order.
    public var header: [String]
    /// Rows, each with one field per column.
    public var rows: [[String]]

    /// A table with `header` and `rows`.
    public init(header: [String], rows: [[String]] = []) {
        self.header = header
        self.rows = rows
    }

    /// Reads a CSV file with a header row.
    public init(contentsOf url: URL) throws {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw TableError.unreadable(url.path) }
        let text = String(decoding: data, as: UTF8.self)
        if let problem = CSVLimits.problem(in: text) { throw TableError.shape(url.path, problem) }
        let reader = try CSVReader(string: text, hasHeaderRow: true)
        header = reader.headerRow ?? []
        if let (name, column) = CSVLimits.duplicateColumn(header) {
            throw TableError.shape(url.path, "line 1, column \(column): the header names '\(name)' a second time")
        }
        rows = []
        var line = 1
        while let row = reader.next() {
            line += 1
            guard row.count == header.count else {
                throw TableError.ragged(url.path, line: line, fields: row.count, expected: header.count)
            }
            rows.append(row)
        }
    }

    /// The index of a column.
    public func column(_ name: String) -> Int? { header.firstIndex(of: name) }

    /// The rows as records: each field keyed by its column's name.
    public var records: [[String: String]] {
        rows.map { Dictionary(zip(header, $0), uniquingKeysWith: { first, _ in first }) }
    }

    /// The values of one column.
    public func values(_ name: String) -> [String] {
        guard let i = column(name) else { return [] }
        return rows.map { $0[i] }
    }

    /// The CSV text, with fields quoted where needed (``CSVText``, the one CSV writer).
    public func csvText() -> String { CSVText.text(header: header, rows: rows) }

    /// Writes the table as CSV, atomically.
    public func write(to url: URL) throws {
        try Data(csvText().utf8).write(to: url, options: .atomic)
    }
}

/// Why a CSV file could not be read as a ``Table``.
public enum TableError: Error, CustomStringConvertible {
    case unreadable(String)
    case ragged(String, line: Int, fields: Int, expected: Int)
    case missingColumn(String, column: String)
    /// Beyond ``CSVLimits``, or a header naming a column twice.
    case shape(String, String)

    /// The message, naming the file.
    public var description: String {
        switch self {
        case let .unreadable(path): return "\(path): cannot be read"
        case let .ragged(path, line, fields, expected):
            return "\(path):\(line): \(fields) fields where the header has \(expected)"
        case let .missingColumn(path, column): return "\(path): no column '\(column)'"
        case let .shape(path, problem): return "\(path) \(problem)"
        }
    }
}
