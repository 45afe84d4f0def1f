/// Whether a configuration was (or is to be) measured, and if not, why.
///
/// In files (the `status` column of sweep CSVs, measurements.csv and a package's data) it is
/// written as ``text``: `ok`, or a kind and its reason, `dropped: FLOPs 2.1e10 > 1e10`. This type
/// is the one place that text is written and read.
public enum ConfigurationStatus: Hashable, Sendable, CustomStringConvertible {
    /// Measured, or to be measured.
    case ok
    /// Left out by a limit of its sweep file.
    case dropped(String)
    /// The shape cannot be run (the runner's check refused it).
    case impossible(String)
    /// Its tensors and workspace do not fit in the memory available when it came up.
    case outOfMemory(String)
    /// Its output did not match the reference at a sampled position.
    case failedVerification(String)

    private static let okText = "ok"
    private static let kinds: [(String, @Sendable (String) -> ConfigurationStatus)] = [
        ("dropped", { .dropped($0) }), ("impossible", { .impossible($0) }), ("out of memory", { .outOfMemory($0) }),
        ("failed verification", { .failedVerification($0) }),
    ]

    /// Reads the status from its ``text``; nil for a text of no known kind.
    public init?(text: String) {
        if text == ConfigurationStatus.okText {
            self = .ok
            return
        }
        for (kind, make) in ConfigurationStatus.kinds where text.hasPrefix(kind + ": ") {
            self = make(String(text.dropFirst(kind.count + 2)))
            return
        }
        return nil
    }

    /// Whether the configuration is measured.
    public var isOK: Bool { self == .ok }

    /// The text written to files: `ok`, or `kind: reason`.
    public var text: String {
        switch self {
        case .ok: return ConfigurationStatus.okText
        case .dropped(let reason): return "dropped: \(reason)"
        case .impossible(let reason): return "impossible: \(reason)"
        case .outOfMemory(let reason): return "out of memory: \(reason)"
        case .failedVerification(let reason): return "failed verification: \(reason)"
        }
    }

    /// The same as ``text``.
    public var description: String { text }
}

extension ConfigurationStatus: Codable {
    /// Decodes the status from its ``text``.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let status = ConfigurationStatus(text: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "unknown status '\(text)'"))
        }
        self = status
    }

    /// Encodes the status as its ``text``.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}
