import Sweeps

/// The profile a package states: the shipped profile its runs measured, or `custom` for a package
/// built from runs of other sweeps. Written in package.json and the README as its name.
public enum PackageProfile: Hashable, Sendable, CustomStringConvertible, Codable {
    /// The runs measured a shipped profile's sweeps.
    case shipped(ShippedSweeps.Profile)
    /// The runs measured other sweeps.
    case custom

    /// Every profile a package may state, shipped ones first.
    public static let all: [PackageProfile] = ShippedSweeps.Profile.allCases.map(Self.shipped) + [.custom]

    /// The profile named `name` (`quick`, `paper`, `full`, `networks` or `custom`), nil for another name.
    public init?(name: String) {
        if name == "custom" {
            self = .custom
        } else if let profile = ShippedSweeps.Profile(rawValue: name) {
            self = .shipped(profile)
        } else {
            return nil
        }
    }

    /// The profile's name.
    public var description: String {
        switch self {
        case .shipped(let profile): profile.rawValue
        case .custom: "custom"
        }
    }

    /// Reads the profile's name; a name that is not a profile is an error naming the ones that are.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let profile = PackageProfile(name: name) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription:
                    "'\(name)' is not a profile (known: \(Self.all.map(\.description).joined(separator: ", ")))")
        }
        self = profile
    }

    /// Writes the profile's name.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
