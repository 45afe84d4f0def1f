import Basics
import ConvKernels
import Foundation

/// convsweep's conv2d against one plain sgemm on an already lowered input, on shapes drawn from
/// the replication's experiments (`convsweep bench-kernels`, run by `benchmarks/kernels`).
///
/// Per shape, the contenders (the conv2d variants, then the sgemm) are timed in turn, one
/// repetition of each before the next, so that a slow phase of a shared machine falls on all of
/// them; each contender's times are summarised by ``statistic``.
public struct KernelBenchmark: Sendable {
    /// How a contender's repetitions are summarised.
    public enum Statistic: String, CaseIterable, Sendable {
        /// The median (the default).
        case median
        /// The fastest repetition.
        case min
    }

    /// A shape of the benchmark and its label (experiment and what varies).
    public struct LabelledShape: Sendable {
        /// E.g. `B K=3`.
        public var label: String
        /// The layer.
        public var shape: ConvShape
    }

    /// The machine's large-sgemm rate, measured in the same run.
    public struct Rate: Codable, Sendable {
        /// GFLOP/s of an n³ sgemm: the median of 3 runs after a warm-up.
        public var largeSgemmGflops: Double
        /// The n of that sgemm.
        public var largeN: Int
        /// OpenBLAS's build configuration.
        public var openblas: String
        /// OpenBLAS's kernel set.
        public var core: String

        enum CodingKeys: String, CodingKey {
            case largeSgemmGflops = "large_sgemm_gflops"
            case largeN = "large_n"
            case openblas, core
        }
    }

    /// The figures of one shape.
    public struct ShapeResult: Codable, Sendable {
        /// The shape's label.
        public var label: String
        /// The layer's sizes.
        public var H: Int, W: Int, Cin: Int, Cout: Int, K: Int
        /// FLOPs of one forward pass.
        public var flops: Double
        /// The first variant's summary time, milliseconds.
        public var convMs: Double
        /// The plain sgemm's summary time, milliseconds.
        public var sgemmMs: Double
        /// The first variant's lowering time, milliseconds.
        public var loweringMs: Double
        /// sgemm calls of the first variant's forward pass.
        public var pieces: Int
        /// The variants timed, first the one compared.
        public var variants: [String]
        /// Each variant's summary time, milliseconds.
        public var variantMs: [Double]
        /// Repetitions per contender.
        public var reps: Int
        /// The other backends' algorithms, timed in the same interleaving (empty when none is asked for).
        public var backends: [BackendResult]

        enum CodingKeys: String, CodingKey {
            case label, H, W, Cin, Cout, K, flops, pieces, variants, reps, backends
            case convMs = "conv_ms"
            case sgemmMs = "sgemm_ms"
            case loweringMs = "lowering_ms"
            case variantMs = "variant_ms"
        }
    }

    /// One algorithm of another backend (oneDNN) on one shape.
    public struct BackendResult: Codable, Sendable {
        /// The algorithm, e.g. `dnnl-direct`.
        public var algorithm: String
        /// What oneDNN ran and its layouts; nil when it refused the shape.
        public var implementation: String?, layouts: String?
        /// The whole call (reorders included), as convsweep times it, milliseconds.
        public var ms: Double?
        /// The primitive alone (the call's compute phase), milliseconds.
        public var primitiveMs: Double?
        /// The same call timed in C around the bare oneDNN calls, milliseconds.
        public var bareMs: Double?
        /// Why oneDNN refused the shape, when it did.
        public var refused: String?

        enum CodingKeys: String, CodingKey {
            case algorithm, implementation, layouts, ms, refused
            case primitiveMs = "primitive_ms"
            case bareMs = "bare_ms"
        }
    }

    /// Shapes from experiments B, C, D, E, G (K > 1) and B, F (K = 1), and a skinny 1×1 layer
    /// (4×4, 6400 → 6400) where OpenBLAS's GEMM is at its weakest.
    public static let shapes: [LabelledShape] = [
        ("B K=3", 100, 100, 150, 150, 3), ("B K=5", 60, 60, 100, 100, 5), ("B K=7", 43, 43, 70, 70, 7),
        ("B K=11", 27, 27, 50, 50, 11), ("C K=3", 10, 10, 1500, 1500, 3), ("C K=7", 10, 10, 429, 429, 7),
        ("C K=14", 10, 10, 150, 150, 14), ("D W=200", 100, 200, 100, 100, 3), ("E Cout=320", 100, 100, 50, 320, 3),
        ("E Cout=40", 100, 100, 150, 40, 3), ("G K=5", 10, 10, 500, 100, 5), ("G K=3", 10, 10, 1000, 100, 3),
        ("B K=1", 300, 300, 150, 150, 1), ("F W=200", 200, 100, 50, 300, 1), ("skinny 1x1", 4, 4, 6400, 6400, 1),
    ].map { label, h, w, cin, cout, k in
        LabelledShape(
            label: label, shape: ConvShape(height: h, width: w, inputChannels: cin, outputChannels: cout, kernel: k))
    }

    /// Timed repetitions per shape and contender.
    public var repetitions: Int
    /// How each contender's repetitions are summarised.
    public var statistic: Statistic
    /// The conv2d variants timed; the first is the one compared with the sgemm.
    public var variants: [TilingVariant]
    /// Algorithms of other backends timed beside them (`dnnl-*`).
    public var algorithms: [ConvAlgorithm] = []

    /// A benchmark of `variants`, `repetitions` times each, summarised by `statistic`.
    public init(repetitions: Int = 11, statistic: Statistic = .median, variants: [TilingVariant] = [.planned]) {
        self.repetitions = repetitions
        self.statistic = statistic
        self.variants = variants
    }

    /// The rate of an n³ sgemm on this machine: the median of 3 runs after a warm-up.
    public static func largeRate(n: Int) -> Rate {
        let sgemm = PlainSgemm(m: n, n: n, k: n)
        sgemm.run()
        let times = (0..<3).map { _ in MonotonicClock.seconds(sgemm.run) }
        return Rate(
            largeSgemmGflops: sgemm.flops / Statistics.median(times) / 1e9, largeN: n, openblas: OpenBLAS.config,
            core: OpenBLAS.coreName)
    }

    /// Times every variant of the conv2d of `shape` and the plain sgemm, interleaved.
    public func measure(_ shape: LabelledShape) throws -> ShapeResult {
        let s = shape.shape
        let convs = try variants.map { variant -> Conv2D in
            let conv = try Conv2D(shape: s, tiling: variant.tiling(for: s))
            conv.fillRandom(seed: 1)
            conv.run()
            return conv
        }
        let sgemm = PlainSgemm(loweredConvolutionOf: s)
        sgemm.run()
        let others = preparedAlgorithms(s)
        var otherTimes = [[Double]](repeating: [], count: others.count)
        var otherPrimitive = [[Double]](repeating: [], count: others.count)
        var otherBare = [[Double]](repeating: [], count: others.count)
        var convTimes = [[Double]](repeating: [], count: convs.count)
        var loweringTimes: [Double] = []
        var sgemmTimes: [Double] = []
        var pieces = 0
        for _ in 0..<repetitions {
            for (index, conv) in convs.enumerated() {
                var phases = PhaseTimes()
                convTimes[index].append(MonotonicClock.seconds { phases = conv.run() })
                if index == 0 {
                    loweringTimes.append(phases.lowering)
                    pieces = phases.tiles
                }
            }
            sgemmTimes.append(MonotonicClock.seconds(sgemm.run))
            for (index, other) in others.enumerated() {
                guard let conv = other.conv else { continue }
                var phases = PhaseTimes()
                otherTimes[index].append(MonotonicClock.seconds { phases = conv.run() })
                otherPrimitive[index].append(phases.gemm)
                otherBare[index] += conv.bareDnnlSeconds(repetitions: 1) ?? []
            }
        }
        let backends = others.enumerated().map { index, other in
            BackendResult(
                algorithm: other.algorithm.rawValue, implementation: other.conv?.dnnlChoice?.implementation,
                layouts: other.conv?.dnnlChoice?.layouts,
                ms: otherTimes[index].isEmpty ? nil : summary(otherTimes[index]) * 1e3,
                primitiveMs: otherPrimitive[index].isEmpty ? nil : summary(otherPrimitive[index]) * 1e3,
                bareMs: otherBare[index].isEmpty ? nil : summary(otherBare[index]) * 1e3, refused: other.refused)
        }
        return ShapeResult(
            label: shape.label, H: s.height, W: s.width, Cin: s.inputChannels, Cout: s.outputChannels,
            K: s.kernelHeight, flops: Accounting(shape: s).flops, convMs: summary(convTimes[0]) * 1e3,
            sgemmMs: summary(sgemmTimes) * 1e3, loweringMs: summary(loweringTimes) * 1e3, pieces: pieces,
            variants: variants.map(\.description), variantMs: convTimes.map { summary($0) * 1e3 }, reps: repetitions,
            backends: backends)
    }

    /// Each of ``algorithms`` on `shape`, filled and run once, or why it is refused.
    private func preparedAlgorithms(
        _ shape: ConvShape
    ) -> [(algorithm: ConvAlgorithm, conv: Conv2D?, refused: String?)] {
        algorithms.map { algorithm in
            do {
                let conv = try Conv2D(shape: shape, algorithm: algorithm)
                conv.fillRandom(seed: 1)
                conv.run()
                return (algorithm, conv, nil)
            } catch {
                return (algorithm, nil, "\(error)")
            }
        }
    }

    private func summary(_ times: [Double]) -> Double {
        statistic == .min ? times.min()! : Statistics.median(times)
    }
}

extension KernelBenchmark.ShapeResult {
    /// One line of the text table, against the machine's large-sgemm `rate`.
    public func tableLine(rate: KernelBenchmark.Rate) -> String {
        let gflops = flops / convMs / 1e6
        let others = variantMs.dropFirst().map { String(format: "%.3f", $0) }.joined(separator: " ")
        return String(
            format: "%-10@ %4d %4d %5d %5d %2d %8.3f %9.3f %11.3f %8.1f %8.1f %9.2f %7d  %@", label as NSString, H, W,
            Cin, Cout, K, convMs, sgemmMs, convMs / sgemmMs, 100 * loweringMs / convMs, gflops,
            gflops / rate.largeSgemmGflops, pieces, others as NSString)
    }

    /// The header of the text table.
    public static func tableHeader(variantCount: Int) -> String {
        "shape        H    W   Cin  Cout  K  conv ms  sgemm ms  conv/sgemm  lower %  GFLOP/s  of large  pieces  "
            + (variantCount > 1 ? "others (ms)" : "")
    }
}
