import Basics
import Foundation
import PropertyBased
import Synchronization
import TestSupport
import Testing

@testable import ConvKernels

/// The oneDNN backend, checked like every kernel: against the double-precision reference.
@Suite(.enabled(if: OneDNN.isAvailable, "this build has no oneDNN backend"))
struct OneDNNTests {
    // Unseeded: new shapes on every run; a failure reports the seed that reproduces it.
    @Test func directConvolutionsOnRandomShapesAgreeWithTheReference() async throws {
        await propertyCheck(
            count: 25, input: Gen.int(in: 1...12), Gen.int(in: 1...12), Gen.int(in: 1...7),
            Gen.int(in: 1...7), Gen.int(in: 0...Int(Int32.max))
        ) { height, width, k1, k2, seed in
            var generator = SplitMix64(seed: UInt64(seed))
            let shape = ConvShape(
                batch: Int.random(in: 1...2, using: &generator), height: height, width: width,
                inputChannels: Int.random(in: 1...20, using: &generator),
                outputChannels: Int.random(in: 1...20, using: &generator), kernelHeight: k1, kernelWidth: k2)
            for algorithm in [ConvAlgorithm.dnnlDirect, .dnnlDirectNCHW] {
                let result = try errorAgainstReference(shape, algorithm: algorithm)
                #expect(result.error <= result.tolerance, "\(algorithm) on \(shape)")
            }
        }
    }

    @Test func winogradComputesOrIsRefusedWithTheReasonNeverReplaced() throws {
        for shape in [
            ConvShape(height: 12, width: 10, inputChannels: 16, outputChannels: 32, kernel: 3),
            ConvShape(height: 9, width: 9, inputChannels: 8, outputChannels: 8, kernel: 5),
        ] {
            do {
                let conv = try Conv2D(shape: shape, algorithm: .dnnlWinograd)
                // It ran: oneDNN's Winograd, not a direct implementation in its place.
                #expect(conv.dnnlChoice?.implementation.contains("wino") == true, "\(conv.dnnlChoice!)")
                let result = try errorAgainstReference(shape, algorithm: .dnnlWinograd)
                // Winograd transforms round more than a direct sum: 16 times the direct tolerance.
                #expect(result.error <= 16 * result.tolerance, "\(shape)")
            } catch let error as Conv2DError {
                guard case .notProvided(let algorithm, _, let reason) = error else {
                    Issue.record("\(error)")
                    continue
                }
                #expect(algorithm == .dnnlWinograd && reason.contains("Winograd"))
                #expect(error.description.hasPrefix("dnnl-winograd: "))
            }
        }
    }

    @Test func whatOneDNNChoseIsReported() throws {
        let shape = ConvShape(height: 14, width: 14, inputChannels: 32, outputChannels: 32, kernel: 3)
        let preferred = try Conv2D(shape: shape, algorithm: .dnnlDirect)
        let plain = try Conv2D(shape: shape, algorithm: .dnnlDirectNCHW)
        #expect(preferred.algorithm.backend == .onednn && preferred.workspace.isEmpty)
        #expect(!(preferred.dnnlChoice?.implementation.isEmpty ?? true))
        #expect(plain.dnnlChoice?.sourceLayout == "abcd" && plain.dnnlChoice?.weightsLayout == "abcd")
        #expect(plain.dnnlChoice?.layouts == "src abcd weights abcd dst abcd")
        preferred.fillRandom(seed: 3)
        let phases = preferred.run()
        #expect(phases.gemm > 0 && phases.tiles == 1)
        // NCHW kept: nothing to reorder.
        plain.fillRandom(seed: 3)
        #expect(plain.run().lowering == 0)
        #expect(OneDNN.version?.hasPrefix("2.") == true && !(OneDNN.isa ?? "").isEmpty)
    }
}

/// Layers on a team of threads: the parts of a split run on distinct threads of the team and
/// cover the work once, and a layer shared among two threads gives the one-thread result.
@Suite(.enabled(if: OneDNN.isAvailable, "this build has no oneDNN backend"), .serialized, .computeThreadsExclusive)
struct TeamOfThreadsTests {
    @Test func aSplitRunsEachPartOnceOnThreadsOfTheTeam() {
        ComputeThreads.setCount(2)
        defer { ComputeThreads.setCount(1) }
        let parts = Mutex<[(range: Range<Int>, thread: pthread_t)]>([])
        ComputeThreads.split(1000, minimumPerThread: 10) { range in
            parts.withLock { $0.append((range, pthread_self())) }
        }
        let seen = parts.withLock { $0 }.sorted { $0.range.lowerBound < $1.range.lowerBound }
        #expect(seen.map(\.range) == [0..<500, 500..<1000])
        #expect(Set(seen.map(\.thread)).count == 2)
        // Too little work for two: one part, on this thread.
        let small = Mutex<[Range<Int>]>([])
        ComputeThreads.split(15, minimumPerThread: 10) { range in small.withLock { $0.append(range) } }
        #expect(small.withLock { $0 } == [0..<15])
    }

    @Test(arguments: [GemmOrientation.rowMajor, .patchMajor])
    func aSingleTileIsCutByItsRowsAmongTheThreadsAndIsTheOneThreadResult(orientation: GemmOrientation) throws {
        let shape = ConvShape(height: 48, width: 40, inputChannels: 40, outputChannels: 8, kernel: 3)
        // One tile of 48 rows and one chunk: on two threads it is cut into two tiles of 24 rows,
        // each lowered and multiplied by its thread with a one-thread sgemm — the same sums in the
        // same order, so the output is equal bit for bit.
        func run(threads: Int) throws -> (output: [Float], pieces: Int) {
            ComputeThreads.setCount(threads)
            defer { ComputeThreads.setCount(1) }
            let conv = try Conv2D(
                shape: shape, algorithm: .im2colGemm,
                tiling: ConvTiling(rowsPerTile: shape.outputHeight, channelsPerChunk: 40, orientation: orientation))
            conv.fillRandom(seed: 7)
            let phases = conv.run()
            return (Array(conv.output), phases.tiles)
        }
        let (one, two) = (try run(threads: 1), try run(threads: 2))
        #expect(one.pieces == 1 && two.pieces == 2)
        #expect(two.output == one.output)
    }

    /// The tiles the team takes are those the models of thread counts divide (``KernelWork``'s
    /// `busiestShare`): as many pieces as its tiles cut for the team, times the chunks.
    @Test(arguments: [
        ConvShape(height: 16, width: 16, inputChannels: 100, outputChannels: 20, kernel: 3),
        ConvShape(height: 5, width: 300, inputChannels: 40, outputChannels: 24, kernel: 3),
        ConvShape(batch: 3, height: 9, width: 9, inputChannels: 30, outputChannels: 8, kernel: 3),
    ])
    func theTeamTakesTheTilesTheModelCuts(shape: ConvShape) throws {
        ComputeThreads.setCount(2)
        defer { ComputeThreads.setCount(1) }
        let setting = WorkSetting(level2Bytes: 1 << 20, lastLevelBytes: 32 << 20)
        let work = KernelWork(shape: shape, setting: setting)
        let conv = try Conv2D(shape: shape, algorithm: .im2colGemm)
        conv.fillRandom(seed: 3)
        let tiles = work.tileRows.count * work.tileCopies
        let parts = tiles < 2 ? 2 : 1
        let cut = work.tileRows.flatMap { TeamShare.cut(rows: $0, parts: parts) }.count * work.tileCopies
        #expect(conv.run().tiles == cut * (work.calls.reduce(0) { $0 + $1.count } / tiles))
    }

    /// A layer of one output row cannot be cut: it is lowered on the calling thread and multiplied
    /// on OpenBLAS's threads, and still gives the one-thread result.
    @Test func aLayerOfFewerRowsThanThreadsIsMultipliedOnOpenBLASsThreads() throws {
        let shape = ConvShape(height: 1, width: 300, inputChannels: 64, outputChannels: 96, kernel: 3)
        func run(threads: Int) throws -> (output: [Float], pieces: Int) {
            ComputeThreads.setCount(threads)
            defer { ComputeThreads.setCount(1) }
            let conv = try Conv2D(shape: shape, algorithm: .im2colGemm)
            conv.fillRandom(seed: 9)
            let phases = conv.run()
            return (Array(conv.output), phases.tiles)
        }
        let (one, two) = (try run(threads: 1), try run(threads: 2))
        #expect(one.pieces == two.pieces)
        let error = zip(one.output, two.output).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +).squareRoot()
        let norm = one.output.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
        #expect(error <= 1e-6 * norm)
    }

    @Test(arguments: [
        (ConvAlgorithm.im2colGemm, ConvShape(height: 40, width: 36, inputChannels: 24, outputChannels: 16, kernel: 3)),
        (
            .depthwiseDirect,
            ConvShape(height: 64, width: 60, inputChannels: 12, outputChannels: 24, kernel: 3, groups: 12)
        ),
        (
            .depthwiseDirect,
            ConvShape(
                batch: 2, height: 64, width: 64, inputChannels: 16, outputChannels: 16, kernel: 3, stride: 2,
                padding: .uniform(1), groups: 16)
        ),
    ])
    func aLayerSharedAmongTwoThreadsIsTheOneThreadResult(algorithm: ConvAlgorithm, shape: ConvShape) throws {
        // Each thread computes whole tiles or channels with one-thread kernels: the same sums in
        // the same order, so the outputs are equal bit for bit.
        func output(threads: Int) throws -> [Float] {
            ComputeThreads.setCount(threads)
            defer { ComputeThreads.setCount(1) }
            let conv = try Conv2D(shape: shape, algorithm: algorithm, workspaceLimit: 64 << 10)
            conv.fillRandom(seed: 11)
            conv.run()
            #expect(conv.workspaceCopies == threads)
            return Array(conv.output)
        }
        #expect(try output(threads: 2) == output(threads: 1))
    }
}
