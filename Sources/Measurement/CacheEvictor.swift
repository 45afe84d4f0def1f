#if canImport(Glibc)
    import Glibc
#endif

/// Evicts the caches between runs (`--cache cold`) by writing a buffer twice the size of the
/// last-level cache, one store per cache line; called outside the timed region.
public final class CacheEvictor {
    /// The bytes written on each eviction.
    public let bytes: Int
    private let buffer: UnsafeMutablePointer<UInt8>
    private var round: UInt8 = 0

    /// A buffer of twice `lastLevelCacheBytes` (at least 64 MiB if hwloc reports no cache).
    public convenience init(lastLevelCacheBytes: Int) {
        self.init(bytes: CacheEvictor.bytes(lastLevelCacheBytes: lastLevelCacheBytes))
    }

    /// A buffer of `bytes` (as another process's evictor chose: ``bytes``).
    public init(bytes: Int) {
        self.bytes = bytes
        buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: bytes)
        buffer.initialize(repeating: 0, count: bytes)
    }

    deinit { buffer.deallocate() }

    /// The bytes an evictor writes for a last-level cache of `lastLevelCacheBytes` (twice the
    /// cache; 64 MiB where its size is unknown).
    public static func bytes(lastLevelCacheBytes: Int) -> Int {
        lastLevelCacheBytes > 0 ? 2 * lastLevelCacheBytes : 64 << 20
    }

    /// Writes one byte of every 64-byte line of the buffer; the lines written.
    @discardableResult
    public func evict() -> Int {
        round &+= 1
        var i = 0
        var lines = 0
        while i < bytes {
            buffer[i] = round
            i += 64
            lines += 1
        }
        return lines
    }

    /// The eviction whose store the line `line` holds (tests: every line is written each time).
    func lastEviction(ofLine line: Int) -> UInt8 { buffer[line * 64] }
}
