import ArgumentParser
import Basics
import ConvKernels
import Foundation
import Measurement

/// `convsweep bench-kernels` (hidden): convsweep's conv2d against one plain sgemm on an already
/// lowered input, on shapes drawn from the replication's experiments. `benchmarks/kernels`
/// runs it pinned to one core and adds ONNX Runtime's Conv.
struct BenchKernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-kernels",
        abstract: "Benchmark the conv2d kernels against a plain sgemm (used by benchmarks/kernels).",
        discussion: """
            Per shape, interleaves --reps timed runs of convsweep's conv2d and of ONE plain sgemm \
            with M = Cout, N = H·W, K = Cin·K1·K2 on an already lowered input, and prints their \
            medians, the ratio, GFLOP/s and the fraction of this machine's large-sgemm rate \
            (a 2048³ sgemm measured in the same run). One thread, or --threads N each on its own PU; pin the process yourself.
            """,
        shouldDisplay: false)

    @Option(help: "Timed repetitions per shape and contender.")
    var reps: Int = 11
    @Option(
        help: """
            Comma-separated variants of convsweep's conv2d to time, interleaved; the first is the one \
            compared. Each is 'planned', an orientation (row-major, column-major, patch-major) with the \
            planned tiling, ROWS:CHANNELS[:ORIENTATION], or plan:TARGET_KIB:MIN_POSITIONS:MIN_DEPTH (the planner with other constants).
            """)
    var variants: String = "planned"
    @Option(help: "Only the shapes whose label contains this text.")
    var only: String?
    @Option(help: "Size of the square sgemm that sets this machine's rate.")
    var large: Int = 2048
    @Option(help: "median (the default) or min: the statistic of each contender's reps.")
    var statistic: String = "median"
    @Flag(help: "Print one JSON object per line (the rate first, then one per shape).")
    var json = false
    @Flag(
        name: .customLong("onednn"),
        help: "Also time oneDNN's algorithms (dnnl-direct, dnnl-direct-nchw, dnnl-winograd) in the same interleaving.")
    var oneDNN = false
    @Option(
        help: ArgumentHelp(
            "Threads of every contender, the plain sgemm's too, each compute thread bound to its own PU among those the process was started on (taskset -c with N PUs).",
            valueName: "n"))
    var threads = 1
    @OptionGroup var processingUnits: ProcessingUnitOptions

    func validate() throws {
        guard (1...1000).contains(reps) else {
            throw ValidationError("--reps must be an integer from 1 to 1000 (got \(reps))")
        }
        guard KernelBenchmark.Statistic(rawValue: statistic) != nil else {
            throw ValidationError("--statistic must be median or min (got '\(statistic)')")
        }
        if oneDNN && !OneDNN.isAvailable {
            throw ValidationError("--onednn needs the oneDNN backend, which this build lacks")
        }
        guard (1...1024).contains(threads) else {
            throw ValidationError("--threads must be an integer from 1 to 1024 (got \(threads))")
        }
        guard (64...8192).contains(large) else {
            throw ValidationError("--large must be an integer from 64 to 8192 (got \(large))")
        }
        for name in variants.split(separator: ",") where TilingVariant(String(name)) == nil {
            throw ValidationError(
                "--variants takes planned, row-major, column-major, patch-major, ROWS:CHANNELS[:ORIENTATION] or plan:TARGET_KIB:MIN_POSITIONS:MIN_DEPTH (got '\(name)')"
            )
        }
    }

    func run() throws {
        // It binds nothing itself: it locks the PUs it was given (a taskset's), one measuring
        // process per PU as for run and measure.
        let given = try startComputeThreads(threads, command: "bench-kernels") { try processingUnits.lock($0) }
        defer { given.lease?.release() }
        var benchmark = KernelBenchmark(
            repetitions: reps, statistic: KernelBenchmark.Statistic(rawValue: statistic)!,
            variants: variants.split(separator: ",").map { TilingVariant(String($0))! })
        if oneDNN { benchmark.algorithms = [.dnnlDirect, .dnnlDirectNCHW, .dnnlWinograd] }
        let rate = KernelBenchmark.largeRate(n: large)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func printJSON(_ value: some Encodable) throws {
            print(String(decoding: try encoder.encode(value), as: UTF8.self))
        }
        if json {
            try printJSON(rate)
        } else {
            print(
                "large sgemm \(large)³: \(String(format: "%.1f", rate.largeSgemmGflops)) GFLOP/s (OpenBLAS \(OpenBLAS.version), \(OpenBLAS.coreName))"
            )
            print(KernelBenchmark.ShapeResult.tableHeader(variantCount: benchmark.variants.count))
        }
        for shape in KernelBenchmark.shapes where only.map({ shape.label.contains($0) }) ?? true {
            let result = try benchmark.measure(shape)
            if json { try printJSON(result) } else { print(result.tableLine(rate: rate)) }
            if !json {
                for b in result.backends {
                    print(
                        "    \(b.algorithm): "
                            + (b.refused
                                ?? String(
                                    format: "%.3f ms (primitive %.3f ms, bare C call %.3f ms) %@, %@", b.ms ?? .nan,
                                    b.primitiveMs ?? .nan, b.bareMs ?? .nan, (b.implementation ?? "") as NSString,
                                    (b.layouts ?? "") as NSString)))
                }
            }
        }
    }
}
