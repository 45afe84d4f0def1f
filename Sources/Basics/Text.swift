import Foundation

extension StringProtocol {
    /// The text without leading and trailing white space and line breaks.
    public var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}

/// Timestamps as manifests record them.
public enum Timestamp {
    /// Now, in ISO 8601 with fractional seconds (UTC).
    public static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
