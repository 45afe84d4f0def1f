import ArgumentParser
import Basics
import ConvKernels
import Foundation
import Measurement

/// `convsweep measure`: time one conv2d configuration.
struct Measure: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Time one layer: a conv2d (float32, NCHW; any stride, padding, dilation, groups) or a fully-connected layer.",
        discussion: """
            Binds the process to --cpuset (one measuring process per PU: a PU another convsweep \
            measures on is refused, or waited for with --wait), runs one warm-up and then --runs \
            timed forward passes, and prints the median time, \
            GFLOP/s (FLOPs = 2·N·Ho·Wo·Cout·(Cin/groups)·K1·K2), the median lowering and GEMM \
            times, the tiling and the workspace. Inputs and weights are seeded random values in \
            [-1, 1]. The default layer is the alpha-FLOPs grid's: stride 1, dilation 1, groups 1 \
            and padding 'same' (even kernels pad (K-1)/2 before and K/2 after, as PyTorch's); \
            the output is Ho = floor((H + top + bottom - dilation·(K1-1) - 1) / stride) + 1, and \
            likewise Wo. --fc measures a fully-connected layer instead: --batch rows of --cin \
            features into --cout (no -k, --h, --w, stride, padding, dilation or groups).

            Examples:
              convsweep measure --h 100 --w 100 --cin 150 --cout 100 -k 3 --json
              convsweep measure --h 112 --w 112 --cin 96 --cout 96 -k 3 --stride 2 --padding 1 --groups 96
              convsweep measure --fc --batch 1 --cin 2048 --cout 1000
            """)

    @Option(name: .customLong("h"), help: "Input height H (1…1048576; a convolution needs it).")
    var height: Int?
    @Option(name: .customLong("w"), help: "Input width W (1…1048576; a convolution needs it).")
    var width: Int?
    @Option(help: "Input channels Cin, or a fully-connected layer's input features (1…1048576).")
    var cin: Int
    @Option(help: "Output channels Cout, or a fully-connected layer's output features (1…1048576).")
    var cout: Int
    @Option(
        name: .customShort("k"),
        help: "Kernel height K1, and width unless --k2 is given (1…1048576; a convolution needs it).")
    var kernel: Int?
    @Option(help: "Kernel width K2 (default: the same as -k).")
    var k2: Int?
    @Option(help: "Images per batch N, or a fully-connected layer's rows M (1…1048576).")
    var batch: Int = 1
    @OptionGroup var geometry: LayerGeometryOptions
    @Option(
        help: ArgumentHelp(
            "Groups: G divides --cin and --cout (default 1); 'depthwise' is --cin groups (--cout a multiple of --cin).",
            valueName: "G|depthwise"))
    var groups: GroupsArgument?
    @Option(
        help: ArgumentHelp(
            "auto, im2col-gemm, gemm-1x1, depthwise-direct, fc-gemm, reference, or oneDNN's dnnl-direct, dnnl-direct-nchw, dnnl-winograd. auto is fc-gemm for a fully-connected layer, depthwise-direct for a depthwise one, gemm-1x1 for a pointwise one (1x1, stride 1, no padding), else im2col-gemm.",
            valueName: "algorithm"))
    var algorithm: ConvAlgorithm = .auto
    @Option(help: "Threads of OpenBLAS, or of oneDNN's OpenMP team for a dnnl-* algorithm (1…1024).")
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
    @Option(
        help: ArgumentHelp(
            "PUs to bind to while timing, as a CPU list (default: the first PU of the last core this process may use, as run; with --threads N > 1, N cores placed close, as run places them: convsweep topology --threads N shows which).",
            valueName: "list"))
    var cpuset: String?
    @OptionGroup var processingUnits: ProcessingUnitOptions

    var shape: ConvShape {
        if geometry.fullyConnected { return .fullyConnected(rows: batch, inputs: cin, outputs: cout) }
        return geometry.applied(
            to: ConvShape(
                batch: batch, height: height ?? 1, width: width ?? 1, inputChannels: cin, outputChannels: cout,
                kernelHeight: kernel ?? 1, kernelWidth: k2 ?? kernel ?? 1), groups: groups)
    }

    func validate() throws {
        if geometry.fullyConnected {
            try geometry.validateFullyConnected(
                given: [("--h", height), ("--w", width), ("-k", kernel), ("--k2", k2)],
                groups: ("--groups", groups != nil))
        } else {
            for (flag, value) in [("--h", height), ("--w", width), ("-k", kernel)] where value == nil {
                throw ValidationError("\(flag) is needed for a convolution (or give --fc for a fully-connected layer)")
            }
        }
        try ShapeArguments.validate(
            [
                ("--h", height ?? 1), ("--w", width ?? 1), ("--cin", cin), ("--cout", cout), ("-k", kernel ?? 1),
                ("--k2", k2 ?? kernel ?? 1), ("--batch", batch),
            ])
        try geometry.validate(groups: groups, groupsFlag: "--groups")
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
        try ShapeArguments.validateMemory(shape)
        if algorithm == .gemm1x1, (kernel ?? 1) != 1 || (k2 ?? kernel ?? 1) != 1 {
            throw ValidationError(
                "--algorithm gemm-1x1 needs a 1x1 kernel (-k 1; got -k \(kernel ?? 1)\(k2.map { " --k2 \($0)" } ?? ""))"
            )
        }
        if let reason = algorithm.reasonUnsupported(shape) {
            throw ValidationError("--algorithm \(algorithm): \(reason) (got \(shape))")
        }
    }

    func run() throws {
        ComputeThreads.startQuietIfNeeded(threads: threads, executable: BuildInfo.executablePath())
        let topology: Topology
        let units: [Int]
        do {
            topology = try Topology()
            // Default: the last core's first PU, or --threads cores placed close (as run places them).
            units =
                try cpuset.map { try topology.cpuset(parsing: $0) }
                ?? topology.defaultProcessingUnits(threads: threads, ThreadPlacement())
        } catch let error as PlacementError {
            throw fail("--threads \(threads): \(error)", code: ExitStatus.usage)
        } catch { throw fail("--cpuset: \(error)", code: ExitStatus.usage) }
        let lease = try processingUnits.lock(units)
        defer { lease.release() }
        do { _ = try ProcessBinding.bind(topology, to: units, under: lease) } catch {
            throw fail("\(error)", code: ExitStatus.failure)
        }
        // Each compute thread on a PU of its own, as a run binds them.
        for problem in ComputeThreads.start(threads, on: units) {
            FileHandle.standardError.write(Data("convsweep: warning: \(problem)\n".utf8))
        }
        let timing: ConfigurationTiming
        do {
            timing = try ConfigurationTiming.measure(
                shape, algorithm: algorithm, threads: threads,
                workspaceLimit: workspaceMiB << 20, runs: runs, seed: seed)
        } catch {
            throw ValidationError(error.description)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(timing), as: UTF8.self))
        } else {
            print(timing.text)
        }
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
        do { try shape.validate() } catch {
            throw ValidationError("\(LayerGeometryOptions.flag(naming: error)): \(error.description)")
        }
        let s = shape
        let elements =
            Double(s.batch) * Double(s.inputChannels) * Double(s.height) * Double(s.width)
            + Double(s.outputChannels) * Double(s.inputChannelsPerGroup) * Double(s.kernelSize)
            + Double(s.batch) * Double(s.outputChannels) * Double(s.spatialSize)
        let bytes = elements * Double(MemoryLayout<Float>.stride)
        let memory = Double(SystemMemory.physicalBytes)
        if bytes > memory {
            throw ValidationError(
                "--h, --w, --cin, --cout, -k, --batch: the input, weight and output tensors alone need \(gib(bytes)) GiB, more than this machine's \(gib(memory)) GiB of memory"
            )
        }
    }

    private static func gib(_ bytes: Double) -> String {
        String(format: "%.1f", bytes / Double(1 << 30))
    }
}
