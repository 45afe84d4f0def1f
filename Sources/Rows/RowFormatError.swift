/// A file of rows (measurements.csv, rounds.csv, a package's data) that does not read: the file,
/// and the line and column where it can say, with what is wrong.
public struct RowFormatError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The message, naming the file (and line and column where known).
    public var description: String

    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}
