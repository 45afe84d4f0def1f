import Basics
import COpenBLAS

/// Facts about, and settings of, the OpenBLAS library convsweep links against.
public enum OpenBLAS {
    /// The version string compiled into the headers, e.g. `0.3.21`.
    public static var version: String {
        // openblas_get_config() starts with "OpenBLAS <version> ...".
        let words = config.split(separator: " ")
        if words.count >= 2, words[0] == "OpenBLAS" { return String(words[1]) }
        return "unknown"
    }

    /// The build configuration string, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64`.
    public static var config: String {
        guard let cString = openblas_get_config() else { return "unknown" }
        return String(cString: cString).trimmed
    }

    /// The name of the kernel set OpenBLAS chose for this CPU, e.g. `Cooperlake`.
    public static var coreName: String {
        guard let cString = openblas_get_corename() else { return "unknown" }
        return String(cString: cString).trimmed
    }

    /// The threading model: `sequential`, `pthreads` or `openmp`.
    public static var parallelism: String {
        switch openblas_get_parallel() {
        case 0: return "sequential"
        case 1: return "pthreads"
        case 2: return "openmp"
        default: return "unknown"
        }
    }

    /// The number of threads OpenBLAS uses for one call.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// The number of processors OpenBLAS detected when it loaded.
    public static var processorCount: Int { Int(openblas_get_num_procs()) }

    /// Sets the number of threads OpenBLAS uses for one call.
    public static func setThreadCount(_ count: Int) {
        openblas_set_num_threads(Int32(count))
    }
}

/// A memory stream through OpenBLAS's `cblas_saxpy` (y ← a·x + y: two arrays read, one written),
/// on arrays far larger than the caches: the streaming bandwidth of a core.
public final class StreamAxpy {
    /// Elements of each array.
    public let count: Int
    private var x: [Float]
    private var y: [Float]

    /// Two arrays of `count` floats.
    public init(count: Int) {
        self.count = count
        x = [Float](repeating: 1, count: count)
        y = [Float](repeating: 0, count: count)
    }

    /// Bytes one pass moves: x and y read, y written.
    public var bytes: Double { 3 * Double(count) * Double(MemoryLayout<Float>.stride) }

    /// One pass.
    public func run() { cblas_saxpy(Int32(count), 1e-3, x, 1, &y, 1) }
}

/// One plain row-major `cblas_sgemm` C = A·B of M×K by K×N float32 matrices with seeded values in
/// [−1, 1]: the peer a conv2d is compared with (M = Cout, N = H·W, K = Cin·K1·K2 on an already
/// lowered input), and the large square product that sets a machine's rate.
public final class PlainSgemm {
    /// Rows of A and C.
    public let m: Int
    /// Columns of B and C.
    public let n: Int
    /// Columns of A, rows of B.
    public let k: Int
    private var a: [Float]
    private var b: [Float]
    private var c: [Float]

    /// Allocates and fills the matrices of an `m`×`k` by `k`×`n` product.
    public init(m: Int, n: Int, k: Int, seed: UInt64 = 2) {
        self.m = m
        self.n = n
        self.k = k
        var generator = SplitMix64(seed: seed)
        b = (0..<k * n).map { _ in generator.nextUnitFloat() }
        a = (0..<m * k).map { _ in generator.nextUnitFloat() }
        c = [Float](repeating: 0, count: m * n)
    }

    /// The sgemm that stands for `shape`'s convolution on an already lowered input.
    public convenience init(loweredConvolutionOf shape: ConvShape) {
        self.init(
            m: shape.outputChannels, n: shape.spatialSize, k: shape.depth)
    }

    /// FLOPs of one product, 2·M·N·K.
    public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }

    /// Computes the product once.
    public func run() {
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(n), 0,
            &c, Int32(n))
    }
}
