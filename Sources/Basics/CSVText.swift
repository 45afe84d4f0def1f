/// Writing CSV (RFC 4180): the one writer of every CSV file convsweep produces.
///
/// A field holding a comma, a quote or a line break is quoted, its quotes doubled; lines end
/// with `\n`.
public enum CSVText {
    /// `text` as one CSV field.
    public static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `fields` as one CSV line, newline included.
    public static func line(_ fields: [String]) -> String { fields.map(field).joined(separator: ",") + "\n" }

    /// A header and rows as CSV text.
    public static func text(header: [String], rows: [[String]]) -> String {
        line(header) + rows.map(line).joined()
    }
}
