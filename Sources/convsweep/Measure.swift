import ArgumentParser
import Basics
import ConvKernels
import Foundation

/// `convsweep measure`: time one conv2d configuration.
struct Measure: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time one conv2d configuration (float32, NCHW, stride 1, 'same' output size).",
        discussion: """
            Runs one warm-up and then --runs timed forward passes, and prints the median time, \
            GFLOP/s (FLOPs = 2·K1·K2·Cin·Cout·H·W·N), the median lowering and GEMM times, the \
            tiling and the workspace. Inputs and weights are seeded random values in [-1, 1]. \
            Even kernels pad (K-1)/2 before and K/2 after, as PyTorch's padding='same'.

            Example: convsweep measure --h 100 --w 100 --cin 150 --cout 100 -k 3 --json
            """)

    @Option(name: .customLong("h"), help: "Input and output height H (1…1048576).")
    var height: Int
    @Option(name: .customLong("w"), help: "Input and output width W (1…1048576).")
    var width: Int
    @Option(help: "Input channels Cin (1…1048576).")
    var cin: Int
    @Option(help: "Output channels Cout (1…1048576).")
    var cout: Int
    @Option(name: .customShort("k"), help: "Kernel height K1, and width unless --k2 is given (1…1048576).")
    var kernel: Int
    @Option(help: "Kernel width K2 (default: the same as -k).")
    var k2: Int?
    @Option(help: "Images per batch N (1…1048576).")
    var batch: Int = 1
    @Option(help: "auto, im2col-gemm, gemm-1x1 or reference. auto is gemm-1x1 for a 1x1 kernel, else im2col-gemm.")
    var algorithm: String = "auto"
    @Option(help: "OpenBLAS threads (1…1024).")
    var threads: Int = 1
    @Option(
        name: .customLong("workspace-mib"),
        help: "Largest im2col buffer in MiB; larger lowerings are tiled (1…physical memory).")
    var workspaceMiB: Int = Conv2D.defaultWorkspaceLimit >> 20
    @Option(help: "Timed runs after one warm-up (1…100000).")
    var runs: Int = 5
    @Option(help: "Seed of the random input and weights.")
    var seed: UInt64 = 1
    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    var shape: ConvShape {
        ConvShape(
            batch: batch, height: height, width: width, inputChannels: cin, outputChannels: cout,
            kernelHeight: kernel, kernelWidth: k2 ?? kernel)
    }

    func validate() throws {
        try ShapeArguments.validate(
            [
                ("--h", height), ("--w", width), ("--cin", cin), ("--cout", cout), ("-k", kernel),
                ("--k2", k2 ?? kernel), ("--batch", batch),
            ])
        guard ConvAlgorithm(rawValue: algorithm) != nil else {
            throw ValidationError(
                "--algorithm must be one of \(ConvAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")) (got '\(algorithm)')"
            )
        }
        guard (1...1024).contains(threads) else {
            throw ValidationError("--threads must be an integer from 1 to 1024 (got \(threads))")
        }
        guard (1...100_000).contains(runs) else {
            throw ValidationError("--runs must be an integer from 1 to 100000 (got \(runs))")
        }
        let memoryMiB = SystemMemory.physicalBytes >> 20
        guard (1...memoryMiB).contains(workspaceMiB) else {
            throw ValidationError(
                "--workspace-mib must be an integer from 1 to \(memoryMiB) (this machine's memory; got \(workspaceMiB))"
            )
        }
        if ConvAlgorithm(rawValue: algorithm) == .gemm1x1, kernel != 1 || (k2 ?? kernel) != 1 {
            throw ValidationError(
                "--algorithm gemm-1x1 needs a 1x1 kernel (-k 1; got -k \(kernel)\(k2.map { " --k2 \($0)" } ?? ""))")
        }
        try ShapeArguments.validateMemory(shape)
    }

    func run() throws {
        OpenBLAS.setThreadCount(threads)
        let conv: Conv2D
        do {
            conv = try Conv2D(
                shape: shape, algorithm: ConvAlgorithm(rawValue: algorithm)!,
                workspaceLimit: workspaceMiB << 20)
        } catch {
            throw ValidationError(error.description)
        }
        conv.fillRandom(seed: seed)
        conv.run()  // warm-up
        var totals: [Double] = []
        var lowerings: [Double] = []
        var gemms: [Double] = []
        var tiles = 0
        for _ in 0..<runs {
            let start = MonotonicClock.now()
            let phases = conv.run()
            totals.append(MonotonicClock.now() - start)
            lowerings.append(phases.lowering)
            gemms.append(phases.gemm)
            tiles = phases.tiles
        }
        let report = MeasureReport(
            conv: conv, threads: threads, totals: totals, lowerings: lowerings, gemms: gemms,
            tiles: tiles)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text)
        }
    }
}

/// The result of `convsweep measure`, printed as text or as one JSON object.
struct MeasureReport: Encodable {
    var H, W, Cin, Cout, K, K2, batch: Int
    var algorithm: String
    var threads: Int
    var flops: Double
    var runs: Int
    var median_ms, min_ms, max_ms, lowering_ms, gemm_ms, gflops: Double
    var tiles, rows_per_tile, channels_per_chunk: Int
    var orientation: String
    var workspace_bytes, workspace_limit_bytes: Int
    var input_bytes, weight_bytes, output_bytes, parameters: Int
    var arithmetic_intensity: Double
    var openblas_version, openblas_config, openblas_core: String

    init(conv: Conv2D, threads: Int, totals: [Double], lowerings: [Double], gemms: [Double], tiles: Int) {
        let s = conv.shape
        let a = conv.accounting
        H = s.height
        W = s.width
        Cin = s.inputChannels
        Cout = s.outputChannels
        K = s.kernelHeight
        K2 = s.kernelWidth
        batch = s.batch
        algorithm = conv.algorithm.rawValue
        self.threads = threads
        flops = a.flops
        runs = totals.count
        median_ms = MeasureReport.median(totals) * 1e3
        min_ms = totals.min()! * 1e3
        max_ms = totals.max()! * 1e3
        lowering_ms = MeasureReport.median(lowerings) * 1e3
        gemm_ms = MeasureReport.median(gemms) * 1e3
        gflops = a.flops / MeasureReport.median(totals) / 1e9
        self.tiles = tiles
        rows_per_tile = conv.algorithm == .im2colGemm ? conv.tiling.rowsPerTile : s.height
        channels_per_chunk = conv.algorithm == .im2colGemm ? conv.tiling.channelsPerChunk : s.inputChannels
        orientation = conv.algorithm == .im2colGemm ? conv.tiling.orientation.rawValue : "none"
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
    }

    /// The median of a non-empty list (the mean of the two middle values for an even count).
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    var text: String {
        func f(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", x) }
        let mib = Double(workspace_bytes) / Double(1 << 20)
        let share = median_ms > 0 ? 100 * lowering_ms / median_ms : 0
        return """
            conv2d N=\(batch) H=\(H) W=\(W) Cin=\(Cin) Cout=\(Cout) K=\(K)x\(K2), \(algorithm), \(threads) thread\(threads == 1 ? "" : "s")
            median \(f(median_ms)) ms over \(runs) runs (min \(f(min_ms)), max \(f(max_ms)))  \(f(gflops, 1)) GFLOP/s  (\(String(format: "%.4g", flops)) FLOPs)
            phases (medians): lowering \(f(lowering_ms)) ms (\(f(share, 1)) %), gemm \(f(gemm_ms)) ms
            tiling: \(tiles) sgemm call\(tiles == 1 ? "" : "s"), \(rows_per_tile) output rows × \(channels_per_chunk) input channels per piece, \(orientation)
            workspace \(f(mib, 2)) MiB (limit \(workspace_limit_bytes >> 20) MiB); arithmetic intensity \(f(arithmetic_intensity, 1)) FLOP/byte
            OpenBLAS \(openblas_version), core \(openblas_core)
            """
    }
}

/// Validation of shape flags shared by the commands that take them.
enum ShapeArguments {
    /// Each flag must be an integer from 1 to ``ConvShape/maximumDimension``.
    static func validate(_ flags: [(String, Int)]) throws {
        for (flag, value) in flags where !(1...ConvShape.maximumDimension).contains(value) {
            throw ValidationError(
                "\(flag) must be an integer from 1 to \(ConvShape.maximumDimension) (got \(value))")
        }
    }

    /// The input, weight and output tensors must fit in physical memory together.
    static func validateMemory(_ shape: ConvShape) throws {
        let s = shape
        let elements =
            Double(s.batch) * Double(s.inputChannels) * Double(s.height) * Double(s.width)
            + Double(s.outputChannels) * Double(s.inputChannels) * Double(s.kernelSize)
            + Double(s.batch) * Double(s.outputChannels) * Double(s.height) * Double(s.width)
        let bytes = elements * Double(MemoryLayout<Float>.stride)
        let memory = Double(SystemMemory.physicalBytes)
        if bytes > memory {
            throw ValidationError(
                "--h, --w, --cin, --cout, -k, --batch: the input, weight and output tensors alone need \(gib(bytes)) GiB, more than this machine's \(gib(memory)) GiB of memory"
            )
        }
        do { try shape.validate() } catch {
            throw ValidationError("--h, --w, --cin, --cout, -k, --batch: \(error.description)")
        }
    }

    private static func gib(_ bytes: Double) -> String {
        String(format: "%.1f", bytes / Double(1 << 30))
    }
}
