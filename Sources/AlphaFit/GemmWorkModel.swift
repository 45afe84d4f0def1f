import ConvKernels
import Foundation

/// The gemm-work model (``FitModel/gemmWork``): a layer's time as the sum of the work convsweep's
/// kernels do for it (``KernelWork``), each part at a rate of its own:
///
///     T = (msPerGflop · FLOPs + msPerGflopEdge · edgePasses + msPerGflopSmall · smallFLOPs) / 10⁹
///       + Σ_level (msPerGBWeights_level · weights_level + msPerGBActivations_level · activations_level
///                  + msPerGBOutput_level · output_level) / 10⁹
///       + msPerGBLoweringInput · loweringInput / 10⁹
///       + (nsPerLoweringRow · loweringRows + nsPerLoweringBlock · loweringBlocks) / 10⁶
///       + usPerCall · calls / 10³
///       + (msPerGBSmallDot · smallDotBytes + msPerGBOutputExposed · exposedOutput
///          + msPerGBPackedWeightsMemory · packedWeightsMemory) / 10⁹ + fixedMs
///
/// - FLOPs at the GEMM's rate, and the micro-kernel's edge passes (``KernelWork/edgePasses(positionsTile:channelsTile:)``:
///   the remainders of m and n below the register tile `positionsTile` × `channelsTile` computed
///   in passes of halving widths) at a rate of their own. The tiles are discrete parameters: the
///   fit tries each candidate and keeps the lowest sum of squares.
/// - smallFLOPs: the FLOPs of the calls OpenBLAS's small-matrix kernel takes
///   (``GemmCall/isSmall(limit:)``: m·n·k ≤ `smallCallLimit`, 10⁶ in the SkylakeX and Cooperlake
///   kernel sets, none elsewhere), which packs nothing and has no edge passes. The limit is a
///   third discrete parameter, chosen with the tiles. Since 0.16.0 (``GemmWorkForm/vectors``)
///   they are the FLOPs of that kernel's vectors of `smallKernelLanes` (16) floats, the lanes it
///   wastes included, and smallDotBytes the bytes its dot-product path re-reads
///   (``ConvKernels/SmallKernelWork``).
/// - exposedOutput: the output bytes of the calls the packed path takes (since 0.17.0 only those
///   whose output lies beyond the level-2 cache, `outputExposureLevel` 1), each by how little depth
///   k there is to hide their traffic behind, max(0, 1 − k/`outputExposureDepth`) (128;
///   ``ConvKernels/KernelWork/exposedOutputBytes(depth:limit:fromLevel:)``).
/// - exposedOutput also holds, since 0.18.0 (``GemmWorkForm/exposedActivations``), the bytes of
///   the activation operand of the packed calls by max(0, 1 − n/`activationExposureWidth`) (256;
///   ``ConvKernels/KernelWork/exposedActivationBytes(width:limit:)``): a narrow call waits for its
///   copy of A as a shallow one waits for its output, at the same rate (measured: 0.33–0.34 ns an
///   element both).
/// - packedWeightsMemory: the weight bytes of the calls the packed path takes when the weight
///   tensor lies beyond the last-level cache (``ConvKernels/KernelWork/packedWeightBytesFromMemory(limit:)``):
///   that path copies them into its buffer, a copy that streams from memory at half the rate the
///   small-matrix kernel reads the same bytes. Since 0.17.0 (``GemmWorkForm/packedWeights``).
/// - `smallKernelLanes`, `outputExposureDepth`, `outputExposureLevel` and
///   `activationExposureWidth` are the form's constants, held (never searched): 1, 0, 0 and 0 in
///   the form of 0.14–0.15 (``GemmWorkForm/smallFlops``), 16, 128, 0 and 0 in that of 0.16, 16,
///   128, 1 and 0 in that of 0.17, which fits written then keep.
/// - weights, activations, output: the bytes each call reads or writes of each GEMM operand, at
///   the rate of the level its working set fits (L2, the last-level cache, memory: the weights by
///   the whole weight tensor, which every piece of output rows re-reads; the activation operand
///   and the output by one call's share).
/// - loweringInput, loweringRows, loweringBlocks: the input the im2col lowering reads, the rows it
///   treats one by one (the wrapped positions it zeroes, or rows it gathers), the blocks (one per
///   input channel and tap of a piece).
/// - calls: the number of `cblas_sgemm` calls (the pieces); fixedMs: a cost per layer.
/// - cacheLevels: 3, or 1 in a group of fewer than ``layersForLevels`` distinct layers (each
///   operand's bytes then at one rate): held from the group's size, never fitted.
///
/// Every rate is ≥ 0 and the model is linear in them once the tiles are chosen, so the bounded
/// solver's optimum is unique. A rate whose work no layer of the group does (no weights beyond
/// the last-level cache, no lowering in a pointwise group) is held at 0, and a tile the data
/// cannot tell (every layer's positions a multiple of every candidate) is held at 1; a group of
/// fewer distinct layers than free rates holds the dot path's, the exposed output's and the packed
/// weights' rates at 0;
/// the fit says which and why.
enum GemmWorkModel {
    /// The parameter names, in vector order.
    static let parameterNames = [
        "msPerGflop", "msPerGflopEdge", "msPerGflopSmall",
        "msPerGBWeightsL2", "msPerGBWeightsLLC", "msPerGBWeightsMemory",
        "msPerGBActivationsL2", "msPerGBActivationsLLC", "msPerGBActivationsMemory",
        "msPerGBOutputL2", "msPerGBOutputLLC", "msPerGBOutputMemory",
        "msPerGBLoweringInput", "nsPerLoweringRow", "nsPerLoweringBlock", "usPerCall",
        "msPerGBSmallDot", "msPerGBOutputExposed", "msPerGBPackedWeightsMemory", "fixedMs",
        "positionsTile", "channelsTile", "cacheLevels", "smallCallLimit", "smallKernelLanes", "outputExposureDepth",
        "outputExposureLevel", "activationExposureWidth",
    ]

    /// Where a parameter sits in ``parameterNames``: the one place the order is written.
    private static func index(_ name: String) -> Int { parameterNames.firstIndex(of: name)! }
    /// The edge passes' rate.
    static let edge = index("msPerGflopEdge")
    /// The rate of the FLOPs of the calls OpenBLAS's small-matrix kernel takes.
    static let small = index("msPerGflopSmall")
    /// The first of the three weight rates (L2, LLC, memory), then activations, then output.
    static let weights = index("msPerGBWeightsL2")
    static let activations = index("msPerGBActivationsL2")
    static let output = index("msPerGBOutputL2")
    /// The lowering's rates, the call's, the fixed cost.
    static let loweringInput = index("msPerGBLoweringInput")
    static let loweringRow = index("nsPerLoweringRow")
    static let loweringBlock = index("nsPerLoweringBlock")
    static let call = index("usPerCall")
    /// The small-matrix kernel's dot-path bytes' rate, and the exposed output's.
    static let smallDot = index("msPerGBSmallDot")
    static let outputExposed = index("msPerGBOutputExposed")
    /// The rate of the weights the packed path copies from memory.
    static let packedWeightsMemory = index("msPerGBPackedWeightsMemory")
    static let fixed = index("fixedMs")
    /// The two discrete parameters: every parameter before the first is a rate.
    static let positionsTile = index("positionsTile")
    static let channelsTile = index("channelsTile")
    /// 3: each operand's bytes at a rate per level; 1: at one rate (the L2 one), for a group with
    /// too few layers to tell levels apart.
    static let cacheLevels = index("cacheLevels")
    /// The largest m·n·k OpenBLAS's small-matrix kernel takes (``GemmCall/isSmall(limit:)``): 0
    /// for a kernel set without one, 10⁶ for OpenBLAS 0.3.21's SkylakeX and Cooperlake kernels.
    static let smallCallLimit = index("smallCallLimit")
    /// The form's constants (``GemmWorkForm``), held, never searched: the small-matrix kernel's
    /// vector width and the depth that hides a call's output traffic.
    static let smallKernelLanes = index("smallKernelLanes")
    static let outputExposureDepth = index("outputExposureDepth")
    /// The form's level from which a call's output counts as exposed (0 every call, 1 beyond L2).
    static let outputExposureLevel = index("outputExposureLevel")
    /// The form's width n that hides a packed call's copy of its activation operand (0: never
    /// exposed).
    static let activationExposureWidth = index("activationExposureWidth")
    /// The form's constants (``GemmWorkForm/constants``): held at the form's values, never
    /// searched or refitted.
    static let formConstants = [smallKernelLanes, outputExposureDepth, outputExposureLevel, activationExposureWidth]
    /// The fewest distinct layers a group needs for three rates per operand (4 per rate).
    static let layersForLevels = 60

    /// The tiles the fit tries, for m (output positions) and n (output channels): the register
    /// tiles of OpenBLAS's x86 SGEMM kernels are among them (8×4 and 16×4 on AVX2, 16×2 … 32×2
    /// with AVX-512); and the small-matrix kernel's limit, none or OpenBLAS's 10⁶.
    static let candidates: [Int: [Int]] = [
        positionsTile: [1, 2, 4, 8, 16, 32], channelsTile: [1, 2, 4, 6, 8, 16],
        smallCallLimit: [0, GemmCall.openBLASSmallMatrixLimit],
    ]

    /// The value a discrete parameter the data cannot tell is held at: a tile of 1 (no edge
    /// passes), no small-matrix kernel.
    static func undeterminedValue(_ index: Int) -> Double { index == smallCallLimit ? 0 : 1 }

    /// The formula, as `fit --help` and the package README print it.
    static let formula =
        "(msPerGflop · FLOPs + msPerGflopEdge · edgePasses + msPerGflopSmall · smallFLOPs) / 10⁹ + Σ over L2, LLC, memory of (msPerGBWeights · weights + msPerGBActivations · activations "
        + "+ msPerGBOutput · output) / 10⁹ + msPerGBLoweringInput · loweringInput / 10⁹ + (nsPerLoweringRow · loweringRows "
        + "+ nsPerLoweringBlock · loweringBlocks) / 10⁶ + usPerCall · calls / 10³ + (msPerGBSmallDot · smallDotBytes "
        + "+ msPerGBOutputExposed · exposedOutput + msPerGBPackedWeightsMemory · packedWeightsMemory) / 10⁹ + fixedMs, "
        + "the work of the layer's "
        + "default algorithm: edgePasses, the sgemm micro-kernel's passes over the remainders of m and n below its "
        + "register tile positionsTile × channelsTile (discrete), halving widths each costing a column; "
        + "smallFLOPs, those of the calls of m·n·k ≤ smallCallLimit (discrete: 0 or OpenBLAS's 10⁶) that an "
        + "AVX-512 OpenBLAS gives its small-matrix kernel (no packing, no edge passes), over its vectors of "
        + "smallKernelLanes (16) floats, wasted lanes included, and smallDotBytes the bytes its dot-product path "
        + "re-reads (rows of m mod 16 ≤ 8 with k ≥ 32); exposedOutput, the output bytes of the packed calls by "
        + "max(0, 1 − k/outputExposureDepth) (128: shallow calls wait for their output's traffic), of the calls whose "
        + "output lies beyond the level-2 cache (outputExposureLevel 1), and the activation operand's bytes of the packed "
        + "calls by max(0, 1 − n/activationExposureWidth) (256: narrow calls wait for their copy of it); "
        + "packedWeightsMemory, the weight bytes of the packed calls when the weights lie beyond the last-level cache "
        + "(the packed path copies them into its buffer); "
        + "each operand's bytes at the rate of the cache level its working set fits, the lowering's input, rows and blocks"

    /// The start: every rate 0, the tiles 1 (the solver is linear in the rates), three levels,
    /// no small-matrix kernel, the current form's lanes, exposure depth and exposure level.
    static let defaultStart =
        [Double](repeating: 0, count: positionsTile) + [1, 1, 3, 0]
        + formConstants.map { GemmWorkForm.current.constants[$0]! }

    /// [0, 10⁵] for every rate, [0, 1000] ms for the fixed cost, [1, 64] for the tiles, [1, 3]
    /// for the levels, [0, 10⁷] for the small-matrix kernel's limit, [1, 64] for its lanes, [0, 4096]
    /// for the exposure depth, [0, 1] for its level, [0, 4096] for the activations' exposure width.
    static let defaultBounds: [ClosedRange<Double>] =
        [ClosedRange<Double>](repeating: 0...1e5, count: fixed) + [
            0...1000, 1...64, 1...64, 1...3, 0...1e7, 1...64, 0...4096, 0...1, 0...4096,
        ]

    /// The predicted time of `point` in milliseconds (NaN for a point made without a setting).
    static func timeMs(_ point: ModelPoint, _ p: [Double]) -> Double {
        guard point.work != nil else { return .nan }
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: parameterNames.count) { gradient in
            timeMs(point, p, gradient: gradient.baseAddress!)
        }
    }

    /// The same, with the gradient (the features: the model is linear in its rates; 0 for the
    /// tiles, the levels and the limit, which the solver never moves). Allocates nothing: the solver calls
    /// it for every layer at every step.
    static func timeMs(_ point: ModelPoint, _ p: [Double], gradient: UnsafeMutablePointer<Double>) -> Double {
        guard let work = point.work else { return .nan }
        return timeMs(work, base: point.workFeatures, p, gradient: gradient)
    }

    /// The time of `work`, whose tile-free features are `base` (``baseFeatures(_:)``), with its
    /// features for the tiles and levels of `p` written into `gradient`.
    private static func timeMs(
        _ work: KernelWork, base: [Double], _ p: [Double], gradient: UnsafeMutablePointer<Double>
    ) -> Double {
        for k in 0..<parameterNames.count { gradient[k] = k < base.count ? base[k] : 0 }
        let limit = Self.limit(p[smallCallLimit])
        gradient[edge] =
            work.edgePasses(
                positionsTile: tile(p[positionsTile]), channelsTile: tile(p[channelsTile]), smallCallLimit: limit)
            * 1e-9
        if limit > 0 {
            // The small-matrix kernel's FLOPs over its vectors at their own rate, and its dot path's bytes.
            gradient[0] -= work.smallCallFlops(limit: limit) * 1e-9
            let smallWork = work.smallKernelWork(limit: limit, lanes: Self.lanes(p[smallKernelLanes]))
            gradient[small] = smallWork.vectorFlops * 1e-9
            gradient[smallDot] = smallWork.dotBytes * 1e-9
        }
        let exposed = exposedBytes(work, p)
        gradient[outputExposed] = exposed.output * 1e-9 + exposed.activations * 1e-9
        gradient[packedWeightsMemory] = work.packedWeightBytesFromMemory(limit: limit) * 1e-9
        if p[cacheLevels] < 2 {
            // One level: each operand's bytes at its L2 rate.
            for first in [weights, activations, output] {
                gradient[first] += gradient[first + 1] + gradient[first + 2]
                gradient[first + 1] = 0
                gradient[first + 2] = 0
            }
        }
        var t = 0.0
        for k in 0..<positionsTile { t += gradient[k] * p[k] }
        return t
    }

    /// What each rate multiplies, in its unit (GFLOP, GB, millions of operations, thousands of
    /// calls, one layer), for the tiles and levels of `p`.
    static func features(_ work: KernelWork, _ p: [Double]) -> [Double] {
        var x = [Double](repeating: 0, count: parameterNames.count)
        _ = x.withUnsafeMutableBufferPointer { timeMs(work, base: baseFeatures(work), p, gradient: $0.baseAddress!) }
        return Array(x[0..<positionsTile])
    }

    /// The features that do not depend on the tiles, at three levels (the edge passes 0): what a
    /// point computes once.
    static func baseFeatures(_ work: KernelWork) -> [Double] {
        [work.flops * 1e-9, 0, 0] + (work.weightBytes + work.activationBytes + work.outputBytes).map { $0 * 1e-9 }
            + [
                work.loweringInputBytes * 1e-9, work.loweringRows * 1e-6, work.loweringBlocks * 1e-6,
                Double(work.calls.reduce(0) { $0 + $1.count }) * 1e-3,
                0, 0, 0,  // the dot path's bytes, the exposed output, the packed weights: they depend on the limit
                1,
            ]
    }

    /// The exposed traffic of `work` under the limit and form constants of `p`, in bytes: the
    /// output of its shallow packed calls and the activation operand of its narrow ones.
    static func exposedBytes(_ work: KernelWork, _ p: [Double]) -> (output: Double, activations: Double) {
        let limit = limit(p[smallCallLimit])
        return (
            work.exposedOutputBytes(
                depth: Self.limit(p[outputExposureDepth]), limit: limit, fromLevel: Self.limit(p[outputExposureLevel])),
            work.exposedActivationBytes(width: Self.limit(p[activationExposureWidth]), limit: limit)
        )
    }

    /// A tile parameter as a tile: rounded, at least 1.
    static func tile(_ value: Double) -> Int { value.isFinite ? max(1, Int(min(value, 1e6).rounded())) : 1 }

    /// A gemm-work fit's `parameters` as read from a file: those of each later addition
    /// (``FitModel/parametersAddedLater``) the file lacks all of, at the values that make the model
    /// what it was when it was written; with the names so added. Another model's parameters as
    /// they are.
    static func completed(_ parameters: [String: Double]) -> (parameters: [String: Double], added: [String]) {
        guard parameters[parameterNames[positionsTile]] != nil else { return (parameters, []) }
        var result = parameters
        var names: [String] = []
        for addition in FitModel.gemmWork.parametersAddedLater where addition.keys.allSatisfy({ parameters[$0] == nil })
        {
            result.merge(addition) { old, _ in old }
            names += addition.keys
        }
        return (result, names)
    }

    /// A lanes parameter as a vector width: rounded, from 1 to 64.
    static func lanes(_ value: Double) -> Int { value.isFinite ? max(1, Int(min(value, 64).rounded())) : 1 }

    /// A small-matrix limit (or exposure depth) parameter as a count: rounded, at least 0.
    static func limit(_ value: Double) -> Int { value.isFinite ? max(0, Int(min(value, 1e12).rounded())) : 0 }

    /// The rates no point gives work to, held at 0, with the reason; and the tiles at 1 (the fit
    /// replaces them by its choice, see ``AlphaFitter``).
    static func heldFixed(over points: [ModelPoint], form: GemmWorkForm = .current) -> [Int: (
        value: Double, reason: String?
    )] {
        let levels = points.count >= layersForLevels ? 3.0 : 1
        var held: [Int: (value: Double, reason: String?)] = [
            positionsTile: (1, nil), channelsTile: (1, nil), smallCallLimit: (0, nil),
            cacheLevels: (
                levels,
                levels == 3
                    ? nil
                    : "cacheLevels held at 1: the group has \(points.count) distinct layers, fewer than the \(layersForLevels) that tell three cache levels apart; each operand's bytes have one rate (the L2 one)"
            ),
        ]
        for (index, value) in form.constants { held[index] = (value, nil) }
        let works = points.compactMap(\.work)
        guard works.count == points.count else { return held }
        // The work an earlier form does not count: held at the values that make it that form.
        for addition in FitModel.gemmWork.parametersAddedLater.dropFirst(form.rawValue) {
            for (name, value) in addition { held[index(name)] = (value, nil) }
        }
        var unit = defaultStart
        unit[cacheLevels] = levels
        for (index, value) in form.constants { unit[index] = value }
        let columns = works.map { features($0, unit) }
        // The edge passes depend on the tiles the fit chooses: held when no candidate has any.
        var largest = unit
        largest[positionsTile] = Double(candidates[positionsTile]!.max()!)
        largest[channelsTile] = Double(candidates[channelsTile]!.max()!)
        let noEdges = !hasEdges(points, largest)
        // The small-matrix kernel's rate, by the largest limit.
        largest[smallCallLimit] = Double(candidates[smallCallLimit]!.max()!)
        let noSmallCalls = !hasSmallCalls(points, largest)
        let noDotPath = !hasDotPath(points, largest)
        for k in 0..<fixed
        where held[k] == nil
            && (k == edge
                ? noEdges : k == small ? noSmallCalls : k == smallDot ? noDotPath : columns.allSatisfy({ $0[k] == 0 }))
        {
            held[k] = (
                0,
                levels == 1 && k >= weights && (k - weights) % 3 != 0 && k < loweringInput
                    ? nil : "\(parameterNames[k]) held at 0: \(absence(k))"
            )
        }
        // Calls that are the same in number for every layer cost what the fixed cost does.
        if held[call] == nil, let first = columns.first?[call], columns.allSatisfy({ $0[call] == first }) {
            held[call] = (
                0,
                "\(parameterNames[call]) held at 0: every layer makes the same number of calls, whose cost fixedMs carries"
            )
        }
        return held
    }

    /// The rates whose work the discrete parameters of `p` leave absent from every one of
    /// `points` (no edge pass under its tiles, no call for the small-matrix kernel under its
    /// limit), to be held at 0, each with the reason.
    static func ratesWithoutWork(_ points: [ModelPoint], _ p: [Double]) -> [(index: Int, reason: String)] {
        var absent: [(index: Int, reason: String)] = []
        if !hasEdges(points, p) {
            absent.append(
                (
                    edge,
                    "msPerGflopEdge held at 0: under the chosen tiles no layer's sizes leave a remainder (no edge pass)"
                ))
        }
        if limit(p[smallCallLimit]) > 0, lanes(p[smallKernelLanes]) > 1, !hasDotPath(points, p) {
            absent.append(
                (
                    smallDot,
                    "msPerGBSmallDot held at 0: under the chosen limit no call's rows go to the small-matrix kernel's dot path (a remainder of at most 8 rows with k ≥ 32, or A transposed)"
                ))
        }
        let exposed = points.contains { point in
            point.work.map { work in
                let bytes = exposedBytes(work, p)
                return bytes.output + bytes.activations > 0
            } ?? false
        }
        if limit(p[outputExposureDepth]) > 0 || limit(p[activationExposureWidth]) > 0, !exposed {
            absent.append(
                (
                    outputExposed,
                    "msPerGBOutputExposed held at 0: every call OpenBLAS's packed path takes is at least \(limit(p[outputExposureDepth])) deep (k), which hides its output's traffic, or has its output in the level-2 cache, and is at least \(limit(p[activationExposureWidth])) wide (n), which hides its copy of the activations"
                ))
        }
        let packed = points.map { $0.work?.packedWeightBytesFromMemory(limit: limit(p[smallCallLimit])) ?? 0 }
        if !packed.contains(where: { $0 > 0 }) {
            absent.append(
                (
                    packedWeightsMemory,
                    "msPerGBPackedWeightsMemory held at 0: under the chosen limit no call of the packed path has weights beyond the last-level cache"
                ))
        } else if p[cacheLevels] >= 2, zip(points, packed).allSatisfy({ $1 == ($0.work?.weightBytes[2] ?? 0) }) {
            // Every byte of weights from memory goes through the packed path: the two rates are one.
            absent.append(
                (
                    packedWeightsMemory,
                    "msPerGBPackedWeightsMemory held at 0: under the chosen limit every call with weights beyond the last-level cache goes through the packed path, so msPerGBWeightsMemory carries their copy"
                ))
        }
        if !hasSmallCalls(points, p) {
            absent.append(
                (
                    small,
                    "msPerGflopSmall held at 0: under the chosen limit (\(limit(p[smallCallLimit]))) no call goes to a small-matrix kernel"
                ))
        }
        return absent
    }

    /// Whether any of `points` has an edge pass under the tiles of `p` (the edge rate is held at
    /// 0 where none has: its work is absent).
    static func hasEdges(_ points: [ModelPoint], _ p: [Double]) -> Bool {
        points.contains { point in
            point.work.map {
                $0.edgePasses(
                    positionsTile: tile(p[positionsTile]), channelsTile: tile(p[channelsTile]),
                    smallCallLimit: limit(p[smallCallLimit])) > 0
            }
                ?? false
        }
    }

    /// Whether any of `points` has a call the small-matrix kernel takes under the limit of `p`
    /// (its rate is held at 0 where none has).
    static func hasSmallCalls(_ points: [ModelPoint], _ p: [Double]) -> Bool {
        let limit = limit(p[smallCallLimit])
        return limit > 0 && points.contains { $0.work.map { $0.smallCallFlops(limit: limit) > 0 } ?? false }
    }

    /// Whether any of `points` has rows the small-matrix kernel computes as dot products, under
    /// the limit and lanes of `p` (that path's rate is held at 0 where none has).
    static func hasDotPath(_ points: [ModelPoint], _ p: [Double]) -> Bool {
        let limit = limit(p[smallCallLimit])
        let lanes = lanes(p[smallKernelLanes])
        return limit > 0 && lanes > 1
            && points.contains { $0.work.map { $0.smallKernelWork(limit: limit, lanes: lanes).dotBytes > 0 } ?? false }
    }

    /// Why a rate's work is absent from a group.
    private static func absence(_ k: Int) -> String {
        let levels = ["the level-2 cache", "the last-level cache but not L2", "beyond the last-level cache"]
        switch k {
        case edge: return "no layer's sizes leave a remainder below any candidate tile"
        case small: return "no call is small enough for a small-matrix kernel (m·n·k ≤ 10⁶)"
        case smallDot: return "no call's rows go to a small-matrix kernel's dot path"
        case outputExposed: return "no call is shallow enough (k) to leave its output's traffic exposed"
        case packedWeightsMemory: return "no call of the packed path has weights beyond the last-level cache"
        case weights..<activations: return "no layer's weights fit \(levels[k - weights])"
        case activations..<output: return "no call's activation operand fits \(levels[k - activations])"
        case output..<loweringInput: return "no call's output fits \(levels[k - output])"
        case loweringInput, loweringRow, loweringBlock: return "no layer is lowered (im2col) in this group"
        case call: return "no layer runs an sgemm in this group"
        default: return "no layer does this work"
        }
    }

    /// What the model's time depends on at `point`: its work, whole.
    static func classFeatures(of point: ModelPoint) -> [Double] {
        guard let work = point.work else { return [point.workFlops] }
        return [point.workFlops, Double(work.directRows), Double(work.directRowWidth), Double(work.directTaps)]
            + work.calls.flatMap { [Double($0.m), Double($0.n), Double($0.k), Double($0.count)] }
            + work.weightBytes + work.activationBytes + work.outputBytes
            + [work.loweringInputBytes, work.loweringRows, work.loweringBlocks]
    }
}
