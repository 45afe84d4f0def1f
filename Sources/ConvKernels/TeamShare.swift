/// How `Conv2D` shares a layer's work among a team of threads, as one number: the share of the
/// layer's work its busiest thread does (1/p when p threads divide it evenly, 1 when one thread
/// does it all). The kernels and the models of thread counts read the same rules from here.
public enum TeamShare {
    /// The largest m·n·k OpenBLAS 0.3.21 runs on the calling thread alone whatever its thread
    /// count: 65,536 × `GEMM_MULTITHREAD_THRESHOLD` (4), `interface/gemm.c`. On the Zen 4 VM's
    /// threads package, 1×1 layers whose call is below it ran at 2 threads in 1.00× the one-thread
    /// time (8 layers), those above 10⁶ in 1.68× (median of 107).
    public static let openBLASThreadingLimit = 262_144

    /// The largest m·n OpenBLAS 0.3.21 runs an `sgemv` on one thread for: 2,304 ×
    /// `GEMM_MULTITHREAD_THRESHOLD` (`interface/gemv.c`).
    public static let openBLASGemvThreadingLimit = 9_216

    /// How many parts each of `tiles` im2col tiles is cut into for a team of `threads`: enough
    /// that there is a tile a thread (⌈threads / tiles⌉), 1 when there already is.
    public static func parts(tiles: Int, threads: Int) -> Int {
        tiles > 0 && tiles < threads ? (threads + tiles - 1) / tiles : 1
    }

    /// The threads that share a depthwise-direct layer of `items` blocks and `outputs` output
    /// values among `threads`: as many as have a block and ``Conv2D/parallelOutputs`` outputs
    /// each (1 or fewer: the layer runs on one thread).
    public static func depthwiseTeam(threads: Int, items: Int, outputs: Int) -> Int {
        min(threads, items, outputs / Conv2D.parallelOutputs)
    }

    /// The rows of the pieces a tile of `rows` output rows is cut into for `parts` threads: parts
    /// of ⌈rows / parts⌉ rows and a last shorter one (fewer parts where the tile has fewer rows).
    public static func cut(rows: Int, parts: Int) -> [Int] {
        guard rows > 0 else { return [] }
        let each = (rows + max(1, parts) - 1) / max(1, parts)
        return stride(from: 0, to: rows, by: each).map { min(each, rows - $0) }
    }

    /// The busiest thread's share of `costs` (pieces of work, in order) when each piece is taken
    /// by the thread that is free first (ties: the lowest), as threads that take the next piece
    /// not taken do, among `threads` threads: the largest load over the total (1 for no work).
    public static func busiest(_ costs: [Double], threads: Int) -> Double {
        let total = costs.reduce(0, +)
        guard threads > 1, total > 0 else { return 1 }
        var loads = [Double](repeating: 0, count: threads)
        for cost in costs {
            let free = loads.indices.min { loads[$0] < loads[$1] }!
            loads[free] += cost
        }
        return loads.max()! / total
    }

    /// Whether OpenBLAS runs `call` on one thread however many it has: below its threading limit
    /// (``openBLASThreadingLimit``, ``openBLASGemvThreadingLimit``), or taken by the small-matrix
    /// kernel under `smallCallLimit` (``GemmCall/isSmall(limit:)``), which runs on the calling
    /// thread.
    public static func runsOnOneThread(_ call: GemmCall, smallCallLimit: Int) -> Bool {
        let (m, n, k) = (Double(call.m), Double(call.n), Double(call.k))
        switch call.form {
        case .gemv: return m * n < Double(openBLASGemvThreadingLimit)
        case .nn, .tn:
            return m * n * k <= Double(openBLASThreadingLimit) || call.isSmall(limit: smallCallLimit)
        }
    }
}

extension KernelWork {
    /// The share of the layer's work the busiest of `threads` threads does as `Conv2D` shares it:
    /// - `im2col-gemm`: its tiles cut by their rows into at least one a thread (``TeamShare/cut(rows:parts:)``),
    ///   each thread taking the next tile not taken (a tile's work as its rows); a layer of fewer
    ///   output rows than threads has its calls on OpenBLAS's threads, as below;
    /// - `depthwise-direct`: its items (an image's block of 8 output channels) taken in turn, by as
    ///   many threads as have ``Conv2D/parallelOutputs`` outputs each (1 when fewer);
    /// - `gemm-1x1`, `fc-gemm`: each call on OpenBLAS's threads, divided among them unless OpenBLAS
    ///   runs it on one (``TeamShare/runsOnOneThread(_:smallCallLimit:)``), the calls weighted by
    ///   their FLOPs.
    /// 1 on one thread.
    public func busiestShare(threads: Int, smallCallLimit: Int) -> Double {
        guard threads > 1 else { return 1 }
        if directRows > 0 {
            return TeamShare.busiest(
                [Double](repeating: 1, count: directItems),
                threads: TeamShare.depthwiseTeam(threads: threads, items: directItems, outputs: outputCount))
        }
        if let pieces = teamPieces(threads: threads) {
            let costs = (0..<tileCopies).flatMap { _ in pieces.map(Double.init) }
            return TeamShare.busiest(costs, threads: threads)
        }
        var total = 0.0
        var busiest = 0.0
        for call in calls {
            let flops = Double(call.count) * Double(call.m) * Double(call.n) * Double(call.k)
            total += flops
            busiest +=
                TeamShare.runsOnOneThread(call, smallCallLimit: smallCallLimit) ? flops : flops / Double(threads)
        }
        return total > 0 ? busiest / total : 1
    }

    /// How many times the layer's threads fork and join at `threads` threads, as `Conv2D` runs
    /// it: once for a team that shares its tiles or depthwise blocks, once per call OpenBLAS
    /// divides among its threads otherwise (``TeamShare/runsOnOneThread(_:smallCallLimit:)``); 0
    /// on one thread. Each costs its wake-up and join whatever the layer's size: on the Zen 4 VM
    /// a divided 1×1 call took 9–48 µs more than half its one-thread time.
    public func forkJoins(threads: Int, smallCallLimit: Int) -> Double {
        guard threads > 1 else { return 0 }
        if directRows > 0 {
            return TeamShare.depthwiseTeam(threads: threads, items: directItems, outputs: outputCount) > 1 ? 1 : 0
        }
        if teamPieces(threads: threads) != nil { return 1 }
        return calls.reduce(0) { sum, call in
            TeamShare.runsOnOneThread(call, smallCallLimit: smallCallLimit) ? sum : sum + Double(call.count)
        }
    }

    /// The rows of the pieces of one image and group that a team of `threads` takes in turn
    /// (``tileCopies`` times over: the tiles cut by ``TeamShare/cut(rows:parts:)``), or nil when
    /// the layer's calls run on OpenBLAS's threads instead: not im2col-gemm, or too few rows to
    /// give each thread a piece.
    private func teamPieces(threads: Int) -> [Int]? {
        guard !tileRows.isEmpty else { return nil }
        let parts = TeamShare.parts(tiles: tileCopies * tileRows.count, threads: threads)
        let pieces = tileRows.flatMap { TeamShare.cut(rows: $0, parts: parts) }
        return pieces.count * tileCopies >= threads ? pieces : nil
    }
}
