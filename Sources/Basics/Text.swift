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

/// A JSON file's decoding error in words: the field's path and what is wrong with it (`sweeps[3].
/// sha256: missing`, `machine.caches[0].count: expected a number`), or that the file is not JSON.
public enum DecodingProblem {
    /// `error` (a `DecodingError`, or another error as it describes itself) in words.
    public static func describe(_ error: any Error) -> String {
        guard let decoding = error as? DecodingError else { return "\(error)" }
        if case let .dataCorrupted(context) = decoding, context.codingPath.isEmpty { return "not valid JSON" }
        let (field, message) = parts(decoding)
        return "\(field ?? "the top level"): \(message)"
    }

    /// `error` as the field's path (nil at the top level, or for a file that is not JSON) and what
    /// is wrong with it.
    public static func parts(_ error: any Error) -> (field: String?, message: String) {
        func path(_ codingPath: [any CodingKey], _ key: (any CodingKey)? = nil) -> String? {
            let keys = codingPath + (key.map { [$0] } ?? [])
            var text = ""
            for key in keys {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += (text.isEmpty ? "" : ".") + key.stringValue
                }
            }
            return text.isEmpty ? nil : text
        }
        guard let decoding = error as? DecodingError else { return (nil, "\(error)") }
        switch decoding {
        case let .keyNotFound(key, context): return (path(context.codingPath, key), "missing")
        case let .typeMismatch(type, context): return (path(context.codingPath), "expected \(type)")
        case let .valueNotFound(type, context): return (path(context.codingPath), "expected \(type), found null")
        case let .dataCorrupted(context):
            return context.codingPath.isEmpty
                ? (nil, "not valid JSON") : (path(context.codingPath), context.debugDescription)
        @unknown default: return (nil, "\(error)")
        }
    }
}

/// The C library's words for error number `code` (`strerror`), for messages.
public func errorText(_ code: Int32 = errno) -> String {
    String(validatingCString: strerror(code)) ?? "error \(code)"
}

extension String {
    /// The text of a NUL-terminated C buffer (up to its first NUL), invalid UTF-8 repaired.
    public init(nulTerminated buffer: [CChar]) {
        let bytes = buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }
        self.init(decoding: bytes, as: UTF8.self)
    }
}
