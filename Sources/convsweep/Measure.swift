import ArgumentParser
import Basics
import ConvKernels
import Foundation
import Measurement

/// `convsweep measure`: time one conv2d configuration.
struct Measure: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time one conv2d configuration (float32, NCHW, stride 1, 'same' output size).",
        discussion: """
            Binds the process to --cpuset (one measuring process per PU: a PU another convsweep \
            measures on is refused, or waited for with --wait), runs one warm-up and then --runs \
            timed forward passes, and prints the median time, \
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
    @Option(
        help:
            "auto, im2col-gemm, gemm-1x1, reference, or oneDNN's dnnl-direct, dnnl-direct-nchw, dnnl-winograd. auto is gemm-1x1 for a 1x1 kernel, else im2col-gemm."
    )
    var algorithm: String = "auto"
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
            "PUs to bind to while timing, as a CPU list (default: the first PU of the last core this process may use, as run; with --threads N > 1, the last N PUs it may use).",
            valueName: "list"))
    var cpuset: String?
    @OptionGroup var processingUnits: ProcessingUnitOptions

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
        let topology: Topology
        let units: [Int]
        do {
            topology = try Topology()
            // Default: the last core's first PU, or the last --threads PUs this process may use.
            let given = ProcessBinding.givenAffinity
            units =
                try cpuset.map { try topology.cpuset(parsing: $0) }
                ?? (threads > 1 && given.count >= threads ? Array(given.suffix(threads)) : topology.lastCore)
        } catch { throw fail("--cpuset: \(error)", code: ExitStatus.usage) }
        let lease = try processingUnits.lock(units, purpose: "convsweep measure \(shape.description)")
        defer { lease.release() }
        do { _ = try ProcessBinding.bind(topology, to: units) } catch {
            throw fail("\(error)", code: ExitStatus.failure)
        }
        let timing: ConfigurationTiming
        do {
            timing = try ConfigurationTiming.measure(
                shape, algorithm: ConvAlgorithm(rawValue: algorithm)!, threads: threads,
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
            throw ValidationError("--h, --w, --cin, --cout, -k, --batch: \(error.description)")
        }
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
    }

    private static func gib(_ bytes: Double) -> String {
        String(format: "%.1f", bytes / Double(1 << 30))
    }
}
