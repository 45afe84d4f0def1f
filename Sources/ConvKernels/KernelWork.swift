/// What the work of a layer depends on besides its shape: the measuring machine's cache sizes and
/// the run's workspace limit (which sets the im2col pieces). Runs record both (the manifest's
/// `machine.caches` and `settings.workspaceLimit`), and a gemm-work fit records the setting it was
/// fitted under, because its rates are only meaningful together with it.
public struct WorkSetting: Codable, Hashable, Sendable, CustomStringConvertible {
    /// The level-2 cache of one core, in bytes (the cache a GEMM's packed blocks live in).
    public var level2Bytes: Int
    /// The last-level cache, in bytes (the largest data or unified cache; the level-2 size on a
    /// machine with no level 3).
    public var lastLevelBytes: Int
    /// The largest im2col buffer of the run, in bytes (``Conv2D/defaultWorkspaceLimit`` unless
    /// the run set `--workspace-limit`).
    public var workspaceLimitBytes: Int

    /// A setting of these sizes.
    public init(level2Bytes: Int, lastLevelBytes: Int, workspaceLimitBytes: Int = Conv2D.defaultWorkspaceLimit) {
        self.level2Bytes = level2Bytes
        self.lastLevelBytes = lastLevelBytes
        self.workspaceLimitBytes = workspaceLimitBytes
    }

    /// The setting of a machine whose data caches are `caches` (level and size in bytes, as hwloc
    /// reports them); nil when it reports no level-2 cache.
    public init?(caches: [(level: Int, bytes: Int)], workspaceLimitBytes: Int = Conv2D.defaultWorkspaceLimit) {
        guard let level2 = caches.filter({ $0.level == 2 }).map(\.bytes).max(), level2 > 0 else { return nil }
        let last = caches.filter { $0.level >= 2 }.max { ($0.level, $0.bytes) < ($1.level, $1.bytes) }!.bytes
        self.init(level2Bytes: level2, lastLevelBytes: max(level2, last), workspaceLimitBytes: workspaceLimitBytes)
    }

    /// Why the sizes cannot be used, or nil: every size positive, the last level at least the
    /// second.
    public var problem: String? {
        guard level2Bytes > 0, lastLevelBytes > 0, workspaceLimitBytes > 0 else {
            return "cache sizes and the workspace limit must be positive"
        }
        return lastLevelBytes >= level2Bytes ? nil : "the last-level cache is smaller than the level-2 cache"
    }

    /// `L2 512 KiB, LLC 32 MiB, workspace 256 MiB`.
    public var description: String {
        "L2 \(Self.text(level2Bytes)), LLC \(Self.text(lastLevelBytes)), workspace \(Self.text(workspaceLimitBytes))"
    }

    /// A byte count in KiB, MiB or GiB (whichever divides it, the largest first).
    public static func text(_ bytes: Int) -> String {
        for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)]
        where bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift) \(unit)"
        }
        return "\(bytes) B"
    }

    /// Where a working set of `bytes` fits: 0 within the level-2 cache, 1 within the last level,
    /// 2 beyond (memory).
    public func reach(_ bytes: Int) -> Int {
        bytes <= level2Bytes ? 0 : (bytes <= lastLevelBytes ? 1 : 2)
    }
}

/// One `cblas_sgemm` shape of a layer's forward pass, in the column-major terms OpenBLAS works in:
/// C (m × n) = A (m × k) · B (k × n), made `count` times. OpenBLAS's micro-kernel tiles m and n.
public struct GemmCall: Hashable, Sendable {
    /// How the call reaches OpenBLAS, in its column-major terms after a row-major call is turned
    /// around: which of its paths can take the call depends on it (``isSmall(limit:)``).
    public enum Form: Hashable, Sendable {
        /// Neither operand transposed: im2col-gemm's pieces (row-major, column-major), gemm-1x1.
        case nn
        /// A transposed: a fully-connected layer's `sgemm(RowMajor, N, T)` of several rows.
        case tn
        /// Not an sgemm: a fully-connected layer of one row, which `cblas_sgemv` computes.
        case gemv
    }

    /// Rows of C: the output positions of the piece (im2col, 1×1), the output features (FC).
    public var m: Int
    /// Columns of C: the output channels of a group (im2col, 1×1), the rows of an FC layer.
    public var n: Int
    /// The inner dimension: the piece's depth (input channels × taps), the inputs of an FC layer.
    public var k: Int
    /// How many calls of this shape a forward pass makes.
    public var count: Int
    /// How the call reaches OpenBLAS.
    public var form: Form = .nn

    /// The largest m·n·k OpenBLAS 0.3.21's SkylakeX and Cooperlake kernel sets give their
    /// small-matrix kernel (``isSmall(limit:)``); the other kernel sets have none.
    public static let openBLASSmallMatrixLimit = 1_000_000

    /// Whether OpenBLAS's packed path takes this call with neither operand transposed (its A the
    /// activations, its B the weights, as im2col-gemm and gemm-1x1 call it): not the small-matrix
    /// kernel's under `limit`, not a fully-connected layer's.
    public func isPackedNN(limit: Int) -> Bool { form == .nn && !isSmall(limit: limit) }

    /// Whether OpenBLAS takes this call to its small-matrix kernel when that kernel's limit on
    /// m·n·k is `limit` (0: a kernel set without one): OpenBLAS 0.3.21's SkylakeX and Cooperlake
    /// kernels (`sgemm_small_kernel_permit_skylakex.c`) take every call of m·n·k ≤ 10⁶ with A
    /// not transposed, and one with A transposed only when m·n ≤ 1200 and k ≥ 32; that kernel
    /// packs neither operand and has no edge passes, so its FLOPs cost what they cost there.
    public func isSmall(limit: Int) -> Bool {
        guard limit > 0, Double(m) * Double(n) * Double(k) <= Double(limit) else { return false }
        switch form {
        case .nn: return true
        case .tn: return m * n <= 1200 && k >= 32
        case .gemv: return false
        }
    }
}

/// The work of one forward pass as convsweep's default algorithm for the layer does it
/// (``ConvAlgorithm/auto``): the `cblas_sgemm` calls of im2col-gemm's planned pieces, of gemm-1x1
/// or of fc-gemm, or depthwise-direct's rows of output positions; each operand's bytes by the cache level its
/// working set fits; and the lowering's own operations. The gemm-work model charges each at a
/// rate of its own (see `FitModel.gemmWork`).
public struct KernelWork: Hashable, Sendable {
    /// The GEMM calls (none for depthwise-direct).
    public var calls: [GemmCall]
    /// Depthwise-direct: output rows computed (batch · Cout · Hₒ, Cout rounded up to whole blocks
    /// of 8 channels, which the channel-blocked kernel computes), each of
    /// ``directRowWidth`` positions, tap by tap (``directTaps``); 0 otherwise.
    public var directRows: Int
    /// The width of one such row, Wₒ.
    public var directRowWidth: Int
    /// The taps per output value, K1·K2.
    public var directTaps: Int
    /// Bytes of weights the calls read (each call its chunk of the weights), by where the whole
    /// weight tensor fits (index ``WorkSetting/reach(_:)``): the weights are re-read for every
    /// piece of output rows, from the level that holds all of them.
    public var weightBytes: [Double]
    /// Bytes of the activation operand (the lowered piece, the input of a 1×1 or FC layer), by
    /// where one call's operand fits.
    public var activationBytes: [Double]
    /// Bytes of output each call writes (and, after the first channel chunk, re-reads), by where
    /// one call's output fits.
    public var outputBytes: [Double]
    /// Bytes of input the im2col lowering reads (0 where nothing is lowered).
    public var loweringInputBytes: Double
    /// Row operations of the lowering: rows whose wrapped positions are zeroed one by one (layers
    /// that keep their size), or rows copied or gathered one by one (other layers).
    public var loweringRows: Double
    /// Blocks the lowering writes: one per input channel and tap of every piece.
    public var loweringBlocks: Double
    /// im2col-gemm: the output rows of each planned tile of one image and group, top to bottom
    /// (empty for the other algorithms); ``tileCopies`` such sets (batch · groups).
    public var tileRows: [Int]
    /// How many images × groups repeat ``tileRows``.
    public var tileCopies: Int
    /// depthwise-direct: its items, an image's block of 8 output channels each (0 otherwise).
    public var directItems: Int
    /// The layer's output values.
    public var outputCount: Int
    /// The level-2 cache of the setting the work was counted under, in bytes: which calls'
    /// outputs lie beyond it (``exposedOutputBytes(depth:limit:fromLevel:)``).
    public var level2Bytes: Int

    /// The work of `shape` under `setting`.
    public init(shape s: ConvShape, setting: WorkSetting) {
        let size = MemoryLayout<Float>.stride
        let float = Double(size)
        calls = []
        directRows = 0
        directRowWidth = 0
        directTaps = 0
        weightBytes = [0, 0, 0]
        activationBytes = [0, 0, 0]
        outputBytes = [0, 0, 0]
        loweringInputBytes = 0
        loweringRows = 0
        loweringBlocks = 0
        tileRows = []
        tileCopies = 0
        directItems = 0
        outputCount = s.outputCount
        level2Bytes = setting.level2Bytes
        let weightReach = setting.reach(s.weightCount * size)
        switch ConvAlgorithm.auto.resolved(for: s) {
        case .fullyConnectedGemm:
            // C = W · Xᵀ: the weights are the m × k operand, the input the k × n one.
            calls = [
                GemmCall(
                    m: s.outputChannels, n: s.batch, k: s.inputChannels, count: 1, form: s.batch == 1 ? .gemv : .tn)
            ]
            weightBytes[weightReach] = Double(s.weightCount) * float
            activationBytes[setting.reach(s.inputCount * size)] = Double(s.inputCount) * float
            outputBytes[setting.reach(s.outputCount * size)] = Double(s.outputCount) * float
            return
        case .gemm1x1:
            calls = [
                GemmCall(
                    m: s.inputSpatialSize, n: s.outputChannelsPerGroup, k: s.inputChannelsPerGroup,
                    count: s.batch * s.groups)
            ]
        case .depthwiseDirect:
            // The channel-blocked kernel computes whole blocks of output channels.
            let lanes = DepthwisePlan.blocks(outputChannels: s.outputChannels) * DepthwisePlan.block
            directRows = s.batch * lanes * s.outputHeight
            directRowWidth = s.outputWidth
            directTaps = s.kernelSize
            directItems = s.batch * DepthwisePlan.blocks(outputChannels: s.outputChannels)
            weightBytes[weightReach] = Double(s.weightCount) * float
            activationBytes[setting.reach(s.inputCount * size)] = Double(s.inputCount) * float
            outputBytes[setting.reach(s.outputCount * size)] = Double(s.outputCount) * float
            return
        default:
            let tiling = ConvTiling.planned(for: s, workspaceLimit: setting.workspaceLimitBytes)
            calls = Self.pieces(of: s, tiling: tiling)
            tileRows = stride(from: 0, to: s.outputHeight, by: tiling.rowsPerTile).map {
                min(tiling.rowsPerTile, s.outputHeight - $0)
            }
            tileCopies = s.batch * s.groups
            let tiles = (s.outputHeight + tiling.rowsPerTile - 1) / tiling.rowsPerTile
            let channelTaps = Double(s.batch) * Double(s.inputChannels) * Double(s.kernelSize)
            loweringInputBytes = Double(s.inputCount) * float
            loweringBlocks = channelTaps * Double(tiles)
            loweringRows = s.keepsSpatialSize ? Self.wrappedRows(of: s) : channelTaps * Double(s.outputHeight)
        }
        for call in calls {
            let count = Double(call.count)
            weightBytes[weightReach] += count * Double(call.n * call.k) * float
            activationBytes[setting.reach(call.m * call.k * size)] += count * Double(call.m * call.k) * float
            outputBytes[setting.reach(call.m * call.n * size)] += count * Double(call.m * call.n) * float
        }
    }

    /// The layer's FLOPs, as its calls (and depthwise-direct's rows) do them.
    public var flops: Double {
        var flops = 2 * Double(directRows) * Double(directRowWidth) * Double(directTaps)
        for call in calls { flops += 2 * Double(call.count) * Double(call.m) * Double(call.n) * Double(call.k) }
        return flops
    }

    /// The FLOPs of the calls OpenBLAS's small-matrix kernel takes under `limit`
    /// (``GemmCall/isSmall(limit:)``); 0 for a limit of 0.
    public func smallCallFlops(limit: Int) -> Double { smallKernelWork(limit: limit, lanes: 1).vectorFlops }

    /// The work of the calls OpenBLAS's small-matrix kernel takes under `limit`, as that kernel
    /// does it with vectors of `lanes` floats (``SmallKernelWork``); nothing for a limit of 0.
    /// With `lanes` 1: the calls' FLOPs as they are, no dot-path bytes.
    public func smallKernelWork(limit: Int, lanes: Int = SmallKernelWork.lanes) -> SmallKernelWork {
        var work = SmallKernelWork()
        for call in calls where call.isSmall(limit: limit) { work.add(call, lanes: lanes) }
        return work
    }

    /// Bytes of output of the calls OpenBLAS's packed path takes (not its small-matrix kernel
    /// under `limit`, not sgemv) whose output lies at cache level `fromLevel` or beyond (0: every
    /// call; 1: outputs beyond the level-2 cache), each weighted by max(0, 1 − k/`depth`): the
    /// share of the output's traffic the call's depth k leaves exposed. The packed path zeroes C,
    /// then reads and writes it once per block of k; behind a deep call's FMAs that traffic hides,
    /// a shallow call waits for it. Measured on Zen 4 (`cblas_sgemm`, `benchmarks/sgemm-shapes`):
    /// with C in the last-level cache (m = 1024, n = 550, 2.25 MB), beyond the FLOPs' time, 0.34 ns
    /// an output value at k ≤ 10, 0.21 at k = 30, 0.15 at 64, 0.08 at 128, none at 200; with C
    /// in the level-2 cache (m = 256, n = 550, 0.56 MB) 0.03–0.08 ns at k ≤ 30, a quarter of that
    /// or less: an output the level-2 cache holds is read and written there. 0 for a depth of 0.
    public func exposedOutputBytes(depth: Int, limit: Int, fromLevel: Int = 0) -> Double {
        guard depth > 0 else { return 0 }
        return bytes(
            of: { call in
                !call.isSmall(limit: limit) && call.form != .gemv
                    && !(fromLevel > 0 && call.m * call.n * MemoryLayout<Float>.stride <= level2Bytes)
            }, floats: { Double($0.m) * Double($0.n) }, share: { max(0, 1 - Double($0.k) / Double(depth)) })
    }

    /// Σ over the calls `taken` accepts of their count × `floats` (one call's operand, in
    /// floats) in bytes × `share` of it: the sums of the packed path's operands below.
    private func bytes(
        of taken: (GemmCall) -> Bool, floats: (GemmCall) -> Double, share: (GemmCall) -> Double = { _ in 1 }
    ) -> Double {
        calls.reduce(0) { sum, call in
            taken(call)
                ? sum + Double(call.count) * floats(call) * Double(MemoryLayout<Float>.stride) * share(call) : sum
        }
    }

    /// Bytes of the activation operand (A, m × k) of the calls OpenBLAS's packed path takes
    /// (neither operand transposed, not its small-matrix kernel under `limit`), each weighted by
    /// max(0, 1 − n/`width`): the share of the operand's packing the call's width n (output
    /// channels) leaves exposed. The packed path copies A into its buffer once per call; behind a
    /// wide call's FMAs (2·n per element) that copy hides, a narrow call waits for it. Measured
    /// on Zen 4 (`cblas_sgemm`, `benchmarks/sgemm-shapes` table 4: m = 1024, k = 450, A 1.8 MB),
    /// beyond the widest call's time per multiply-add, per element of A: 0.34 ns at n ≤ 20, 0.30
    /// at 50, 0.23 at 100, 0.11–0.15 at 200, 0.06–0.10 at 300 — what a shallow call's output
    /// costs (0.34 ns an output value). Widths of 128 and 512 score within 0.7 points of 256 on
    /// the Zen 4 quick packages. 0 for a width of 0.
    public func exposedActivationBytes(width: Int, limit: Int) -> Double {
        guard width > 0 else { return 0 }
        return bytes(
            of: { $0.isPackedNN(limit: limit) }, floats: { Double($0.m) * Double($0.k) },
            share: { max(0, 1 - Double($0.n) / Double(width)) })
    }

    /// Bytes of weights the packed path copies from memory: the weights of the calls OpenBLAS's
    /// packed path takes (neither operand transposed, not its small-matrix kernel under `limit`)
    /// when the weight tensor lies beyond the last-level cache; 0 otherwise. That path copies
    /// each call's weights (its B, k × n) into a buffer before its micro-kernel reads them; the
    /// small-matrix kernel reads them where they are. Measured on Zen 4 (`cblas_sgemm` alone, one
    /// thread, `benchmarks/sgemm-shapes`: n = 950, chunks of depth 540 as im2col-gemm calls them):
    /// 205 MB of weights at 16.4 GB/s through the small-matrix kernel (m = 1) and 8.2, 7.6, 6.4 GB/s
    /// through the packed path (m = 2, 4, 8): about 60 ms a GB more. From the last-level cache
    /// (8.2 MB) 68 GB/s against 20 GB/s, 10 ms a GB more, which the level's weight rate and the
    /// FLOPs' rate share well enough not to need a rate of its own.
    public func packedWeightBytesFromMemory(limit: Int) -> Double {
        guard weightBytes[2] > 0 else { return 0 }
        return bytes(of: { $0.isPackedNN(limit: limit) }, floats: { Double($0.n) * Double($0.k) })
    }

    /// The edge passes of a GEMM micro-kernel of register tile `positionsTile` × `channelsTile`,
    /// in FLOP-equivalents of one m × k column (or one n × k row) each: OpenBLAS computes the
    /// columns of n beyond the last whole tile in passes of halving widths (for a tile of 4: a
    /// remainder of 3 is a pass of 2 and one of 1, a remainder of 2 or 1 one pass), and the rows
    /// of m alike, each pass costing about what a whole tile's pass over the same m × k (or n × k)
    /// costs. Per call 2·k·(m·passes(n mod channelsTile) + n·passes(m mod positionsTile)),
    /// passes(r) the set bits of r; depthwise-direct's rows of Wₒ positions alike with its
    /// vector width `positionsTile`. 0 with tiles of 1, and for sizes that are multiples of them.
    /// The calls the small-matrix kernel takes under `smallCallLimit` have none.
    public func edgePasses(positionsTile: Int, channelsTile: Int, smallCallLimit: Int = 0) -> Double {
        func passes(_ value: Int, _ tile: Int) -> Double { Double((value % max(1, tile)).nonzeroBitCount) }
        var total = 2 * Double(directRows) * Double(directTaps) * passes(directRowWidth, positionsTile)
        for call in calls where !call.isSmall(limit: smallCallLimit) {
            let columns = Double(call.m) * passes(call.n, channelsTile) + Double(call.n) * passes(call.m, positionsTile)
            total += 2 * Double(call.count) * Double(call.k) * columns
        }
        return total
    }

    /// The calls of im2col-gemm's pieces of `shape` under `tiling`: per image and group, whole
    /// tiles of `rowsPerTile` output rows and a last shorter one, each in whole chunks of
    /// `channelsPerChunk` input channels and a last smaller one (as `Conv2D` runs them).
    static func pieces(of s: ConvShape, tiling: ConvTiling) -> [GemmCall] {
        let rows = tiling.rowsPerTile
        let channels = tiling.channelsPerChunk
        let (wholeTiles, lastRows) = s.outputHeight.quotientAndRemainder(dividingBy: rows)
        let (wholeChunks, lastChannels) = s.inputChannelsPerGroup.quotientAndRemainder(dividingBy: channels)
        var calls: [GemmCall] = []
        for (tileRows, tileCount) in [(rows, wholeTiles), (lastRows, 1)] where tileRows > 0 && tileCount > 0 {
            for (chunk, chunkCount) in [(channels, wholeChunks), (lastChannels, 1)] where chunk > 0 && chunkCount > 0 {
                calls.append(
                    GemmCall(
                        m: tileRows * s.outputWidth, n: s.outputChannelsPerGroup, k: chunk * s.kernelSize,
                        count: s.batch * s.groups * tileCount * chunkCount))
            }
        }
        return calls
    }

    /// The rows whose wrapped positions the lowering of a size-keeping layer zeroes one by one:
    /// for every input channel and tap (i, j) whose column shift j − padLeft is neither 0 nor a
    /// whole row, the output rows that read inside the input (how many depends on i alone).
    static func wrappedRows(of s: ConvShape) -> Double {
        var validRows = 0
        for i in 0..<s.kernelHeight {
            let offset = i - s.padTop
            validRows += max(0, min(s.outputHeight, s.height - offset) - max(0, -offset))
        }
        let shifted = (0..<s.kernelWidth).filter { j in
            let shift = abs(j - s.padLeft)
            return shift > 0 && shift < s.width
        }.count
        return Double(s.batch) * Double(s.inputChannels) * Double(validRows) * Double(shifted)
    }
}

/// What OpenBLAS 0.3.21's AVX-512 small-matrix kernels (`sgemm_small_kernel_nn_skylakex.c`,
/// `…_tn_skylakex.c`) do for a set of calls, in the two quantities their time follows:
///
/// - **Vector FLOPs**: the FLOPs of their FMAs of ``lanes`` floats, the lanes they waste
///   included. The NN kernel runs down m (C's rows, contiguous) in vectors: the rows of whole
///   vectors cost their FLOPs, and the remainder of m mod 16 costs a whole vector per column and
///   step of k when it is more than 8 rows or k < 32 (a masked vector); otherwise it is computed as
///   dot products along k, 16 steps of k to a vector (k rounded up to 16). The TN kernel computes
///   all of m so. Measured on Zen 4 (`cblas_sgemm`, n = 600, k = 20, m = 1 … 80): the time steps
///   with ⌈m/16⌉, 0.30–0.34 ns a vector whether 1 or 16 of its lanes count.
/// - **Dot-path bytes**: the dot products take the rows in blocks of 4, 2 and 1, and each block
///   reads all of B (n · k floats) again (n = 400, k = 200: 3.7, 5.3 and 7.2 µs for one block of
///   1, 2 and 4 rows, m = 3 the sum of the first two).
public struct SmallKernelWork: Hashable, Sendable {
    /// The floats of one AVX-512 vector.
    public static let lanes = 16
    /// FLOPs of the kernel's vectors, padding included (2 per lane of every FMA).
    public var vectorFlops: Double = 0
    /// Bytes of B the dot-product path reads, once per block of rows.
    public var dotBytes: Double = 0

    /// Nothing yet.
    public init() {}

    /// Adds what the kernel does for `call` (one it takes: ``GemmCall/isSmall(limit:)``) with
    /// vectors of `lanes` floats; with 1, the call's FLOPs and no dot path.
    mutating func add(_ call: GemmCall, lanes: Int) {
        let (n, k, count) = (Double(call.n), Double(call.k), Double(call.count))
        guard lanes > 1 else {
            vectorFlops += 2 * count * Double(call.m) * n * k
            return
        }
        // The rows computed as dot products along k, and those in (possibly masked) vectors.
        let remainder = call.m % lanes
        let dotRows = call.form == .tn ? call.m : (remainder <= lanes / 2 && call.k >= 32 ? remainder : 0)
        let vectorRows = (call.m - dotRows + lanes - 1) / lanes * lanes
        let paddedK = (call.k + lanes - 1) / lanes * lanes
        vectorFlops += 2 * count * n * (Double(vectorRows) * k + Double(dotRows) * Double(paddedK))
        let blocks = dotRows / 4 + dotRows % 4 / 2 + dotRows % 2
        dotBytes += count * Double(blocks) * n * k * Double(MemoryLayout<Float>.stride)
    }
}
