/// Bad input to a fit or a prediction: names the input, the row and the column at fault.
///
/// Rows are numbered as lines of the file: the header is row 1, the first data row is row 2.
/// The command-line front end prints `description` and exits with status 65 (EX_DATAERR).
public struct FitInputError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file, run directory, group or option at fault.
    public var input: String
    /// The row (file line, header = 1), when one row is at fault.
    public var row: Int?
    /// The column (or parameter), when one is at fault.
    public var column: String?
    /// What is wrong, in words.
    public var message: String

    /// An error in `input`, at `row` and `column` when known.
    public init(input: String, row: Int? = nil, column: String? = nil, _ message: String) {
        self.input = input
        self.row = row
        self.column = column
        self.message = message
    }

    /// `input`, row and column, and the message.
    public var description: String {
        var place = input
        if let row { place += ", row \(row)" }
        if let column { place += ", column \(column)" }
        return "\(place): \(message)"
    }
}
