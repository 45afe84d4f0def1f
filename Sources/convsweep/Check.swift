import ArgumentParser
import Basics
import ConvKernels
import Foundation
import Measurement

/// `convsweep check`: every algorithm against `reference` on a fixed set of shapes.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every layer algorithm against the reference on a fixed set of shapes.",
        discussion: """
            Shapes cover K = 1…7 (even K included), K1 ≠ K2, sizes 1 and odd, H ≠ W, Cin ≠ Cout, \
            batch 2 and channel chunking, and the layers of real networks: stride 2 and 3 (also \
            per axis), asymmetric and 'valid' padding, dilation 2 and 3, groups 2 and 3, depthwise \
            (multiplier 1 and 2, stride 1 and 2; channels in blocks of 8 and a remainder, rows of 8 \
            positions and a remainder, padding wider than the kernel), fully-connected layers of 1 and 5 rows, and one layer \
            large enough that --threads N gives each thread pieces of its own, and a depthwise one whose \
            channels it shares among them. Every \
            algorithm that computes a shape runs on it (depthwise-direct on the depthwise ones, \
            fc-gemm on the fully-connected ones, gemm-1x1 on the pointwise ones); each also runs with tiling forced on (a tiny \
            workspace limit: one output row of one channel per piece, and a few rows) and in each \
            GEMM orientation; oneDNN's algorithms (dnnl-direct, dnnl-direct-nchw, dnnl-winograd) run \
            too when the build has the backend, a shape oneDNN provides no implementation for being \
            counted, not failed. The error is ‖y − r‖₂ / ‖r‖₂ against the reference output r (double \
            accumulation); the tolerance is 4·√((Cin/groups)·K1·K2)·ε, ε = 2⁻²³. Prints the worst error per \
            algorithm and exits with status 1 if any exceeds its tolerance.
            """)

    @Option(help: "Seed of the random inputs and weights.")
    var seed: UInt64 = 1

    @Option(
        help:
            "Compute on N threads (OpenBLAS's, oneDNN's team, the lowering), each bound to its own PU among those this process was started on (1…1024)."
    )
    var threads = 1

    func validate() throws {
        guard (1...1024).contains(threads) else {
            throw ValidationError("--threads must be an integer from 1 to 1024 (got \(threads))")
        }
    }

    /// The fixed shapes: (N, H, W, Cin, Cout, K1, K2).
    static let shapes: [ConvShape] =
        [
            (1, 1, 1, 1, 1, 1, 1), (2, 5, 7, 3, 4, 1, 1), (1, 1, 9, 4, 3, 2, 2), (2, 6, 4, 5, 2, 2, 2),
            (1, 7, 5, 3, 6, 3, 3), (2, 9, 11, 8, 5, 3, 3), (1, 4, 6, 2, 3, 4, 4), (2, 3, 3, 4, 7, 5, 5),
            (1, 13, 8, 3, 2, 5, 5), (1, 8, 9, 6, 4, 6, 6), (2, 11, 1, 2, 3, 7, 7), (1, 10, 10, 7, 9, 7, 7),
            (1, 2, 2, 3, 2, 7, 7), (1, 6, 7, 3, 4, 3, 5), (2, 5, 8, 2, 3, 4, 1), (1, 12, 10, 300, 8, 3, 3),
            // Large enough that --threads N gives each thread pieces of its own.
            (1, 64, 64, 32, 8, 3, 3),
        ].map {
            ConvShape(
                batch: $0.0, height: $0.1, width: $0.2, inputChannels: $0.3, outputChannels: $0.4,
                kernelHeight: $0.5, kernelWidth: $0.6)
        } + generalShapes

    /// The layers beyond the grid's: stride, padding, dilation, groups, depthwise, fully connected.
    static let generalShapes: [ConvShape] =
        [
            ConvShape(
                height: 9, width: 9, inputChannels: 3, outputChannels: 4, kernel: 3, stride: 2, padding: .uniform(1)),
            ConvShape(
                batch: 2, height: 11, width: 8, inputChannels: 3, outputChannels: 5, kernelHeight: 7, kernelWidth: 7,
                stride: (2, 2), padding: .uniform(3)),
            ConvShape(
                height: 10, width: 7, inputChannels: 4, outputChannels: 3, kernelHeight: 2, kernelWidth: 3,
                stride: (3, 1), padding: .explicit(top: 0, left: 2, bottom: 1, right: 0)),
            ConvShape(height: 8, width: 8, inputChannels: 5, outputChannels: 6, kernel: 1, stride: 2, padding: .valid),
            ConvShape(height: 9, width: 12, inputChannels: 3, outputChannels: 4, kernel: 3, padding: .valid),
            ConvShape(height: 12, width: 10, inputChannels: 3, outputChannels: 2, kernel: 3, dilation: 2),
            ConvShape(
                height: 13, width: 11, inputChannels: 2, outputChannels: 3, kernelHeight: 3, kernelWidth: 2,
                stride: (2, 1), padding: .explicit(top: 3, left: 1, bottom: 0, right: 2), dilation: (3, 2)),
            ConvShape(height: 7, width: 9, inputChannels: 4, outputChannels: 6, kernel: 3, groups: 2),
            ConvShape(
                batch: 2, height: 8, width: 8, inputChannels: 6, outputChannels: 9, kernel: 3, stride: 2,
                padding: .uniform(1), groups: 3),
            ConvShape(height: 7, width: 7, inputChannels: 8, outputChannels: 4, kernel: 1, groups: 4),
            ConvShape(height: 10, width: 9, inputChannels: 6, outputChannels: 6, kernel: 3, groups: 6),
            // Large enough that --threads N shares its channels among the threads.
            ConvShape(
                height: 64, width: 64, inputChannels: 24, outputChannels: 24, kernel: 3, padding: .uniform(1),
                groups: 24),
            ConvShape(
                batch: 2, height: 11, width: 12, inputChannels: 5, outputChannels: 5, kernel: 3, stride: 2,
                padding: .uniform(1), groups: 5),
            ConvShape(height: 9, width: 9, inputChannels: 4, outputChannels: 8, kernel: 5, groups: 4),
            ConvShape(
                height: 12, width: 13, inputChannels: 3, outputChannels: 3, kernelHeight: 5, kernelWidth: 3,
                stride: (2, 3), padding: .explicit(top: 2, left: 0, bottom: 1, right: 1), dilation: (1, 2), groups: 3),
            ConvShape(
                height: 4, width: 4, inputChannels: 3, outputChannels: 3, kernel: 7, padding: .uniform(3), groups: 3),
        ]
        + Conv2D.depthwiseKernelEdges + [
            .fullyConnected(rows: 1, inputs: 37, outputs: 11),
            .fullyConnected(rows: 5, inputs: 300, outputs: 7),
        ]

    /// One way of running a shape: an algorithm with a workspace limit or forced tiling.
    struct Variant {
        var name: String
        var algorithm: ConvAlgorithm
        var workspaceLimit: Int? = nil
        var tiling: ConvTiling? = nil
    }

    static func variants(for shape: ConvShape) -> [Variant] {
        var list = [
            Variant(name: "auto", algorithm: .auto),
            Variant(name: "im2col-gemm", algorithm: .im2colGemm),
            Variant(name: "im2col-gemm, tiny workspace", algorithm: .im2colGemm, workspaceLimit: 4),
            Variant(
                name: "im2col-gemm, 3-row tiles", algorithm: .im2colGemm,
                workspaceLimit: 3 * shape.outputWidth * shape.kernelSize * min(2, shape.inputChannelsPerGroup) * 4),
        ]
        for orientation in GemmOrientation.allCases where orientation != .rowMajor {
            list.append(
                Variant(
                    name: "im2col-gemm, \(orientation), 2-row × 2-channel pieces", algorithm: .im2colGemm,
                    tiling: ConvTiling(rowsPerTile: 2, channelsPerChunk: 2, orientation: orientation)))
        }
        for algorithm in [ConvAlgorithm.gemm1x1, .depthwiseDirect, .fullyConnectedGemm] where algorithm.supports(shape)
        {
            list.append(Variant(name: algorithm.rawValue, algorithm: algorithm))
        }
        for algorithm in ConvAlgorithm.concrete where algorithm.backend == .onednn && algorithm.supports(shape) {
            list.append(Variant(name: algorithm.rawValue, algorithm: algorithm))
        }
        return list
    }

    func run() throws {
        let given = try startComputeThreads(threads, command: "check")
        if threads > 1 {
            Swift.print("on \(threads) threads, PUs \(CPUSet.format(Array(given.units.prefix(threads))))")
        }
        var tally = Tally()
        for shape in Check.shapes { try check(shape, into: &tally) }
        tally.print(shapes: Check.shapes.count)
        if !tally.failures.isEmpty {
            Swift.print("convsweep check: \(tally.failures.count) mismatch\(tally.failures.count == 1 ? "" : "es")")
            throw ExitCode(ExitStatus.failure)
        }
        Swift.print("convsweep check: all algorithms agree with the reference")
    }

    /// Checks every variant of `shape` against the reference, into `tally`.
    private func check(_ shape: ConvShape, into tally: inout Tally) throws {
        let reference = try Conv2D(shape: shape, algorithm: .reference)
        reference.fillRandom(seed: seed)
        reference.run()
        let tolerance = Verification.tolerance(for: shape)
        for variant in Check.variants(for: shape) {
            let conv: Conv2D
            do {
                conv = try Conv2D(
                    shape: shape, algorithm: variant.algorithm,
                    workspaceLimit: variant.workspaceLimit ?? Conv2D.defaultWorkspaceLimit, tiling: variant.tiling)
            } catch {
                // oneDNN has no such implementation here (Winograd off AVX-512, say): not a mismatch.
                guard case .notProvided = error else { throw error }
                tally.notProvided[variant.name, default: 0] += 1
                continue
            }
            if let choice = conv.dnnlChoice {
                tally.implementations[variant.name, default: []].insert(choice.implementation)
            }
            conv.fillRandom(seed: seed)
            let phases = conv.run()
            let error = Verification.relativeError(
                UnsafeBufferPointer(conv.output), reference: UnsafeBufferPointer(reference.output))
            tally.record(variant.name, error: error, tolerance: tolerance)
            if !(error <= tolerance) {
                tally.failures.append(
                    "MISMATCH \(variant.name) on \(shape): relative error \(String(format: "%.3g", error)) > tolerance \(String(format: "%.3g", tolerance)) (\(phases.tiles) pieces)"
                )
            }
        }
    }

    /// What the check found of each variant, in the order first checked.
    private struct Tally {
        /// Worst error, worst share of the tolerance, and shapes checked, by variant.
        var worst: [String: (error: Double, ratio: Double, shapes: Int)] = [:]
        /// The variants in the order first checked.
        var order: [String] = []
        /// One line per mismatch.
        var failures: [String] = []
        /// Shapes oneDNN provides no implementation for, by variant.
        var notProvided: [String: Int] = [:]
        /// The oneDNN implementations each variant ran.
        var implementations: [String: Set<String>] = [:]

        /// Counts a check of `name` with `error` against `tolerance`.
        mutating func record(_ name: String, error: Double, tolerance: Double) {
            if worst[name] == nil { order.append(name) }
            let previous = worst[name] ?? (0, 0, 0)
            worst[name] = (max(previous.error, error), max(previous.ratio, error / tolerance), previous.shapes + 1)
        }

        /// Prints a line per variant, then the mismatches.
        func print(shapes: Int) {
            Swift.print(
                "convsweep check: \(shapes) shapes against the reference, error ‖y − r‖₂/‖r‖₂, tolerance 4·√((Cin/groups)·K1·K2)·ε"
            )
            for name in order {
                guard let w = worst[name] else { continue }
                Swift.print(
                    "  \(name.padding(toLength: 52, withPad: " ", startingAt: 0)) \(String(format: "%3d", w.shapes)) shapes  worst error \(String(format: "%.2e", w.error))  (\(String(format: "%.3f", w.ratio)) of its tolerance)"
                        + (implementations[name].map { "  oneDNN ran " + $0.sorted().joined(separator: ", ") } ?? "")
                )
            }
            for (name, count) in notProvided.sorted(by: { $0.key < $1.key }) {
                Swift.print(
                    "  \(name.padding(toLength: 52, withPad: " ", startingAt: 0)) not provided by oneDNN for \(count) of \(shapes) shapes on this CPU"
                )
            }
            if !OneDNN.isAvailable {
                Swift.print("  (this build has no oneDNN backend: the dnnl-* algorithms were not checked)")
            }
            for failure in failures { Swift.print(failure) }
        }
    }
}
