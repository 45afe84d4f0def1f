import Testing

@testable import ConvKernels

/// The work convsweep's kernels do for a layer (the gemm-work model's features) against what
/// `Conv2D` plans and what the layer's FLOPs are.
struct KernelWorkTests {
    let setting = WorkSetting(level2Bytes: 512 << 10, lastLevelBytes: 32 << 20)

    @Test(arguments: [
        ConvShape(height: 56, width: 56, inputChannels: 64, outputChannels: 128, kernel: 3),
        // Channels chunked (depth 600·9 > 1024) and rows tiled, with last partial ones.
        ConvShape(height: 97, width: 33, inputChannels: 600, outputChannels: 70, kernel: 3),
        ConvShape(height: 256, width: 2, inputChannels: 100, outputChannels: 10, kernel: 7),
        ConvShape(
            height: 28, width: 28, inputChannels: 64, outputChannels: 64, kernel: 3, stride: 2, padding: .uniform(1),
            groups: 4),
        ConvShape(batch: 3, height: 14, width: 14, inputChannels: 96, outputChannels: 24, kernel: 1),
        ConvShape.fullyConnected(rows: 8, inputs: 1280, outputs: 1000),
    ])
    func theCallsDoTheLayersFlopsInThePiecesConv2DPlans(shape: ConvShape) {
        let work = KernelWork(shape: shape, setting: setting)
        let flops = work.calls.reduce(0.0) { $0 + 2 * Double($1.m) * Double($1.n) * Double($1.k) * Double($1.count) }
        #expect(flops == Accounting(shape: shape).flops && work.flops == flops)
        #expect(work.edgePasses(positionsTile: 1, channelsTile: 1) == 0)
        if ConvAlgorithm.auto.resolved(for: shape) == .im2colGemm {
            let tiling = ConvTiling.planned(for: shape, workspaceLimit: setting.workspaceLimitBytes)
            #expect(work.calls.reduce(0) { $0 + $1.count } == tiling.pieceCount(for: shape))
            // The lowering reads the input once and writes every lowered value once.
            let lowered = work.activationBytes.reduce(0, +)
            #expect(lowered == Double(Accounting(shape: shape).loweredBytes))
            #expect(work.loweringInputBytes == Double(Accounting(shape: shape).inputBytes))
        } else {
            #expect(work.loweringInputBytes == 0 && work.loweringRows == 0 && work.loweringBlocks == 0)
        }
    }

    /// The busiest thread's share of a layer's work, as `Conv2D` shares it among a team.
    @Test func theBusiestThreadsShareFollowsHowTheKernelsShareTheLayer() {
        #expect(TeamShare.cut(rows: 7, parts: 2) == [4, 3] && TeamShare.cut(rows: 1, parts: 2) == [1])
        #expect(TeamShare.cut(rows: 6, parts: 4) == [2, 2, 2])
        #expect(
            TeamShare.busiest([1, 1, 1], threads: 2) == 2.0 / 3 && TeamShare.busiest([4, 3], threads: 2) == 4.0 / 7)
        #expect(TeamShare.busiest([5], threads: 1) == 1 && TeamShare.busiest([], threads: 2) == 1)
        func share(_ shape: ConvShape, _ threads: Int, limit: Int = 0) -> Double {
            KernelWork(shape: shape, setting: setting).busiestShare(threads: threads, smallCallLimit: limit)
        }
        // im2col-gemm: one tile of 16 rows cut in two of 8; 3 tiles of 10, 10 and 5 rows on two
        // threads: 15 of 25 rows on the busiest.
        let single = ConvShape(height: 16, width: 16, inputChannels: 800, outputChannels: 20, kernel: 9)
        #expect(KernelWork(shape: single, setting: setting).tileRows == [16])
        #expect(share(single, 1) == 1 && share(single, 2) == 0.5 && share(single, 3) == 6.0 / 16)
        // Forks and joins: one for a team's tiles, one per call OpenBLAS divides, none where it
        // runs the calls on one thread, none on one thread.
        #expect(KernelWork(shape: single, setting: setting).forkJoins(threads: 2, smallCallLimit: 0) == 1)
        #expect(KernelWork(shape: single, setting: setting).forkJoins(threads: 1, smallCallLimit: 0) == 0)
        let batch = ConvShape(batch: 3, height: 112, width: 112, inputChannels: 64, outputChannels: 64, kernel: 1)
        #expect(KernelWork(shape: batch, setting: setting).forkJoins(threads: 2, smallCallLimit: 0) == 3)
        let tiny = ConvShape(height: 7, width: 7, inputChannels: 64, outputChannels: 32, kernel: 1)
        #expect(KernelWork(shape: tiny, setting: setting).forkJoins(threads: 2, smallCallLimit: 0) == 0)
        var three = KernelWork(shape: single, setting: setting)
        three.tileRows = [10, 10, 5]
        #expect(three.busiestShare(threads: 2, smallCallLimit: 0) == 15.0 / 25)
        // A layer of one output row cannot be cut: its calls on OpenBLAS's threads, divided when
        // large, on one thread below OpenBLAS's threading limit or under the small-matrix kernel.
        let oneRow = ConvShape(height: 1, width: 128, inputChannels: 200, outputChannels: 300, kernel: 5)
        #expect(share(oneRow, 2) == 0.5)
        let tinyRow = ConvShape(height: 1, width: 16, inputChannels: 8, outputChannels: 16, kernel: 3)
        #expect(share(tinyRow, 2) == 1)
        // 1×1: m·n·k 12,544·64·64 is divided; 49·32·64 (100,352) runs on one thread; 196·64·64
        // (802,816) divides unless the small-matrix kernel takes it.
        #expect(share(ConvShape(height: 112, width: 112, inputChannels: 64, outputChannels: 64, kernel: 1), 2) == 0.5)
        #expect(share(ConvShape(height: 7, width: 7, inputChannels: 64, outputChannels: 32, kernel: 1), 2) == 1)
        let pointwise = ConvShape(height: 14, width: 14, inputChannels: 64, outputChannels: 64, kernel: 1)
        #expect(share(pointwise, 2) == 0.5 && share(pointwise, 2, limit: GemmCall.openBLASSmallMatrixLimit) == 1)
        // depthwise-direct: 32 blocks of 8 channels over 112·112 positions on two threads; a layer
        // of fewer than 2 · 16,384 outputs on one.
        #expect(
            share(
                ConvShape(height: 112, width: 112, inputChannels: 256, outputChannels: 256, kernel: 3, groups: 256), 2)
                == 0.5)
        #expect(
            share(ConvShape(height: 7, width: 7, inputChannels: 96, outputChannels: 96, kernel: 3, groups: 96), 2) == 1)
    }

    @Test func theEdgesOfTheTileArePassesOfHalvingWidths() {
        // m = 10 positions, n = 7 channels, k = 3, tiles 8 × 4: n leaves 3 (a pass of 2, one of 1),
        // m leaves 2 (one pass): 2·k·(m·2 + n·1) FLOP-equivalents.
        let shape = ConvShape(height: 2, width: 5, inputChannels: 3, outputChannels: 7, kernel: 1)
        let work = KernelWork(shape: shape, setting: setting)
        #expect(work.calls == [GemmCall(m: 10, n: 7, k: 3, count: 1)])
        #expect(work.edgePasses(positionsTile: 8, channelsTile: 4) == 2 * 3 * (10 * 2 + 7 * 1))
        // A remainder of 1 or 2 is one pass, of 3 two: Cout ≡ 3 (mod 4) costs most.
        let passes = (4...8).map { cout in
            KernelWork(
                shape: ConvShape(height: 4, width: 4, inputChannels: 3, outputChannels: cout, kernel: 1),
                setting: setting
            ).edgePasses(positionsTile: 8, channelsTile: 4)
        }
        let column = 2.0 * 3 * 16
        #expect(passes == [0, column, column, 2 * column, 0])
        // depthwise-direct's rows of Wₒ = 5 positions with a vector of 4: one pass of 1.
        let depthwise = ConvShape(height: 10, width: 5, inputChannels: 8, outputChannels: 8, kernel: 3, groups: 8)
        let direct = KernelWork(shape: depthwise, setting: setting)
        #expect(direct.calls.isEmpty && direct.directRows == 80 && direct.directTaps == 9)
        #expect(direct.edgePasses(positionsTile: 4, channelsTile: 4) == 2 * 80 * 9)
        #expect(direct.flops == Accounting(shape: depthwise).flops)
        // Whole blocks of 8 output channels: 4 channels cost the FLOPs of 8; 4 × multiplier 2
        // are one whole block; 4 × 3 = 12 cost 16.
        var four = depthwise
        (four.inputChannels, four.outputChannels, four.groups) = (4, 4, 4)
        #expect(KernelWork(shape: four, setting: setting).flops == 2 * Accounting(shape: four).flops)
        four.outputChannels = 8
        #expect(KernelWork(shape: four, setting: setting).flops == Accounting(shape: four).flops)
        four.outputChannels = 12
        #expect(KernelWork(shape: four, setting: setting).flops * 12 == Accounting(shape: four).flops * 16)
        // Every image its own blocks: 2 images of 13 channels are 2 × 16 lanes, not 32 rounded once.
        four.batch = 2
        four.outputChannels = 13
        four.inputChannels = 13
        four.groups = 13
        #expect(KernelWork(shape: four, setting: setting).flops * 13 == Accounting(shape: four).flops * 16)
    }

    /// OpenBLAS 0.3.21's rule for its small-matrix kernel (SkylakeX, Cooperlake): m·n·k ≤ 10⁶,
    /// A not transposed, or transposed with m·n ≤ 1200 and k ≥ 32; never an sgemv. Its calls
    /// have no edge passes.
    @Test func theSmallMatrixKernelTakesTheCallsOpenBLASGivesIt() {
        // 8×8 positions, 16 → 64 channels: m·n·k = 64·64·16, small; 10 → 7 of 2×5: small.
        let pointwise = KernelWork(
            shape: ConvShape(height: 8, width: 8, inputChannels: 16, outputChannels: 64, kernel: 1), setting: setting)
        #expect(pointwise.smallCallFlops(limit: 1_000_000) == pointwise.flops)
        #expect(pointwise.smallCallFlops(limit: 0) == 0 && pointwise.smallCallFlops(limit: 64 * 64 * 16 - 1) == 0)
        let edges = KernelWork(
            shape: ConvShape(height: 2, width: 5, inputChannels: 3, outputChannels: 7, kernel: 1), setting: setting)
        #expect(edges.edgePasses(positionsTile: 8, channelsTile: 4, smallCallLimit: 1_000_000) == 0)
        #expect(edges.edgePasses(positionsTile: 8, channelsTile: 4, smallCallLimit: 0) > 0)
        // 100×100 positions, 64 → 64: m·n·k = 6.6·10⁷, packed.
        let large = KernelWork(
            shape: ConvShape(height: 100, width: 100, inputChannels: 64, outputChannels: 64, kernel: 1),
            setting: setting)
        #expect(large.smallCallFlops(limit: 1_000_000) == 0)
        // Fully connected: one row is an sgemv; 4 rows of 200 outputs (m·n = 800) small; 8 rows
        // (1600 > 1200) not; 4 rows of 16 inputs (k < 32) not.
        func fc(_ rows: Int, _ inputs: Int, _ outputs: Int) -> Double {
            KernelWork(shape: .fullyConnected(rows: rows, inputs: inputs, outputs: outputs), setting: setting)
                .smallCallFlops(limit: 1_000_000)
        }
        #expect(fc(1, 64, 200) == 0 && fc(4, 64, 200) == 2 * 4 * 64 * 200 && fc(8, 64, 200) == 0 && fc(4, 16, 200) == 0)
    }

    /// The AVX-512 small-matrix kernel's work as its loops do it: m in vectors of 16 (a
    /// remainder above 8 rows, or any remainder when k < 32, a masked vector), a remainder of up
    /// to 8 rows with k ≥ 32 as dot products along k (k rounded up to 16) whose blocks of 4, 2 and
    /// 1 rows each read B again; A transposed all as dot products; with 1 lane, the FLOPs as they
    /// are.
    @Test func theSmallMatrixKernelsWorkIsItsVectors() {
        func work(_ m: Int, _ n: Int, _ k: Int, form: GemmCall.Form = .nn, lanes: Int = 16) -> SmallKernelWork {
            var work = SmallKernelWork()
            work.add(GemmCall(m: m, n: n, k: k, count: 3, form: form), lanes: lanes)
            return work
        }
        let b = 4.0  // bytes of a float
        func product(_ factors: Double...) -> Double { factors.reduce(1, *) }
        // 8 rows of k = 20: one masked vector of 16 a column and step; 16 and 24 rows, 1 and 2.
        #expect(work(8, 600, 20).vectorFlops == product(3.0, 2, 600, 16, 20))
        #expect(work(8, 600, 20).dotBytes == 0)
        #expect(work(16, 600, 20).vectorFlops == work(8, 600, 20).vectorFlops)
        #expect(work(24, 600, 20).vectorFlops == 2 * work(16, 600, 20).vectorFlops)
        // 2 rows of k = 200: dot products over 208, one block reading B (850 · 200) once.
        #expect(work(2, 850, 200).vectorFlops == product(3.0, 2, 850, 2, 208))
        #expect(work(2, 850, 200).dotBytes == product(3.0, 850, 200, b))
        // 7 rows: blocks of 4, 2 and 1; 18 rows: a vector of 16 and a dot block of 2; 25 rows: 2 vectors.
        #expect(work(7, 10, 64).dotBytes == product(9.0, 10, 64, b))
        #expect(work(18, 10, 64).vectorFlops == product(3.0, 2, 10, 18, 64))
        #expect(work(18, 10, 64).dotBytes == product(3.0, 10, 64, b))
        #expect(work(25, 10, 64).vectorFlops == product(3.0, 2, 10, 32, 64))
        #expect(work(25, 10, 64).dotBytes == 0)
        // A transposed (a fully-connected layer): every row a dot product, 5 rows in 2 blocks.
        #expect(work(5, 4, 40, form: .tn).vectorFlops == product(3.0, 2, 4, 5, 48))
        #expect(work(5, 4, 40, form: .tn).dotBytes == product(3.0, 2, 4, 40, b))
        // One lane: the FLOPs, no dot path (the form of 0.14–0.15).
        #expect(work(2, 850, 200, lanes: 1).vectorFlops == product(3.0, 2, 2, 850, 200))
        #expect(work(2, 850, 200, lanes: 1).dotBytes == 0)
        // Through a layer: only the calls the kernel takes under the limit.
        let pointwise = KernelWork(
            shape: ConvShape(height: 2, width: 4, inputChannels: 20, outputChannels: 1600, kernel: 1), setting: setting)
        #expect(pointwise.smallKernelWork(limit: 1_000_000).vectorFlops == product(2.0, 1600, 16, 20))
        #expect(pointwise.smallKernelWork(limit: 0) == SmallKernelWork())
    }

    /// The exposed output: each packed call's output bytes by max(0, 1 − k/depth); none for the
    /// small-matrix kernel's calls, an sgemv, a deep call or a depth of 0.
    @Test func theExposedOutputIsThatOfShallowPackedCalls() {
        let shallow = KernelWork(
            shape: ConvShape(height: 32, width: 32, inputChannels: 10, outputChannels: 550, kernel: 1), setting: setting
        )
        let bytes = 32.0 * 32 * 550 * 4
        #expect(abs(shallow.exposedOutputBytes(depth: 128, limit: 1_000_000) - bytes * (1 - 10.0 / 128)) < 1e-6)
        #expect(shallow.exposedOutputBytes(depth: 0, limit: 1_000_000) == 0)
        #expect(shallow.exposedOutputBytes(depth: 10, limit: 1_000_000) == 0)
        // Small enough for the small-matrix kernel under its limit, packed without one.
        let small = KernelWork(
            shape: ConvShape(height: 4, width: 8, inputChannels: 20, outputChannels: 700, kernel: 1), setting: setting)
        #expect(small.exposedOutputBytes(depth: 128, limit: 1_000_000) == 0)
        #expect(small.exposedOutputBytes(depth: 128, limit: 0) > 0)
        let gemv = KernelWork(shape: .fullyConnected(rows: 1, inputs: 16, outputs: 100), setting: setting)
        #expect(gemv.exposedOutputBytes(depth: 128, limit: 0) == 0)
        // From the level beyond L2 (0.17.0): an output the level-2 cache (512 KiB here) holds is
        // not exposed; 32 × 32 × 550 floats (2.2 MB) are.
        #expect(
            shallow.exposedOutputBytes(depth: 128, limit: 1_000_000, fromLevel: 1)
                == shallow.exposedOutputBytes(depth: 128, limit: 1_000_000))
        let held = KernelWork(
            shape: ConvShape(height: 8, width: 16, inputChannels: 10, outputChannels: 550, kernel: 1), setting: setting)
        #expect(held.exposedOutputBytes(depth: 128, limit: 0) > 0)
        #expect(held.exposedOutputBytes(depth: 128, limit: 0, fromLevel: 1) == 0)
    }

    /// The weights the packed path copies from memory: a layer's weights beyond the last-level
    /// cache, of the calls neither the small-matrix kernel nor sgemv takes; none in the cache.
    @Test func thePackedPathsWeightsFromMemoryAreThoseOfItsCalls() {
        // 1 × 1 output, 1600 → 950, 6 × 6 ('same'): 219 MB of weights in chunks of 15 channels
        // (depth 540): calls of m·n·k = 513,000, the small-matrix kernel's under OpenBLAS's limit.
        let one = KernelWork(
            shape: ConvShape(height: 1, width: 1, inputChannels: 1600, outputChannels: 950, kernel: 6), setting: setting
        )
        let weights = 1600.0 * 950 * 36 * 4
        #expect(one.weightBytes[2] == weights && one.calls.allSatisfy { $0.k <= 540 })
        #expect(one.packedWeightBytesFromMemory(limit: 1_000_000) == 0)
        #expect(one.packedWeightBytesFromMemory(limit: 0) == weights)
        // Two output positions: m·n·k over the limit, every whole chunk through the packed path;
        // the last one (10 channels, depth 360: 684,000) through the small-matrix kernel.
        let two = KernelWork(
            shape: ConvShape(height: 2, width: 1, inputChannels: 1600, outputChannels: 950, kernel: 6), setting: setting
        )
        #expect(two.packedWeightBytesFromMemory(limit: 1_000_000) == weights - 950 * 360 * 4)
        // Weights within the last-level cache (8.6 MB): nothing from memory.
        let cached = KernelWork(
            shape: ConvShape(height: 2, width: 1, inputChannels: 250, outputChannels: 240, kernel: 6), setting: setting)
        #expect(cached.weightBytes[2] == 0 && cached.packedWeightBytesFromMemory(limit: 0) == 0)
        // A fully-connected layer's weights are not the packed path's B.
        let fc = KernelWork(shape: .fullyConnected(rows: 8, inputs: 4096, outputs: 4096), setting: setting)
        #expect(fc.weightBytes[2] > 0 && fc.packedWeightBytesFromMemory(limit: 0) == 0)
    }

    /// The exposed activations: each packed call's activation operand (m × k) by
    /// max(0, 1 − n/width); none for the small-matrix kernel's calls, a fully-connected layer,
    /// a wide call or a width of 0.
    @Test func theExposedActivationsAreThoseOfNarrowPackedCalls() {
        // 1 × 1, 32 × 32 positions, 450 → 20: one call of m·n·k = 9.2 · 10⁶, packed.
        let narrow = KernelWork(
            shape: ConvShape(height: 32, width: 32, inputChannels: 450, outputChannels: 20, kernel: 1), setting: setting
        )
        let bytes = 32.0 * 32 * 450 * 4
        #expect(abs(narrow.exposedActivationBytes(width: 256, limit: 1_000_000) - bytes * (1 - 20.0 / 256)) < 1e-6)
        #expect(narrow.exposedActivationBytes(width: 0, limit: 1_000_000) == 0)
        #expect(narrow.exposedActivationBytes(width: 20, limit: 1_000_000) == 0)
        let small = KernelWork(
            shape: ConvShape(height: 4, width: 8, inputChannels: 20, outputChannels: 700, kernel: 1), setting: setting)
        #expect(small.exposedActivationBytes(width: 4096, limit: 1_000_000) == 0)
        #expect(small.exposedActivationBytes(width: 4096, limit: 0) > 0)
        let fc = KernelWork(shape: .fullyConnected(rows: 8, inputs: 4096, outputs: 10), setting: setting)
        #expect(fc.exposedActivationBytes(width: 256, limit: 0) == 0)
    }

    @Test func theWrappedRowsAreThoseTheLoweringZeroesOneByOne() {
        // Counted the lowering's way, output row by output row, for every channel and tap.
        for shape in [
            ConvShape(height: 5, width: 3, inputChannels: 2, outputChannels: 1, kernel: 5),
            ConvShape(height: 8, width: 1, inputChannels: 3, outputChannels: 1, kernel: 3),
            ConvShape(height: 4, width: 8, inputChannels: 1, outputChannels: 1, kernelHeight: 2, kernelWidth: 4),
            ConvShape(height: 2, width: 2, inputChannels: 1, outputChannels: 1, kernel: 14),
        ] {
            var rows = 0
            for _ in 0..<shape.inputChannels {
                for i in 0..<shape.kernelHeight {
                    for j in 0..<shape.kernelWidth {
                        let shift = j - shape.padLeft
                        guard shift != 0, abs(shift) < shape.width else { continue }
                        for y in 0..<shape.outputHeight where (0..<shape.height).contains(y + i - shape.padTop) {
                            rows += 1
                        }
                    }
                }
            }
            #expect(KernelWork.wrappedRows(of: shape) == Double(rows), "\(shape)")
            #expect(KernelWork(shape: shape, setting: setting).loweringRows == Double(rows))
        }
    }

    @Test func eachOperandIsChargedAtTheLevelItsWorkingSetFits() {
        // Weights of 3200 × 3200 × 9 floats (369 MB) live beyond the last level: every piece
        // re-reads them from memory; the lowered piece (about 1 MiB) is in the last level.
        let big = ConvShape(height: 16, width: 16, inputChannels: 3200, outputChannels: 3200, kernel: 3)
        let work = KernelWork(shape: big, setting: setting)
        #expect(work.weightBytes[0] == 0 && work.weightBytes[1] == 0 && work.weightBytes[2] > 0)
        #expect(work.activationBytes[2] == 0)
        let small = KernelWork(
            shape: ConvShape(height: 8, width: 8, inputChannels: 16, outputChannels: 16, kernel: 3), setting: setting)
        #expect(small.weightBytes[1] == 0 && small.weightBytes[2] == 0 && small.weightBytes[0] > 0)
        #expect(setting.reach(512 << 10) == 0 && setting.reach((512 << 10) + 1) == 1 && setting.reach(33 << 20) == 2)
    }

    @Test func aSettingIsReadFromTheCachesHwlocReports() {
        let caches = [(level: 1, bytes: 32 << 10), (level: 2, bytes: 1 << 20), (level: 3, bytes: 32 << 20)]
        #expect(WorkSetting(caches: caches) == WorkSetting(level2Bytes: 1 << 20, lastLevelBytes: 32 << 20))
        // No level 3: the last level is L2.
        #expect(WorkSetting(caches: Array(caches.prefix(2)))?.lastLevelBytes == 1 << 20)
        #expect(WorkSetting(caches: [(level: 1, bytes: 32 << 10)]) == nil)
        #expect(WorkSetting(level2Bytes: 2 << 20, lastLevelBytes: 1 << 20).problem != nil)
        #expect(
            WorkSetting(level2Bytes: 512 << 10, lastLevelBytes: 32 << 20).description
                == "L2 512 KiB, LLC 32 MiB, workspace 256 MiB")
    }
}
