import Basics
import CSV
import ConvKernels
import Foundation
import Rows
import Sweeps

/// One measured configuration, ready to fit.
public struct FitRow: Codable, Hashable, Sendable {
    /// The layer.
    public var shape: ConvShape
    /// The measured time in milliseconds (> 0, finite).
    public var timeMs: Double
    /// Every other column of the input row, carried into predictions (e.g. plot, line,
    /// config_id, experiment, series).
    public var carried: [String: String]
    /// Index into `FitDataset.inputs`.
    public var input: Int
    /// The row in its file (header = 1).
    public var row: Int

    /// A row of `shape` measured at `timeMs`, from row `row` of input `input`.
    public init(shape: ConvShape, timeMs: Double, carried: [String: String] = [:], input: Int = 0, row: Int = 0) {
        self.shape = shape
        self.timeMs = timeMs
        self.carried = carried
        self.input = input
        self.row = row
    }
}

/// One input file of a dataset, with its SHA-256 so a fit records exactly what it saw.
public struct FitInput: Codable, Hashable, Sendable {
    /// The path as given (a CSV file or a run directory).
    public var path: String
    /// The CSV actually read (the path itself, or DIR/measurements.csv).
    public var file: String
    /// `csv`, `run-directory` or `package` (one input per data file).
    public var kind: String
    /// Hex SHA-256 of the bytes of `file`.
    public var sha256: String
    /// Rows used, and rows left out by filters (or, for a run directory, by status ≠ ok).
    public var rowsUsed: Int
    /// Rows left out.
    public var rowsExcluded: Int
}

/// A row filter: leave out the rows whose `column` equals `value` (inputs without the column are
/// not affected).
public struct RowFilter: Codable, Hashable, Sendable {
    /// The column compared.
    public var column: String
    /// The value that leaves a row out.
    public var value: String

    /// Leave out rows whose `column` equals `value`.
    public init(column: String, value: String) {
        self.column = column
        self.value = value
    }

    /// Parses `COLUMN=VALUE`.
    public init?(_ text: String) {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else { return nil }
        column = String(text[..<eq])
        value = String(text[text.index(after: eq)...])
    }
}

/// Measured layers gathered from CSV files and run directories (see docs/fit-format.md).
public struct FitDataset: Codable, Sendable {
    /// The files read.
    public var inputs: [FitInput]
    /// The rows, in input order.
    public var rows: [FitRow]
    /// The carried columns, in first-seen order.
    public var carriedColumns: [String]

    /// A dataset of `rows` read from `inputs`.
    public init(inputs: [FitInput], rows: [FitRow], carriedColumns: [String]) {
        self.inputs = inputs
        self.rows = rows
        self.carriedColumns = carriedColumns
    }

    /// The dataset with its inputs' paths relative to `directory` where they lie inside it: how a
    /// package records the files its fits read (`data/regression.csv`), which any copy of the
    /// package can check, instead of the directory it was built in.
    public func relative(to directory: String) -> FitDataset {
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        func inside(_ path: String) -> String { path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path }
        var result = self
        result.inputs = inputs.map { input in
            var input = input
            input.path = inside(input.path)
            input.file = inside(input.file)
            return input
        }
        return result
    }

    /// Columns the models read; every other column is carried.
    static let modelColumns: Set<String> = [
        "H", "W", "Cin", "Cout", "K", "K1", "K2", "batch", "time_ms", "median_ms", "stride_h", "stride_w", "pad_top",
        "pad_left", "pad_bottom", "pad_right", "dilation_h", "dilation_w", "groups", "layer",
    ]

    /// Loads every input: a CSV file (columns H, W, Cin, Cout, K or K1 and K2, time_ms, optional
    /// batch) or a run directory (its measurements.csv: rows with status `ok`, time = median_ms).
    ///
    /// - Parameter excluding: rows matching any filter are left out before validation.
    /// - Throws: `FitInputError` naming input, row and column for a missing column, a
    ///   non-integer or non-positive size, a non-positive or non-finite time, an unreadable file,
    ///   or a filter whose column appears in no input.
    public static func load(paths: [String], excluding filters: [RowFilter] = []) throws -> FitDataset {
        guard !paths.isEmpty else { throw FitInputError(input: "inputs", "no input given") }
        var dataset = FitDataset(inputs: [], rows: [], carriedColumns: [])
        var filterColumnsSeen = Set<String>()
        var firstRowOf: [String: String] = [:]
        for (path, file, kind) in try inputFiles(paths) {
            let runDirectory = kind != "csv"
            guard let data = FileManager.default.contents(atPath: file) else {
                throw FitInputError(input: file, "cannot read the file")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw FitInputError(input: file, "not UTF-8 text")
            }
            let digest = SHA256Hex.of(data)
            let (rows, header, excluded) = try parse(
                text, file: file, runDirectory: runDirectory,
                inputIndex: dataset.inputs.count, filters: filters)
            // A configuration is measured once: merge refuses a second row of it, and so does a fit.
            for row in rows {
                guard let id = row.carried["config_id"], !id.isEmpty else { continue }
                if let first = firstRowOf[id] {
                    throw FitInputError(
                        input: file, row: row.row, column: "config_id",
                        "configuration \(id) is also \(first) (a configuration has one row; merge refuses the same)")
                }
                firstRowOf[id] = "\(file) row \(row.row)"
            }
            filterColumnsSeen.formUnion(filters.map(\.column).filter(header.contains))
            for column in header where !modelColumns.contains(column) && !dataset.carriedColumns.contains(column) {
                dataset.carriedColumns.append(column)
            }
            dataset.inputs.append(
                FitInput(
                    path: path, file: file, kind: kind,
                    sha256: digest, rowsUsed: rows.count, rowsExcluded: excluded))
            dataset.rows += rows
        }
        if let unused = filters.first(where: { !filterColumnsSeen.contains($0.column) }) {
            throw FitInputError(
                input: paths.joined(separator: ", "), row: 1, column: unused.column,
                "the filter \(unused.column)=\(unused.value) names a column no input has")
        }
        return dataset
    }

    /// Why these rows cannot be fitted as one machine's times of one kind: rows at several thread
    /// counts (a run with `--threads 1,2`); nil when they are of one count. Predicting them is fine.
    public var threadCountProblem: FitInputError? {
        let counts = Set(rows.compactMap { $0.carried["threads"] }).sorted { (Int($0) ?? 0) < (Int($1) ?? 0) }
        guard counts.count > 1 else { return nil }
        return FitInputError(
            input: inputs.map(\.path).joined(separator: ", "), column: "threads",
            "rows at \(counts.joined(separator: ", ")) threads: a model is fitted on one count's rows; leave the others out (--exclude threads=\(counts[1]))"
        )
    }

    /// The files of `paths`, each with the path given and its kind, found by ``RowSource``: a
    /// run directory's measurements.csv, each of a package's data/*.csv, or the CSV file.
    static func inputFiles(_ paths: [String]) throws -> [(path: String, file: String, kind: String)] {
        var files: [(path: String, file: String, kind: String)] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw FitInputError(input: path, "no such file or directory")
            }
            switch try? RowSource(path: path) {
            case .run(let directory)?:
                files.append((path, RowSource.run(directory).measurementFiles[0], "run-directory"))
            case .package(let directory)?:
                files += RowSource.package(directory).measurementFiles.map { (path, $0, "package") }
            case .file?: files.append((path, path, "csv"))
            case nil:
                throw FitInputError(
                    input: (path as NSString).appendingPathComponent(RowSource.measurementsFile),
                    "a run directory needs a readable measurements.csv (or a package its data/*.csv)")
            }
        }
        return files
    }

    /// The measured rows of a file in the format of measurements.csv, read by the one reader of
    /// that format (``MeasurementsFile``): time = `median_ms` of the rows whose status is ok.
    private static func measurementRows(
        _ text: String, file: String, header: [String], inputIndex: Int, filters: [RowFilter]
    ) throws -> ([FitRow], [String], Int) {
        let measured: [MeasurementRow]
        do { measured = try MeasurementsFile.parse(text, source: file) } catch {
            throw FitInputError(input: file, "\(error)")
        }
        var rows: [FitRow] = []
        var excluded = 0
        for (offset, row) in measured.enumerated() {
            let line = offset + 2
            let record = Dictionary(uniqueKeysWithValues: zip(MeasurementRow.columns, row.fields))
            if !row.status.isOK || filters.contains(where: { record[$0.column] == $0.value }) {
                excluded += 1
                continue
            }
            guard let ms = row.medianMs, ms.isFinite, ms > 0 else {
                throw FitInputError(
                    input: file, row: line, column: "median_ms",
                    "expected a positive finite time in milliseconds, got '\(record["median_ms"] ?? "")'")
            }
            var carried: [String: String] = [:]
            for name in header where !modelColumns.contains(name) { carried[name] = record[name] ?? "" }
            rows.append(FitRow(shape: row.shape, timeMs: ms, carried: carried, input: inputIndex, row: line))
        }
        return (rows, header, excluded)
    }

    private static func parse(
        _ text: String, file: String, runDirectory: Bool, inputIndex: Int,
        filters: [RowFilter]
    ) throws -> ([FitRow], [String], Int) {
        if let problem = CSVLimits.problem(in: text) { throw FitInputError(input: file, row: 1, problem) }
        let reader: CSVReader
        do { reader = try CSVReader(string: text, hasHeaderRow: true) } catch {
            throw FitInputError(input: file, row: 1, "not a CSV file with a header row (\(error))")
        }
        let header = (reader.headerRow ?? []).map { $0.trimmingCharacters(in: .whitespaces) }
        if let (name, column) = CSVLimits.duplicateColumn(header) {
            throw FitInputError(input: file, row: 1, "column \(column): the header names '\(name)' a second time")
        }
        // A run directory's measurements.csv, or a CSV in its format (a replication package's data/):
        // time = median_ms of the rows whose status is ok.
        if MeasurementsFile.isMeasurementsHeader(header) && !header.contains("time_ms") {
            return try measurementRows(text, file: file, header: header, inputIndex: inputIndex, filters: filters)
        }
        let columns = try PlainColumns(header: header, file: file, runDirectory: runDirectory, filters: filters)
        var rows: [FitRow] = []
        var excluded = 0
        var line = 1
        while let fields = reader.next() {
            line += 1
            if fields.count == 1 && fields[0].trimmingCharacters(in: .whitespaces).isEmpty { continue }
            if let row = try columns.row(fields, line: line, input: inputIndex) {
                rows.append(row)
            } else {
                excluded += 1
            }
        }
        if let error = reader.error {
            throw FitInputError(input: file, row: line + 1, "malformed CSV (\(error))")
        }
        return (rows, header, excluded)
    }

    /// Where a plain CSV (or one in the measurements format without its full header) keeps
    /// what the fit reads, and how one of its rows becomes a ``FitRow``.
    private struct PlainColumns {
        var file: String
        var header: [String]
        var index: [String: Int] = [:]
        var h, w, cin, cout, time: Int
        /// `time_ms`, or `median_ms` in the measurements format.
        var timeColumn: String
        var kernel: (Int, Int)
        var batch, status: Int?
        /// The filters' columns present, with the value each excludes.
        var filters: [(Int, String)]

        init(header: [String], file: String, runDirectory: Bool, filters: [RowFilter]) throws {
            var index: [String: Int] = [:]
            for (i, name) in header.enumerated() where index[name] == nil { index[name] = i }
            func require(_ name: String) throws -> Int {
                guard let i = index[name] else {
                    throw FitInputError(
                        input: file, row: 1, column: name, "missing column (header: \(header.joined(separator: ",")))")
                }
                return i
            }
            let measurementsFormat =
                runDirectory || (index["time_ms"] == nil && index["median_ms"] != nil && index["status"] != nil)
            timeColumn = measurementsFormat ? "median_ms" : "time_ms"
            (h, w, cin, cout) = (try require("H"), try require("W"), try require("Cin"), try require("Cout"))
            time = try require(timeColumn)
            if let k1 = index["K1"], let k2 = index["K2"] {
                kernel = (k1, k2)
            } else if let k = index["K"] {
                kernel = (k, k)
            } else {
                throw FitInputError(
                    input: file, row: 1, column: index["K1"] == nil ? "K1" : "K2",
                    "missing column: give K (a square K×K kernel) or both K1 and K2")
            }
            batch = index["batch"]
            status = measurementsFormat ? try require("status") : nil
            self.filters = filters.compactMap { f in index[f.column].map { ($0, f.value) } }
            (self.file, self.header, self.index) = (file, header, index)
        }

        /// The row at `line`, or nil when its status is not ok or a filter excludes it.
        func row(_ fields: [String], line: Int, input: Int) throws -> FitRow? {
            func field(_ i: Int) -> String {
                i < fields.count ? fields[i].trimmingCharacters(in: .whitespaces) : ""
            }
            if let status, ConfigurationStatus(text: field(status)) != .ok { return nil }
            if filters.contains(where: { field($0.0) == $0.1 }) { return nil }
            func size(_ i: Int) throws -> Int {
                let text = field(i)
                guard
                    let value = Int(text)
                        ?? Double(text).flatMap({ $0.rounded() == $0 && abs($0) < 1e15 ? Int($0) : nil }),
                    value > 0
                else {
                    throw FitInputError(
                        input: file, row: line, column: header[i], "expected a positive integer, got '\(text)'")
                }
                return value
            }
            var shape = ConvShape(
                batch: try batch.map { try size($0) } ?? 1, height: try size(h), width: try size(w),
                inputChannels: try size(cin), outputChannels: try size(cout), kernelHeight: try size(kernel.0),
                kernelWidth: try size(kernel.1))
            do { try shape.readGeometry { index[$0].map(field) } } catch {
                throw FitInputError(input: file, row: line, column: error.column, error.problem)
            }
            do { try shape.validateGeometry() } catch {
                throw FitInputError(input: file, row: line, column: "layer", "\(shape): \(error.description)")
            }
            let timeText = field(time)
            guard let ms = Double(timeText), ms.isFinite, ms > 0 else {
                throw FitInputError(
                    input: file, row: line, column: timeColumn,
                    "expected a positive finite time in milliseconds, got '\(timeText)'")
            }
            var carried: [String: String] = [:]
            for (i, name) in header.enumerated() where !modelColumns.contains(name) && carried[name] == nil {
                carried[name] = field(i)
            }
            return FitRow(shape: shape, timeMs: ms, carried: carried, input: input, row: line)
        }
    }
}
