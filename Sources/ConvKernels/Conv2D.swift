import Basics
import COpenBLAS
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Wall time spent in each phase of one forward pass, in seconds.
public struct PhaseTimes: Hashable, Sendable {
    /// Time spent building the lowered (im2col) matrix; zero for algorithms without lowering.
    public var lowering: Double = 0
    /// Time spent in `cblas_sgemm` (or the direct loops, for `reference`).
    public var gemm: Double = 0
    /// Number of `cblas_sgemm` calls (pieces of output rows × input channels) of the pass.
    public var tiles: Int = 0

    /// Phase times in seconds and the number of pieces.
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
    /// oneDNN has no implementation of `algorithm` for `shape` on this CPU.
    case notProvided(algorithm: ConvAlgorithm, shape: ConvShape, reason: String)
    /// This build has no oneDNN backend.
    case backendMissing(algorithm: ConvAlgorithm)

    /// The message.
    public var description: String {
        switch self {
        case let .invalidShape(error): return error.description
        case let .unsupported(algorithm, shape):
            return
                "algorithm \(algorithm) cannot compute \(shape) (\(algorithm.reasonUnsupported(shape) ?? "unsupported"))"
        case let .invalidWorkspaceLimit(limit):
            return "the workspace limit must be positive (got \(limit) bytes)"
        case let .notProvided(algorithm, _, reason):
            return "\(algorithm): \(reason)"
        case let .backendMissing(algorithm):
            return
                "\(algorithm) needs the oneDNN backend, which this build lacks (install libdnnl-dev and build with the default traits)"
        }
    }
}

/// One conv2d forward configuration, with its tensors allocated and ready to run repeatedly.
///
/// The tensors are owned by the instance, 64-byte aligned, and filled with seeded pseudo-random
/// values in [−1, 1] by ``fillRandom(seed:)``. ``run()`` computes `output` from `input` and
/// `weights` with the chosen algorithm and reports the time of each phase.
///
/// ```swift
/// let conv = try Conv2D(shape: ConvShape(height: 100, width: 100, inputChannels: 150,
///                                        outputChannels: 100, kernel: 3))
/// conv.fillRandom(seed: 1)
/// let phases = conv.run()   // phases.lowering, phases.gemm (seconds), phases.tiles
/// ```
public final class Conv2D {
    /// The configuration.
    public let shape: ConvShape
    /// The algorithm actually used (`auto` resolved).
    public let algorithm: ConvAlgorithm
    /// The workspace limit in bytes it was prepared with (default 256 MiB).
    public let workspaceLimit: Int
    /// How `im2col-gemm` splits an image into pieces (meaningless for the other algorithms).
    public let tiling: ConvTiling
    /// Output rows (of one image) lowered and multiplied per GEMM call.
    public var rowsPerTile: Int { tiling.rowsPerTile }

    /// The input tensor, NCHW.
    public let input: UnsafeMutableBufferPointer<Float>
    /// The weight tensor, [Cout][Cin][K1][K2]. After writing it, call ``reloadWeights()``: a
    /// `dnnl-*` algorithm computes from its own copy in its layout.
    public let weights: UnsafeMutableBufferPointer<Float>
    /// The output tensor, NCHW.
    public let output: UnsafeMutableBufferPointer<Float>
    /// The im2col buffer of one piece (empty for algorithms that do not lower).
    public let workspace: UnsafeMutableBufferPointer<Float>
    /// The depthwise kernel's plan (its geometry and workspace), for `depthwise-direct`.
    let depthwisePlan: DepthwisePlan?
    /// The im2col lowering of `im2col-gemm`.
    private let lowering: Lowering?
    /// `im2col-gemm`'s tiles, and the same cut for the team its workspace was made for
    /// (``Tile/cut(_:into:)``): made once, not in every timed run.
    private let tiles: [Tile]
    private let teamTiles: [Tile]
    /// How many threads' workspaces ``workspace`` holds (the team's size when it was made).
    let workspaceCopies: Int
    /// The oneDNN primitive of a `dnnl-*` algorithm.
    private let dnnl: DnnlConvolution?
    /// What oneDNN chose for a `dnnl-*` algorithm (implementation, layouts); nil otherwise.
    public var dnnlChoice: DnnlChoice? { dnnl?.choice }

    /// The default workspace limit: 256 MiB.
    public static let defaultWorkspaceLimit = 256 << 20

    /// Prepares `shape` for `algorithm`, allocating its tensors (zero-filled).
    ///
    /// - Parameters:
    ///   - workspaceLimit: the largest im2col buffer in bytes. The lowered matrix is built and
    ///     multiplied in pieces of output rows × input channels that fit it (one output row of one
    ///     channel is the smallest piece, used even if it exceeds the limit).
    ///   - tiling: a tiling to use instead of the planned one (tests and benchmarks); it is
    ///     clamped to the shape, and the workspace limit does not apply to it.
    public init(
        shape: ConvShape, algorithm: ConvAlgorithm = .auto,
        workspaceLimit: Int = Conv2D.defaultWorkspaceLimit, tiling: ConvTiling? = nil
    ) throws(Conv2DError) {
        do { try shape.validate() } catch { throw .invalidShape(error) }
        guard workspaceLimit > 0 else { throw .invalidWorkspaceLimit(workspaceLimit) }
        let algorithm = algorithm.resolved(for: shape)
        guard algorithm.supports(shape) else { throw .unsupported(algorithm: algorithm, shape: shape) }
        self.shape = shape
        self.algorithm = algorithm
        self.workspaceLimit = workspaceLimit
        let tiling =
            tiling?.clamped(to: shape)
            ?? ConvTiling.planned(for: shape, workspaceLimit: workspaceLimit)
        self.tiling = tiling
        // Planned once here, not in every timed run.
        depthwisePlan = algorithm == .depthwiseDirect ? DepthwisePlan(shape: shape) : nil
        lowering = algorithm == .im2colGemm ? Lowering(shape: shape) : nil
        self.input = Conv2D.allocate(shape.inputCount)
        self.weights = Conv2D.allocate(shape.weightCount)
        self.output = Conv2D.allocate(shape.outputCount)
        // im2col-gemm and depthwise-direct on a team of threads work in a workspace per thread.
        workspaceCopies =
            algorithm == .im2colGemm || algorithm == .depthwiseDirect ? max(1, ComputeThreads.teamSize) : 1
        tiles = algorithm == .im2colGemm ? Tile.all(of: shape, tiling: tiling) : []
        teamTiles = Tile.cut(tiles, into: workspaceCopies)
        self.workspace = Conv2D.allocate(
            algorithm == .im2colGemm
                ? tiling.workspaceElements(for: shape) * workspaceCopies
                : (depthwisePlan?.workspaceElements ?? 0) * workspaceCopies)
        if algorithm.backend == .onednn {
            do {
                dnnl = try DnnlConvolution(
                    shape: shape, algorithm: algorithm, input: input.baseAddress!, weights: weights.baseAddress!,
                    output: output.baseAddress!)
            } catch {
                for buffer in [input, weights, output, workspace] where buffer.baseAddress != nil {
                    free(buffer.baseAddress)
                }
                throw error
            }
        } else {
            dnnl = nil
        }
    }

    deinit {
        for buffer in [input, weights, output, workspace] where buffer.baseAddress != nil {
            free(buffer.baseAddress)
        }
    }

    /// The tiling `Conv2D` would use for `shape`: output rows per tile and workspace elements
    /// (zero for algorithms that do not lower).
    public static func plan(
        shape: ConvShape, algorithm: ConvAlgorithm, workspaceLimit: Int = defaultWorkspaceLimit
    ) -> (rowsPerTile: Int, workspaceElements: Int) {
        let algorithm = algorithm.resolved(for: shape)
        if algorithm == .depthwiseDirect { return (shape.outputHeight, DepthwisePlan(shape: shape).workspaceElements) }
        guard algorithm == .im2colGemm else { return (shape.outputHeight, 0) }
        let tiling = ConvTiling.planned(for: shape, workspaceLimit: workspaceLimit)
        return (tiling.rowsPerTile, tiling.workspaceElements(for: shape))
    }

    /// The accounting of this configuration, workspace included (one thread's).
    public var accounting: Accounting {
        Accounting(shape: shape, workspaceBytes: workspace.count / workspaceCopies * MemoryLayout<Float>.stride)
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
        reloadWeights()
    }

    /// Tells a `dnnl-*` algorithm that ``weights`` changed: it copies them into its own layout
    /// once (as a framework does), outside the timed runs. ``fillRandom(seed:)`` calls it.
    public func reloadWeights() { dnnl?.loadWeights() }

    /// Computes the forward pass into ``output`` and returns the time of each phase.
    @discardableResult
    public func run() -> PhaseTimes {
        switch algorithm {
        case .im2colGemm: return runIm2colGemm()
        case .gemm1x1: return runGemm1x1()
        case .depthwiseDirect: return runDepthwise()
        case .fullyConnectedGemm: return runFullyConnected()
        case .reference: return runReference()
        case .dnnlDirect, .dnnlDirectNCHW, .dnnlWinograd: return dnnl!.run()
        case .auto: fatalError("auto is resolved in init")
        }
    }

    /// For a `dnnl-*` algorithm, the seconds of `repetitions` forward passes timed in C around
    /// each bare oneDNN call, with none of ``run()``'s phase timing (what a benchmark compares
    /// convsweep's timing with); nil for the other algorithms.
    public func bareDnnlSeconds(repetitions: Int) -> [Double]? { dnnl?.bareSeconds(repetitions: repetitions) }

    /// The exact value of one output element, computed directly in double precision.
    public func referenceValue(image n: Int, channel co: Int, y: Int, x: Int) -> Double {
        referenceTerms(image: n, channel: co, y: y, x: x).value
    }

    /// One output element computed directly in double precision: its value, and Σ|input·weight|
    /// over its terms (the scale of its float32 rounding error, for tolerances). `y` and `x` are
    /// output coordinates; the element of output channel `co` sums over the input channels of its
    /// group.
    public func referenceTerms(image n: Int, channel co: Int, y: Int, x: Int) -> (value: Double, magnitude: Double) {
        let s = shape
        let perGroup = s.inputChannelsPerGroup
        let firstChannel = (co / s.outputChannelsPerGroup) * perGroup
        var sum = 0.0
        var magnitude = 0.0
        for c in 0..<perGroup {
            for i in 0..<s.kernelHeight {
                let iy = y * s.strideHeight + i * s.dilationHeight - s.padTop
                if iy < 0 || iy >= s.height { continue }
                for j in 0..<s.kernelWidth {
                    let ix = x * s.strideWidth + j * s.dilationWidth - s.padLeft
                    if ix < 0 || ix >= s.width { continue }
                    let a = input[((n * s.inputChannels + firstChannel + c) * s.height + iy) * s.width + ix]
                    let w = weights[((co * perGroup + c) * s.kernelHeight + i) * s.kernelWidth + j]
                    let product = Double(a) * Double(w)
                    sum += product
                    magnitude += abs(product)
                }
            }
        }
        return (sum, magnitude)
    }

    /// The index of output element `(n, co, y, x)` in ``output``.
    public func outputIndex(image n: Int, channel co: Int, y: Int, x: Int) -> Int {
        ((n * shape.outputChannels + co) * shape.outputHeight + y) * shape.outputWidth + x
    }

    // MARK: - Algorithms

    private func runReference() -> PhaseTimes {
        let start = MonotonicClock.now()
        let s = shape
        for n in 0..<s.batch {
            for co in 0..<s.outputChannels {
                for y in 0..<s.outputHeight {
                    for x in 0..<s.outputWidth {
                        output[outputIndex(image: n, channel: co, y: y, x: x)] =
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
        let hw = s.inputSpatialSize
        let (cin, cout) = (s.inputChannelsPerGroup, s.outputChannelsPerGroup)
        for n in 0..<s.batch {
            for g in 0..<s.groups {
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasNoTrans,
                    Int32(cout), Int32(hw), Int32(cin),
                    1, weights.baseAddress! + g * cout * cin, Int32(cin),
                    input.baseAddress! + (n * s.inputChannels + g * cin) * hw, Int32(hw),
                    0, output.baseAddress! + (n * s.outputChannels + g * cout) * hw, Int32(hw))
            }
        }
        return PhaseTimes(lowering: 0, gemm: MonotonicClock.now() - start, tiles: s.batch * s.groups)
    }

    /// A fully-connected layer: Y (M × out) = X (M × in) · Wᵀ, one sgemm; sgemv when M = 1.
    private func runFullyConnected() -> PhaseTimes {
        let s = shape
        let start = MonotonicClock.now()
        let (m, k, n) = (Int32(s.batch), Int32(s.inputChannels), Int32(s.outputChannels))
        if s.batch == 1 {
            cblas_sgemv(
                CblasRowMajor, CblasNoTrans, n, k, 1, weights.baseAddress, k, input.baseAddress, 1, 0,
                output.baseAddress, 1)
        } else {
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1, input.baseAddress, k, weights.baseAddress, k, 0,
                output.baseAddress, n)
        }
        return PhaseTimes(lowering: 0, gemm: MonotonicClock.now() - start, tiles: 1)
    }

    /// One tile of im2col-gemm: output rows `y0 ..< y0 + rows` of image `n` and group `g`, every
    /// output channel of the group, computed chunk of input channels by chunk.
    private struct Tile {
        let n: Int, g: Int, y0: Int, rows: Int

        /// `tiles` with each cut by its rows into as many parts as make `count` in all
        /// (``TeamShare/cut(rows:parts:)``; fewer where a tile has fewer rows): the same output
        /// rows, the same chunks of input channels, so the same sums in the same order.
        static func cut(_ tiles: [Tile], into count: Int) -> [Tile] {
            let parts = TeamShare.parts(tiles: tiles.count, threads: count)
            guard parts > 1 else { return tiles }
            return tiles.flatMap { tile in
                var y0 = tile.y0
                return TeamShare.cut(rows: tile.rows, parts: parts).map { rows in
                    defer { y0 += rows }
                    return Tile(n: tile.n, g: tile.g, y0: y0, rows: rows)
                }
            }
        }

        /// Every tile of `s` under `tiling`, image by image, group by group, top to bottom.
        static func all(of s: ConvShape, tiling: ConvTiling) -> [Tile] {
            var tiles: [Tile] = []
            for n in 0..<s.batch {
                for g in 0..<s.groups {
                    var y0 = 0
                    while y0 < s.outputHeight {
                        let rows = min(tiling.rowsPerTile, s.outputHeight - y0)
                        tiles.append(Tile(n: n, g: g, y0: y0, rows: rows))
                        y0 += rows
                    }
                }
            }
            return tiles
        }
    }

    /// im2col + sgemm. On one thread, tile by tile. On a team of p > 1 threads, the tiles are cut
    /// into at least p by their rows where they have the rows (``Tile/cut(_:into:)``), and each
    /// thread takes the next tile not taken, lowering into a workspace of its own and multiplying
    /// with a one-thread sgemm (as frameworks parallelise a lowered convolution): no lowered piece
    /// moves between cores, and no sgemm waits for the others' threads. A layer of fewer output
    /// rows than threads is lowered on this thread and multiplied on OpenBLAS's: the lowering
    /// split on oneDNN's team between the calls would leave that team's threads spinning on the
    /// PUs OpenBLAS's workers need, each call then waiting for them (a single tile of 115 calls,
    /// 16×16×800→20 9×9: 13.2 ms on one thread, 70.6 ms on two). The phase times are those of the
    /// measuring thread (thread 0).
    private func runIm2colGemm() -> PhaseTimes {
        let team = min(ComputeThreads.teamSize, workspaceCopies)
        let tiles = team == workspaceCopies ? teamTiles : Tile.cut(self.tiles, into: team)
        guard team > 1, tiles.count >= team else {
            var times = PhaseTimes()
            for tile in tiles { run(tile, piece: workspace.baseAddress!, times: &times) }
            return times
        }
        let openBLASThreads = OpenBLAS.threadCount
        OpenBLAS.setThreadCount(1)
        defer { OpenBLAS.setThreadCount(openBLASThreads) }
        let copy = workspace.count / workspaceCopies
        var times = [PhaseTimes](repeating: PhaseTimes(), count: team)
        // Each thread takes the next tile not taken: a thread on a busier PU (the first carries
        // the system's work) takes fewer.
        let next = Atomic<Int>(0)
        times.withUnsafeMutableBufferPointer { perThread in
            ComputeThreads.split(team) { _, thread in
                var own = PhaseTimes()
                while case let i = next.add(1, ordering: .relaxed).oldValue, i < tiles.count {
                    run(tiles[i], piece: workspace.baseAddress! + thread * copy, times: &own)
                }
                perThread[thread] = own
            }
        }
        var result = times[0]
        result.tiles = times.map(\.tiles).reduce(0, +)
        return result
    }

    /// Lowers and multiplies `tile` through `piece`, chunk of input channels by chunk, adding the
    /// phases' times to `times`.
    private func run(_ tile: Tile, piece: UnsafeMutablePointer<Float>, times: inout PhaseTimes) {
        let s = shape
        let lowering = lowering!
        let (hw, outputHW, outputWidth) = (s.inputSpatialSize, s.spatialSize, s.outputWidth)
        let k = s.kernelSize
        let (groupChannels, groupOutputs) = (s.inputChannelsPerGroup, s.outputChannelsPerGroup)
        let depth = groupChannels * k
        let image = UnsafePointer(input.baseAddress! + tile.n * s.inputChannels * hw)
        let out = output.baseAddress! + (tile.n * s.outputChannels + tile.g * groupOutputs) * outputHW
        let groupWeights = weights.baseAddress! + tile.g * groupOutputs * depth
        let positions = tile.rows * outputWidth
        var c0 = 0
        while c0 < groupChannels {
            let channels = min(tiling.channelsPerChunk, groupChannels - c0)
            let beta: Float = c0 == 0 ? 0 : 1
            let t0 = MonotonicClock.now()
            lowering.lower(
                image: image, firstRow: tile.y0, rows: tile.rows, firstChannel: tile.g * groupChannels + c0,
                channels: channels, orientation: tiling.orientation, into: piece)
            let t1 = MonotonicClock.now()
            multiply(
                groupWeights + c0 * k, piece, into: out + tile.y0 * outputWidth,
                sizes: (groupOutputs, positions, channels * k), depth: depth, outputHW: outputHW, beta: beta)
            let t2 = MonotonicClock.now()
            times.lowering += t1 - t0
            times.gemm += t2 - t1
            times.tiles += 1
            c0 += channels
        }
    }

    /// One piece's product, in the tiling's orientation: `outputs` × `positions` of the output
    /// (rows `outputHW` apart) from the weights' chunk (rows `depth` apart) and the lowered piece,
    /// added to the output when `beta` is 1.
    private func multiply(
        _ weightChunk: UnsafePointer<Float>, _ piece: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
        sizes: (outputs: Int, positions: Int, chunkDepth: Int), depth: Int, outputHW: Int, beta: Float
    ) {
        let (outputs, positions, chunkDepth) = (Int32(sizes.outputs), Int32(sizes.positions), Int32(sizes.chunkDepth))
        switch tiling.orientation {
        case .rowMajor:
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, outputs, positions, chunkDepth, 1, weightChunk,
                Int32(depth), piece, positions, beta, out, Int32(outputHW))
        case .columnMajor:
            cblas_sgemm(
                CblasColMajor, CblasNoTrans, CblasNoTrans, positions, outputs, chunkDepth, 1, piece, positions,
                weightChunk, Int32(depth), beta, out, Int32(outputHW))
        case .patchMajor:
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, outputs, positions, chunkDepth, 1, weightChunk,
                Int32(depth), piece, chunkDepth, beta, out, Int32(outputHW))
        }
    }
}
