#if canImport(Glibc)
    import Glibc
#endif

/// The clock of every timing in convsweep: `clock_gettime(CLOCK_MONOTONIC)`.
public enum MonotonicClock {
    /// The name recorded in manifests.
    public static let name = "clock_gettime(CLOCK_MONOTONIC)"

    /// Nanoseconds since an arbitrary fixed point.
    @inline(__always)
    public static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Seconds since the same fixed point as ``nanoseconds()``.
    @inline(__always)
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Seconds `body` takes.
    @inline(__always)
    public static func seconds(_ body: () -> Void) -> Double {
        let start = now()
        body()
        return now() - start
    }

    /// The resolution the kernel reports (`clock_getres`), in nanoseconds.
    public static var reportedResolution: Double {
        var ts = timespec()
        clock_getres(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) * 1e9 + Double(ts.tv_nsec)
    }
}
