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

/// The shape a CSV file convsweep reads may have: a hostile file (a million columns, a line of
/// gigabytes, a header naming a column twice) is refused before any reader builds records of it.
public enum CSVLimits {
    /// The most columns a line may have.
    public static let maximumColumns = 512
    /// The longest a line may be, in bytes.
    public static let maximumLineBytes = 1 << 16

    /// Why `text` is beyond the limits (`line N: …`), nil when it is within them. Quoted fields
    /// count as one column whatever commas or line breaks they hold.
    public static func problem(in text: String) -> String? {
        var line = 1
        var columns = 1
        var lineBytes = 0
        var quoted = false
        for byte in text.utf8 {
            lineBytes += 1
            if lineBytes > maximumLineBytes {
                return "line \(line) is longer than \(maximumLineBytes) bytes"
            }
            switch byte {
            case UInt8(ascii: "\""): quoted.toggle()
            case UInt8(ascii: ",") where !quoted:
                columns += 1
                if columns > maximumColumns { return "line \(line) has more than \(maximumColumns) columns" }
            case UInt8(ascii: "\n"):
                line += 1
                if !quoted {
                    columns = 1
                    lineBytes = 0
                }
            default: break
            }
        }
        return nil
    }

    /// The first column `header` names twice, with its position (1-based) the second time.
    public static func duplicateColumn(_ header: [String]) -> (name: String, column: Int)? {
        var seen = Set<String>()
        for (index, name) in header.enumerated() where !seen.insert(name).inserted { return (name, index + 1) }
        return nil
    }
}
