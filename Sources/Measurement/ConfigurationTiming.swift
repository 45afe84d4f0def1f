import Basics
import ConvKernels
import Foundation

/// One configuration timed on its own (`convsweep measure`): a fixed number of timed runs after
/// one warm-up, through the runner's ``Sampler``, with the kernels' accounting and tiling.
///
/// Its properties are named as the JSON object `convsweep measure --json` prints them.
public struct ConfigurationTiming: Codable, Sendable {
    /// The layer's sizes: height, width, channels, kernel height (K) and width (K2), batch.
    public var H: Int, W: Int, Cin: Int, Cout: Int, K: Int, K2: Int, batch: Int
    /// The layer's kind (`conv`, `fc`), its output size, stride, dilation, padding (top, left,
    /// bottom, right) and groups.
    public var layer: String, Ho: Int, Wo: Int, stride_h: Int, stride_w: Int, dilation_h: Int, dilation_w: Int
    /// See ``layer``.
    public var pad_top: Int, pad_left: Int, pad_bottom: Int, pad_right: Int, groups: Int
    /// The layer as messages write it (`N=1 H=112 … stride=2x2 pad=1,1,1,1 groups=96`).
    public var shape: String
    /// The algorithm (`auto` resolved).
    public var algorithm: String
    /// OpenBLAS threads.
    public var threads: Int
    /// FLOPs of one forward pass.
    public var flops: Double
    /// Timed runs.
    public var runs: Int
    /// Each timed run's time in run order (ms): a slow stretch of the machine shows as a run of
    /// slow times, a slow start as slow first ones.
    public var times_ms: [Double]
    /// Median, fastest and slowest run, median lowering and GEMM phases (ms), and FLOPs / median.
    public var median_ms: Double, min_ms: Double, max_ms: Double, lowering_ms: Double, gemm_ms: Double, gflops: Double
    /// sgemm calls per pass and the piece they cover.
    public var tiles: Int, rows_per_tile: Int, channels_per_chunk: Int
    /// The lowered matrix's layout (`none` without lowering).
    public var orientation: String
    /// The im2col buffer and its limit.
    public var workspace_bytes: Int, workspace_limit_bytes: Int
    /// The tensors' bytes and the weights.
    public var input_bytes: Int, weight_bytes: Int, output_bytes: Int, parameters: Int
    /// FLOPs per byte of input, weights and output.
    public var arithmetic_intensity: Double
    /// The OpenBLAS build that ran.
    public var openblas_version: String, openblas_config: String, openblas_core: String
    /// The backend (`openblas`, `onednn`, `reference`); for oneDNN, the implementation it ran,
    /// its layouts, version and instruction set (nil otherwise).
    public var backend: String
    /// See ``backend``.
    public var implementation: String?, layouts: String?, onednn_version: String?, onednn_isa: String?

    /// Times `shape` with `algorithm`: seeded inputs, one warm-up, then `runs` timed runs.
    ///
    /// - Throws: ``Conv2DError`` when the algorithm cannot compute the shape.
    public static func measure(
        _ shape: ConvShape, algorithm: ConvAlgorithm, threads: Int, workspaceLimit: Int, runs: Int, seed: UInt64
    ) throws(Conv2DError) -> ConfigurationTiming {
        OpenBLAS.setThreadCount(threads)
        OneDNN.setThreadCount(threads)
        let conv = try Conv2D(shape: shape, algorithm: algorithm, workspaceLimit: workspaceLimit)
        conv.fillRandom(seed: seed)
        var tiles = 0
        // A zero warm-up budget stops the warm-up after its first run.
        let sampler = Sampler(rule: StopRule(fixedRuns: runs, warmUpSeconds: 0))
        let samples = sampler.measure {
            let phases = conv.run()
            tiles = phases.tiles
            return (phases.lowering, phases.gemm)
        }
        return ConfigurationTiming(conv: conv, threads: threads, samples: samples, tiles: tiles)
    }

    private init(conv: Conv2D, threads: Int, samples: Samples, tiles: Int) {
        let s = conv.shape
        let a = conv.accounting
        let tiled = conv.algorithm == .im2colGemm
        H = s.height
        W = s.width
        Cin = s.inputChannels
        Cout = s.outputChannels
        K = s.kernelHeight
        K2 = s.kernelWidth
        batch = s.batch
        layer = s.kind.rawValue
        (Ho, Wo) = (s.outputHeight, s.outputWidth)
        (stride_h, stride_w, dilation_h, dilation_w) = (
            s.strideHeight, s.strideWidth, s.dilationHeight, s.dilationWidth
        )
        (pad_top, pad_left, pad_bottom, pad_right) = s.resolvedPadding
        groups = s.groups
        shape = s.description
        algorithm = conv.algorithm.rawValue
        self.threads = threads
        flops = a.flops
        runs = samples.times.count
        times_ms = samples.times.map { $0 * 1e3 }
        let median = Statistics.median(samples.times)
        median_ms = median * 1e3
        min_ms = samples.times.min()! * 1e3
        max_ms = samples.times.max()! * 1e3
        lowering_ms = Statistics.median(samples.lowering) * 1e3
        gemm_ms = Statistics.median(samples.gemm) * 1e3
        gflops = a.flops / median / 1e9
        self.tiles = tiles
        rows_per_tile = tiled ? conv.tiling.rowsPerTile : s.outputHeight
        channels_per_chunk = tiled ? conv.tiling.channelsPerChunk : s.inputChannelsPerGroup
        orientation = tiled ? conv.tiling.orientation.rawValue : "none"
        workspace_bytes = a.workspaceBytes
        workspace_limit_bytes = conv.workspaceLimit
        input_bytes = a.inputBytes
        weight_bytes = a.weightBytes
        output_bytes = a.outputBytes
        parameters = a.parameters
        arithmetic_intensity = a.arithmeticIntensity
        openblas_version = OpenBLAS.version
        openblas_config = OpenBLAS.config
        openblas_core = OpenBLAS.coreName
        backend = conv.algorithm.backend.rawValue
        implementation = conv.dnnlChoice?.implementation
        layouts = conv.dnnlChoice?.layouts
        onednn_version = conv.dnnlChoice == nil ? nil : OneDNN.version
        onednn_isa = conv.dnnlChoice == nil ? nil : OneDNN.isa
    }

    /// The report as `convsweep measure` prints it.
    public var text: String {
        func f(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", x) }
        let mib = Double(workspace_bytes) / Double(1 << 20)
        let share = median_ms > 0 ? 100 * lowering_ms / median_ms : 0
        let heading = """
            \(layer == "fc" ? "fully connected" : "conv2d") \(shape), \(algorithm), \(threads) thread\(threads == 1 ? "" : "s")
            median \(f(median_ms)) ms over \(runs) runs (min \(f(min_ms)), max \(f(max_ms)))  \(f(gflops, 1)) GFLOP/s  (\(String(format: "%.4g", flops)) FLOPs)
            """
        if let implementation, let layouts {
            return heading + """

                phases (medians): layout reorders \(f(lowering_ms)) ms (\(f(share, 1)) %), oneDNN primitive \(f(gemm_ms)) ms
                oneDNN \(onednn_version ?? "?") (\(onednn_isa ?? "?")): implementation \(implementation), \(layouts)
                """
        }
        return heading + """

            phases (medians): lowering \(f(lowering_ms)) ms (\(f(share, 1)) %), gemm \(f(gemm_ms)) ms
            tiling: \(tiles) sgemm call\(tiles == 1 ? "" : "s"), \(rows_per_tile) output rows × \(channels_per_chunk) input channels per piece, \(orientation)
            workspace \(f(mib, 2)) MiB (limit \(workspace_limit_bytes >> 20) MiB); arithmetic intensity \(f(arithmetic_intensity, 1)) FLOP/byte
            OpenBLAS \(openblas_version), core \(openblas_core)
            """
    }
}
