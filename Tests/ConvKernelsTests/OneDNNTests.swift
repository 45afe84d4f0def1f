import Basics
import PropertyBased
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
