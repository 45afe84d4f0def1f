import COpenSSL
import Foundation

/// SHA-256 of a stream of bytes, with OpenSSL's libcrypto (the system's, as OpenBLAS and hwloc
/// are): feed it with ``update(_:)``, read the digest once with ``finalize()``.
public final class SHA256Hasher {
    private let context: OpaquePointer

    /// A hasher of no bytes yet.
    public init() {
        guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            fatalError("libcrypto cannot start a SHA-256 digest")
        }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Adds `data` to the bytes hashed.
    public func update(_ data: some DataProtocol) {
        for region in data.regions {
            region.withUnsafeBytes { bytes in
                _ = EVP_DigestUpdate(context, bytes.baseAddress, bytes.count)
            }
        }
    }

    /// The 32 bytes of the digest of everything added.
    public func finalize() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(context, &digest, &length) == 1 else {
            fatalError("libcrypto cannot finish a SHA-256 digest")
        }
        return Array(digest.prefix(Int(length)))
    }

    /// The digest of `data`.
    public static func hash(_ data: some DataProtocol) -> [UInt8] {
        let hasher = SHA256Hasher()
        hasher.update(data)
        return hasher.finalize()
    }
}

/// SHA-256 digests as lower-case hex, the form manifests, fits and SHA256SUMS record.
public enum SHA256Hex {
    /// The hex SHA-256 of `data`.
    public static func of(_ data: some DataProtocol) -> String { hex(SHA256Hasher.hash(data)) }

    /// The hex SHA-256 of the UTF-8 bytes of `text`.
    public static func of(_ text: String) -> String { of(Data(text.utf8)) }

    /// A digest (from ``SHA256Hasher``) as hex.
    public static func hex(_ digest: [UInt8]) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}

/// A hash of strings that is the same in every process, build and Swift version
/// (unlike `Hasher`, which is seeded per process): the first 8 bytes of SHA-256, big-endian.
public enum StableHash {
    /// The hash of `text`.
    public static func of(_ text: String) -> UInt64 {
        SHA256Hasher.hash(Array(text.utf8)).prefix(8).reduce(0) { ($0 << 8) | UInt64($1) }
    }
}
