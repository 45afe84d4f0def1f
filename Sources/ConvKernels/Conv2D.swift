import COpenBLAS

#if canImport(Glibc)
    import Glibc
#endif

/// Wall time spent in each phase of one forward pass, in seconds.
public struct PhaseTimes: Hashable, Sendable {
    /// Time spent building the lowered (im2col) matrix; zero for algorithms without lowering.
    public var lowering: Double = 0
    /// Time spent in `cblas_sgemm` (or the direct loops, for `reference`).
    public var gemm: Double = 0
    /// Number of GEMM tiles the pass was split into.
    public var tiles: Int = 0

    public init(lowering: Double = 0, gemm: Double = 0, tiles: Int = 0) {
        self.lowering = lowering
        self.gemm = gemm
        self.tiles = tiles
    }
}

/// Why a ``Conv2D`` cannot be prepared.
public enum Conv2DError: Error, Equatable, CustomStringConvertible {
    case invalidShape(ConvShapeError)
    case unsupported(algorithm: ConvAlgorithm, shape: ConvShape)
    case invalidWorkspaceLimit(Int)

    public var description: String {
        switch self {
        case let .invalidShape(error): return error.description
        case let .unsupported(algorithm, shape):
            return "algorithm \(algorithm) cannot compute \(shape) (gemm-1x1 needs a 1x1 kernel)"
        case let .invalidWorkspaceLimit(limit):
            return "the workspace limit must be positive (got \(limit) bytes)"
        }
    }
}

/// One conv2d forward configuration, with its tensors allocated and ready to run repeatedly.
///
/// The tensors are owned by the instance, 64-byte aligned, and filled with seeded pseudo-random
/// values in [−1, 1] by ``fillRandom(seed:)``. ``run()`` computes `output` from `input` and
/// `weights` with the chosen algorithm and reports the time of each phase.
public final class Conv2D {
    /// The configuration.
    public let shape: ConvShape
    /// The algorithm actually used (`auto` resolved).
    public let algorithm: ConvAlgorithm
    /// The largest lowered buffer, in bytes, the algorithm may allocate (default 256 MiB).
    public let workspaceLimit: Int
    /// Output rows (of one image) lowered and multiplied per GEMM call.
    public let rowsPerTile: Int

    /// The input tensor, NCHW.
    public let input: UnsafeMutableBufferPointer<Float>
    /// The weight tensor, [Cout][Cin][K1][K2].
    public let weights: UnsafeMutableBufferPointer<Float>
    /// The output tensor, NCHW.
    public let output: UnsafeMutableBufferPointer<Float>
    /// The im2col buffer (empty for algorithms that do not lower).
    public let workspace: UnsafeMutableBufferPointer<Float>

    /// The default workspace limit: 256 MiB.
    public static let defaultWorkspaceLimit = 256 << 20

    /// Prepares `shape` for `algorithm`, allocating its tensors (zero-filled).
    ///
    /// - Parameter workspaceLimit: the largest im2col buffer in bytes; when the whole lowered
    ///   matrix of one image would be larger, it is lowered and multiplied in tiles of output rows.
    public init(
        shape: ConvShape, algorithm: ConvAlgorithm = .auto,
        workspaceLimit: Int = Conv2D.defaultWorkspaceLimit
    ) throws(Conv2DError) {
        do { try shape.validate() } catch { throw .invalidShape(error) }
        guard workspaceLimit > 0 else { throw .invalidWorkspaceLimit(workspaceLimit) }
        let algorithm = algorithm.resolved(for: shape)
        guard algorithm.supports(shape) else { throw .unsupported(algorithm: algorithm, shape: shape) }
        self.shape = shape
        self.algorithm = algorithm
        self.workspaceLimit = workspaceLimit
        let plan = Conv2D.plan(shape: shape, algorithm: algorithm, workspaceLimit: workspaceLimit)
        self.rowsPerTile = plan.rowsPerTile
        self.input = Conv2D.allocate(shape.inputCount)
        self.weights = Conv2D.allocate(shape.weightCount)
        self.output = Conv2D.allocate(shape.outputCount)
        self.workspace = Conv2D.allocate(plan.workspaceElements)
    }

    deinit {
        for buffer in [input, weights, output, workspace] where buffer.baseAddress != nil {
            free(buffer.baseAddress)
        }
    }

    /// The tiling `Conv2D` would use for `shape`: output rows per tile and workspace elements.
    public static func plan(
        shape: ConvShape, algorithm: ConvAlgorithm, workspaceLimit: Int = defaultWorkspaceLimit
    ) -> (rowsPerTile: Int, workspaceElements: Int) {
        let algorithm = algorithm.resolved(for: shape)
        guard algorithm == .im2colGemm else { return (shape.height, 0) }
        let rowElements = shape.inputChannels * shape.kernelSize * shape.width
        let rowBytes = rowElements * MemoryLayout<Float>.stride
        let rows = max(1, min(shape.height, workspaceLimit / max(rowBytes, 1)))
        return (rows, rows * rowElements)
    }

    /// The accounting of this configuration, workspace included.
    public var accounting: Accounting {
        Accounting(shape: shape, workspaceBytes: workspace.count * MemoryLayout<Float>.stride)
    }

    private static func allocate(_ count: Int) -> UnsafeMutableBufferPointer<Float> {
        guard count > 0 else { return UnsafeMutableBufferPointer(start: nil, count: 0) }
        var raw: UnsafeMutableRawPointer?
        let status = posix_memalign(&raw, 64, count * MemoryLayout<Float>.stride)
        precondition(status == 0 && raw != nil, "out of memory allocating \(count) floats")
        let typed = raw!.bindMemory(to: Float.self, capacity: count)
        typed.initialize(repeating: 0, count: count)
        return UnsafeMutableBufferPointer(start: typed, count: count)
    }

    /// Fills input and weights with reproducible pseudo-random values in [−1, 1].
    public func fillRandom(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        for buffer in [input, weights] {
            for i in buffer.indices { buffer[i] = generator.nextUnitFloat() }
        }
    }

    /// Computes the forward pass into ``output`` and returns the time of each phase.
    @discardableResult
    public func run() -> PhaseTimes {
        switch algorithm {
        case .im2colGemm: return runIm2colGemm()
        case .gemm1x1: return runGemm1x1()
        case .reference: return runReference()
        case .auto: fatalError("auto is resolved in init")
        }
    }

    /// The exact value of one output element, computed directly in double precision.
    public func referenceValue(image n: Int, channel co: Int, y: Int, x: Int) -> Double {
        let s = shape
        var sum = 0.0
        for c in 0..<s.inputChannels {
            for i in 0..<s.kernelHeight {
                let iy = y + i - s.padTop
                if iy < 0 || iy >= s.height { continue }
                for j in 0..<s.kernelWidth {
                    let ix = x + j - s.padLeft
                    if ix < 0 || ix >= s.width { continue }
                    let a = input[((n * s.inputChannels + c) * s.height + iy) * s.width + ix]
                    let w = weights[((co * s.inputChannels + c) * s.kernelHeight + i) * s.kernelWidth + j]
                    sum += Double(a) * Double(w)
                }
            }
        }
        return sum
    }

    // MARK: - Algorithms

    private func runReference() -> PhaseTimes {
        let start = MonotonicClock.now()
        let s = shape
        for n in 0..<s.batch {
            for co in 0..<s.outputChannels {
                for y in 0..<s.height {
                    for x in 0..<s.width {
                        output[((n * s.outputChannels + co) * s.height + y) * s.width + x] =
                            Float(referenceValue(image: n, channel: co, y: y, x: x))
                    }
                }
            }
        }
        return PhaseTimes(lowering: 0, gemm: MonotonicClock.now() - start, tiles: 0)
    }

    private func runGemm1x1() -> PhaseTimes {
        let s = shape
        let start = MonotonicClock.now()
        let hw = s.spatialSize
        for n in 0..<s.batch {
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans,
                Int32(s.outputChannels), Int32(hw), Int32(s.inputChannels),
                1, weights.baseAddress, Int32(s.inputChannels),
                input.baseAddress! + n * s.inputChannels * hw, Int32(hw),
                0, output.baseAddress! + n * s.outputChannels * hw, Int32(hw))
        }
        return PhaseTimes(lowering: 0, gemm: MonotonicClock.now() - start, tiles: s.batch)
    }

    private func runIm2colGemm() -> PhaseTimes {
        let s = shape
        var times = PhaseTimes()
        let hw = s.spatialSize
        let depth = s.inputChannels * s.kernelSize
        for n in 0..<s.batch {
            let image = UnsafePointer(input.baseAddress! + n * s.inputChannels * hw)
            let out = output.baseAddress! + n * s.outputChannels * hw
            var y0 = 0
            while y0 < s.height {
                let rows = min(rowsPerTile, s.height - y0)
                let columns = rows * s.width
                let t0 = MonotonicClock.now()
                lower(image: image, firstRow: y0, rows: rows)
                let t1 = MonotonicClock.now()
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasNoTrans,
                    Int32(s.outputChannels), Int32(columns), Int32(depth),
                    1, weights.baseAddress, Int32(depth),
                    workspace.baseAddress, Int32(columns),
                    0, out + y0 * s.width, Int32(hw))
                let t2 = MonotonicClock.now()
                times.lowering += t1 - t0
                times.gemm += t2 - t1
                times.tiles += 1
                y0 += rows
            }
        }
        return times
    }

    /// Writes the im2col matrix of output rows `firstRow ..< firstRow + rows` into the workspace.
    ///
    /// Row `(c, i, j)` of the lowered matrix holds, for each output position (y, x) of the tile,
    /// the input value at `(c, y + i − padTop, x + j − padLeft)`, or zero outside the input. Each
    /// (row, y) pair is one contiguous copy with the zero borders written outside the copy.
    private func lower(image: UnsafePointer<Float>, firstRow: Int, rows: Int) {
        let s = shape
        let w = s.width
        let columns = rows * w
        var dst = workspace.baseAddress!
        for c in 0..<s.inputChannels {
            let plane = image + c * s.spatialSize
            for i in 0..<s.kernelHeight {
                for j in 0..<s.kernelWidth {
                    let shift = j - s.padLeft
                    // Valid x: 0 <= x + shift < w.
                    let xStart = max(0, -shift)
                    let xEnd = min(w, w - shift)
                    for r in 0..<rows {
                        let row = dst + r * w
                        let iy = firstRow + r + i - s.padTop
                        if iy < 0 || iy >= s.height || xStart >= xEnd {
                            row.update(repeating: 0, count: w)
                            continue
                        }
                        if xStart > 0 { row.update(repeating: 0, count: xStart) }
                        (row + xStart).update(
                            from: plane + iy * w + xStart + shift, count: xEnd - xStart)
                        if xEnd < w { (row + xEnd).update(repeating: 0, count: w - xEnd) }
                    }
                    dst += columns
                }
            }
        }
    }
}

/// A monotonic clock in seconds (CLOCK_MONOTONIC).
public enum MonotonicClock {
    /// Seconds since an arbitrary fixed point.
    @inline(__always)
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}

/// SplitMix64: a small, fast, seedable generator (Steele, Lea, Flood 2014).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A float in [−1, 1].
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) / Float(1 << 24) * 2 - 1
    }
}
