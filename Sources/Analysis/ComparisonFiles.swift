import Basics
import Foundation

/// compare.csv and compare.json, as `convsweep compare --out` and a package's `compare/` hold them
/// (docs/analysis.md).
public enum ComparisonFiles {
    /// The columns of compare.csv.
    public static let columns = [
        "config_id", "experiment", "series", "flops", "time_a_ms", "time_b_ms", "ratio", "ratio_low", "ratio_high",
        "verdict", "rounds_a", "rounds_b",
    ]

    /// The file names in a comparison's directory.
    public static let jsonFile = "compare.json", csvFile = "compare.csv"

    /// How compare.json spells what JSON has no number for (a group of one configuration has no
    /// interval): `"inf"`, `"-inf"`, `"nan"`.
    static let nonConforming = (positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")

    /// compare.json's bytes: sorted keys, pretty-printed, NaN as `"nan"`.
    public static func jsonData(_ comparison: RunComparison) throws -> Data { try encoded(comparison) }

    /// `value` (a comparison or a part of one) as compare.json writes it.
    public static func encoded<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: nonConforming.positiveInfinity, negativeInfinity: nonConforming.negativeInfinity,
            nan: nonConforming.nan)
        return try encoder.encode(value)
    }

    /// The decoder of compare.json: reads back what ``jsonData(_:)`` writes, `"nan"` included.
    public static var jsonDecoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: nonConforming.positiveInfinity, negativeInfinity: nonConforming.negativeInfinity,
            nan: nonConforming.nan)
        return decoder
    }

    /// compare.csv's text: one row a configuration, in the comparison's order.
    public static func csvText(_ comparison: RunComparison) -> String {
        let rows = comparison.configurations.map { c in
            [
                c.configID, c.experiment, c.series, String(format: "%.0f", c.flops), "\(c.timeAMs)", "\(c.timeBMs)",
                "\(c.ratio)", "\(c.low)", "\(c.high)", c.verdict.rawValue, "\(c.roundsA)", "\(c.roundsB)",
            ]
        }
        return CSVText.text(header: columns, rows: rows)
    }

    /// Writes compare.csv and compare.json into `directory` (which must exist).
    public static func write(_ comparison: RunComparison, to directory: URL) throws {
        try jsonData(comparison).write(to: directory.appendingPathComponent(jsonFile), options: .atomic)
        try Data(csvText(comparison).utf8).write(to: directory.appendingPathComponent(csvFile), options: .atomic)
    }

    /// The columns of compare-networks.csv.
    public static let networkColumns = [
        "network", "time_a_ms", "a_low_ms", "a_high_ms", "time_b_ms", "b_low_ms", "b_high_ms", "ratio",
    ]

    /// Writes compare-networks.csv into `directory`: one row a network both runs hold.
    public static func write(_ transfer: NetworkTransfer, to directory: URL) throws {
        let rows = transfer.rows.map { r in
            [r.network]
                + [
                    r.a.milliseconds, r.a.lowMilliseconds, r.a.highMilliseconds, r.b.milliseconds, r.b.lowMilliseconds,
                    r.b.highMilliseconds, r.ratio,
                ].map { "\($0)" }
        }
        try Data(CSVText.text(header: networkColumns, rows: rows).utf8).write(
            to: directory.appendingPathComponent("compare-networks.csv"), options: .atomic)
    }
}
