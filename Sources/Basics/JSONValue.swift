import Foundation

/// A JSON value, kept as read: what a manifest records of a setting declared by name rather than
/// by a Swift field (``RunSettingDeclaration`` in Runner), compared and written back unchanged.
///
/// Numbers keep their kind: an integer that fits `Int64` (or `UInt64`) stays an integer, anything
/// else is a `Double`, so that a seed of 2^63 or a share of 0.1 reads back as it was written.
public enum JSONValue: Codable, Hashable, Sendable, CustomStringConvertible {
    /// `true` or `false`.
    case bool(Bool)
    /// An integer that fits `Int64`.
    case int(Int64)
    /// An integer above `Int64.max` that fits `UInt64`.
    case unsigned(UInt64)
    /// Any other number.
    case double(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object.
    case object([String: JSONValue])

    /// Reads any JSON value but `null` (a setting that is not set is absent, never `null`).
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(UInt64.self) {
            self = .unsigned(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expected a boolean, number, string, array or object")
        }
    }

    /// Writes the value as it was read.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .unsigned(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The value of `value` as JSON would hold it (nil for a value that encodes to `null` or fails).
    public init?<T: Encodable>(encoding value: T) {
        guard let data = try? JSONEncoder().encode([value]),
            let decoded = try? JSONDecoder().decode([JSONValue].self, from: data), decoded.count == 1
        else { return nil }
        self = decoded[0]
    }

    /// The value as a `T` (nil when it is not one).
    public func decoded<T: Decodable>(as type: T.Type = T.self) -> T? {
        guard let data = try? JSONEncoder().encode([self]) else { return nil }
        return (try? JSONDecoder().decode([T].self, from: data))?.first
    }

    /// Compact JSON text, keys sorted: how messages show the value.
    public var description: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode([self]) else { return "?" }
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}
