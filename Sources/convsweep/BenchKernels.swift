import ArgumentParser
import Basics
import COpenBLAS
import ConvKernels
import Foundation

/// `convsweep bench-kernels` (hidden): convsweep's conv2d against one plain sgemm on an already
/// lowered input, on shapes drawn from the replication's experiments. `scripts/bench-kernels`
/// runs it pinned to one core and adds ONNX Runtime's Conv.
struct BenchKernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-kernels",
        abstract: "Benchmark the conv2d kernels against a plain sgemm (used by scripts/bench-kernels).",
        discussion: """
            Per shape, interleaves --reps timed runs of convsweep's conv2d and of ONE cblas_sgemm \
            with M = Cout, N = H·W, K = Cin·K1·K2 on an already lowered input, and prints their \
            medians, the ratio, GFLOP/s and the fraction of this machine's large-sgemm rate \
            (a 2048³ sgemm measured in the same run). One OpenBLAS thread; pin the process yourself.
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

    /// Shapes from experiments B, C, D, E, G (K > 1) and A/B/F (K = 1): (label, H, W, Cin, Cout, K).
    static let shapes: [(String, Int, Int, Int, Int, Int)] = [
        ("B K=3", 100, 100, 150, 150, 3),
        ("B K=5", 60, 60, 100, 100, 5),
        ("B K=7", 43, 43, 70, 70, 7),
        ("B K=11", 27, 27, 50, 50, 11),
        ("C K=3", 10, 10, 1500, 1500, 3),
        ("C K=7", 10, 10, 429, 429, 7),
        ("C K=14", 10, 10, 150, 150, 14),
        ("D W=200", 100, 200, 100, 100, 3),
        ("E Cout=320", 100, 100, 50, 320, 3),
        ("E Cout=40", 100, 100, 150, 40, 3),
        ("G K=5", 10, 10, 500, 100, 5),
        ("G K=3", 10, 10, 1000, 100, 3),
        ("B K=1", 300, 300, 150, 150, 1),
        ("F W=200", 200, 100, 50, 300, 1),
    ]

    func validate() throws {
        guard (1...1000).contains(reps) else {
            throw ValidationError("--reps must be an integer from 1 to 1000 (got \(reps))")
        }
        guard ["median", "min"].contains(statistic) else {
            throw ValidationError("--statistic must be median or min (got '\(statistic)')")
        }
        guard (64...8192).contains(large) else {
            throw ValidationError("--large must be an integer from 64 to 8192 (got \(large))")
        }
        for name in variantList where name != "planned" && GemmOrientation(rawValue: name) == nil {
            let parts = name.split(separator: ":")
            if parts.count == 4, parts[0] == "plan", parts.dropFirst().allSatisfy({ Int($0) != nil }) { continue }
            guard (2...3).contains(parts.count), Int(parts[0]) != nil, Int(parts[1]) != nil,
                parts.count == 2 || GemmOrientation(rawValue: String(parts[2])) != nil
            else {
                throw ValidationError(
                    "--variants takes planned, row-major, column-major, patch-major ROWS:CHANNELS[:ORIENTATION] or plan:TARGET_KIB:MIN_POSITIONS:MIN_DEPTH (got '\(name)')"
                )
            }
        }
    }

    var variantList: [String] { variants.split(separator: ",").map(String.init) }

    /// The tiling a variant stands for on `shape` (nil: the planned one).
    func tiling(_ variant: String, for shape: ConvShape) -> ConvTiling? {
        if variant == "planned" { return nil }
        var t = ConvTiling.planned(for: shape, workspaceLimit: Conv2D.defaultWorkspaceLimit)
        if let o = GemmOrientation(rawValue: variant) {
            t.orientation = o
            return t
        }
        let parts = variant.split(separator: ":").map(String.init)
        if parts[0] == "plan" {
            // plan:TARGET_KIB:MIN_POSITIONS:MIN_DEPTH — the planner with other constants.
            return ConvTiling.planned(
                for: shape, workspaceLimit: Conv2D.defaultWorkspaceLimit,
                cacheTargetBytes: Int(parts[1])! << 10, minimumPositions: Int(parts[2])!,
                minimumChunkDepth: Int(parts[3])!)
        }
        t.rowsPerTile = Int(parts[0])!
        t.channelsPerChunk = Int(parts[1])!
        if parts.count == 3 { t.orientation = GemmOrientation(rawValue: parts[2])! }
        return t
    }

    func summary(_ times: [Double]) -> Double {
        statistic == "min" ? times.min()! : MeasureReport.median(times)
    }

    static func seconds(_ body: () -> Void) -> Double {
        let start = MonotonicClock.now()
        body()
        return MonotonicClock.now() - start
    }

    /// GFLOP/s of an n×n×n sgemm: the median of 3 runs after a warm-up.
    func largeRate() -> Double {
        let n = large
        let a = [Float](repeating: 0.5, count: n * n)
        let b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        let call = {
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, a, Int32(n),
                b, Int32(n), 0, &c, Int32(n))
        }
        call()
        let times = (0..<3).map { _ in BenchKernels.seconds(call) }
        return 2 * Double(n * n * n) / MeasureReport.median(times) / 1e9
    }

    func run() throws {
        OpenBLAS.setThreadCount(1)
        let rate = largeRate()
        if json {
            print(
                "{\"large_sgemm_gflops\": \(rate), \"large_n\": \(large), \"openblas\": \"\(OpenBLAS.config)\", \"core\": \"\(OpenBLAS.coreName)\"}"
            )
        } else {
            print(
                "large sgemm \(large)³: \(String(format: "%.1f", rate)) GFLOP/s (OpenBLAS \(OpenBLAS.version), \(OpenBLAS.coreName))"
            )
            print(
                "shape        H    W   Cin  Cout  K  conv ms  sgemm ms  conv/sgemm  lower %  GFLOP/s  of large  pieces  \(variantList.count > 1 ? "others (ms)" : "")"
            )
        }
        for (label, h, w, cin, cout, k) in BenchKernels.shapes
        where only.map({ label.contains($0) }) ?? true {
            let shape = ConvShape(height: h, width: w, inputChannels: cin, outputChannels: cout, kernel: k)
            var convs: [Conv2D] = []
            for name in variantList {
                let conv = try Conv2D(shape: shape, tiling: tiling(name, for: shape))
                conv.fillRandom(seed: 1)
                conv.run()
                convs.append(conv)
            }
            // One plain sgemm on an already lowered input.
            let depth = cin * k * k
            let positions = h * w
            var generator = SplitMix64(seed: 2)
            let lowered = (0..<depth * positions).map { _ in generator.nextUnitFloat() }
            let weights = (0..<cout * depth).map { _ in generator.nextUnitFloat() }
            var out = [Float](repeating: 0, count: cout * positions)
            let sgemm = {
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(cout), Int32(positions),
                    Int32(depth), 1, weights, Int32(depth), lowered, Int32(positions), 0, &out,
                    Int32(positions))
            }
            sgemm()
            var convTimes = [[Double]](repeating: [], count: convs.count)
            var lowerTimes: [Double] = []
            var sgemmTimes: [Double] = []
            var pieces = 0
            for _ in 0..<reps {
                for (index, conv) in convs.enumerated() {
                    var phases = PhaseTimes()
                    convTimes[index].append(BenchKernels.seconds { phases = conv.run() })
                    if index == 0 {
                        lowerTimes.append(phases.lowering)
                        pieces = phases.tiles
                    }
                }
                sgemmTimes.append(BenchKernels.seconds(sgemm))
            }
            let flops = Accounting(shape: shape).flops
            let conv = summary(convTimes[0])
            let plain = summary(sgemmTimes)
            let lowering = summary(lowerTimes)
            let gflops = flops / conv / 1e9
            let others = convTimes.dropFirst().map { summary($0) * 1e3 }
            if json {
                let names = variantList.map { "\"\($0)\"" }.joined(separator: ", ")
                print(
                    "{\"label\": \"\(label)\", \"H\": \(h), \"W\": \(w), \"Cin\": \(cin), \"Cout\": \(cout), \"K\": \(k), \"flops\": \(flops), \"conv_ms\": \(conv * 1e3), \"sgemm_ms\": \(plain * 1e3), \"lowering_ms\": \(lowering * 1e3), \"pieces\": \(pieces), \"variants\": [\(names)], \"variant_ms\": \(convTimes.map { summary($0) * 1e3 }), \"reps\": \(reps)}"
                )
            } else {
                print(
                    String(
                        format: "%-10@ %4d %4d %5d %5d %2d %8.3f %9.3f %11.3f %8.1f %8.1f %9.2f %7d  %@",
                        label as NSString, h, w, cin, cout, k, conv * 1e3, plain * 1e3, conv / plain,
                        100 * lowering / conv, gflops, gflops / rate, pieces,
                        others.map { String(format: "%.3f", $0) }.joined(separator: " ") as NSString))
            }
        }
    }
}
