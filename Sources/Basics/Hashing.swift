import Crypto
import Foundation

/// SHA-256 digests as lower-case hex, the form manifests, fits and SHA256SUMS record.
public enum SHA256Hex {
    /// The hex SHA-256 of `data`.
    public static func of(_ data: some DataProtocol) -> String {
        hex(SHA256.hash(data: data))
    }

    /// The hex SHA-256 of the UTF-8 bytes of `text`.
    public static func of(_ text: String) -> String { of(Data(text.utf8)) }

    /// A digest (from `SHA256.hash` or a finished `SHA256` hasher) as hex.
    public static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}

/// A hash of strings that is the same in every process, build and Swift version
/// (unlike `Hasher`, which is seeded per process): the first 8 bytes of SHA-256, big-endian.
public enum StableHash {
    /// The hash of `text`.
    public static func of(_ text: String) -> UInt64 {
        let digest = SHA256.hash(data: Array(text.utf8))
        return digest.prefix(8).reduce(0) { ($0 << 8) | UInt64($1) }
    }
}
