/// Why a sweep file cannot be loaded: where, which field, and what is wrong.
///
/// Its ``description`` is one line, `FILE:LINE:COLUMN: FIELD: MESSAGE`, the form compilers use, so
/// editors can jump to it. Line and column start at 1 and are absent when the problem has no place
/// in the file (for instance a file that cannot be read).
public struct SweepError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file, as it was given to ``Sweep/load(path:)``.
    public var file: String
    /// The line of the offending YAML node, from 1.
    public var line: Int?
    /// The column of the offending YAML node, from 1 (counted in Unicode scalars, as Yams does).
    public var column: Int?
    /// The field, as a path from the top of the file, e.g. `series[2].H`.
    public var field: String?
    /// What is wrong, in words.
    public var message: String

    /// An error in `file`, at `line`:`column` when known, in `field` when there is one.
    public init(file: String, line: Int? = nil, column: Int? = nil, field: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    /// `FILE:LINE:COLUMN: FIELD: MESSAGE` on one line (parts that are unknown left out).
    public var description: String {
        var place = file
        if let line {
            place += ":\(line)"
            if let column { place += ":\(column)" }
        }
        let field = self.field.map { "\($0): " } ?? ""
        return "\(place): \(field)\(message)"
    }
}
