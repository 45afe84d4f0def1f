import Basics
import CKernels
import Synchronization

/// How the direct depthwise kernel computes a layer. A layer of multiplier 1 runs the
/// channel-blocked kernel (``blocked``, `convsweep_depthwise_blocked`: blocks of 8 channels
/// packed [row][column][channel], every position 8 channels wide; docs/kernels.md). A layer of
/// a larger multiplier is computed channel by channel from its padded input split into
/// `stride²` phase planes, so that every kernel tap reads one plane with unit stride:
///
/// Phase `(a, b)` holds the padded input's rows `r·s + a` and columns `q·s + b` (s the stride; per
/// axis). Tap `(i, j)` of output `(y, x)` reads padded `(y·s + i·d, x·s + j·d)`, which is phase
/// `((i·d) mod s, (j·d) mod s)` at `(y + ⌊i·d / s⌋, x + ⌊j·d / s⌋)`. With the plane `planeWidth`
/// wide, the whole output plane, computed `planeWidth` wide (the extra columns discarded), is one
/// contiguous multiply–add per tap: `acc[t] += w · plane[t + offset]`, t over `Hₒ · planeWidth`.
/// Short rows (7, 14 positions) then cost no more loop overhead than long ones, strided layers
/// read contiguously, and the padding never reaches the inner loop.
struct DepthwisePlan {
    let shape: ConvShape
    /// For a layer of multiplier 1, the geometry of the channel-blocked kernel
    /// (`convsweep_depthwise_blocked`), which computes it; nil for a multiplier above 1, computed
    /// plane by plane.
    let blocked: convsweep_depthwise_geometry?
    /// Rows and columns of one phase plane.
    let planeHeight: Int
    let planeWidth: Int
    /// Floats of one phase plane, with room for the last tap's overrun.
    let planeStride: Int
    /// The kernel's taps: which phase plane and offset each reads.
    let taps: [(plane: Int, offset: Int)]
    /// Where each tap's reads start, from the first phase plane: plane · planeStride + offset.
    let tapStarts: [Int]
    /// For each column phase b, the plane columns whose input column lies inside the image.
    let columns: [Range<Int>]

    init(shape s: ConvShape) {
        shape = s
        blocked =
            s.depthwiseMultiplier == 1
            ? convsweep_depthwise_geometry(
                height: s.height, width: s.width, out_height: s.outputHeight, out_width: s.outputWidth,
                kernel_height: s.kernelHeight, kernel_width: s.kernelWidth, stride_height: s.strideHeight,
                stride_width: s.strideWidth, dilation_height: s.dilationHeight, dilation_width: s.dilationWidth,
                pad_top: s.padTop, pad_left: s.padLeft,
                packed_height: (s.outputHeight - 1) * s.strideHeight + (s.kernelHeight - 1) * s.dilationHeight + 1,
                packed_width: (s.outputWidth - 1) * s.strideWidth + (s.kernelWidth - 1) * s.dilationWidth + 1)
            : nil
        planeHeight = s.outputHeight + (s.kernelHeight - 1) * s.dilationHeight / s.strideHeight
        planeWidth = s.outputWidth + (s.kernelWidth - 1) * s.dilationWidth / s.strideWidth
        planeStride = planeHeight * planeWidth + planeWidth
        var taps: [(Int, Int)] = []
        for i in 0..<s.kernelHeight {
            for j in 0..<s.kernelWidth {
                let (a, b) = ((i * s.dilationHeight) % s.strideHeight, (j * s.dilationWidth) % s.strideWidth)
                let offset =
                    (i * s.dilationHeight / s.strideHeight) * planeWidth + (j * s.dilationWidth / s.strideWidth)
                taps.append((a * s.strideWidth + b, offset))
            }
        }
        self.taps = taps
        let stride = planeStride
        tapStarts = taps.map { $0.0 * stride + $0.1 }
        let width = planeWidth
        columns = (0..<s.strideWidth).map { b in
            Lowering.validRange(outputs: width, stride: s.strideWidth, shift: b - s.padLeft, input: s.width)
        }
    }

    /// Scratch floats: the channel-blocked kernel's packed block, or the phase planes and the
    /// accumulator of one output plane.
    var workspaceElements: Int {
        if var geometry = blocked { return convsweep_depthwise_blocked_scratch(&geometry) }
        return shape.strideHeight * shape.strideWidth * planeStride + shape.outputHeight * planeWidth
    }

    /// Channels per block of the channel-blocked kernel.
    static let block = Int(CONVSWEEP_DEPTHWISE_BLOCK)

    /// Writes the phase planes of one (unpadded) input plane into `planes`: for each phase row,
    /// the input row it reads is split once into its `strideWidth` column phases (a plain copy for
    /// stride 1), zeros where the padding is.
    func split(_ input: UnsafePointer<Float>, into planes: UnsafeMutablePointer<Float>) {
        let s = shape
        let (sh, sw) = (s.strideHeight, s.strideWidth)
        for a in 0..<sh {
            for r in 0..<planeHeight {
                let iy = r * sh + a - s.padTop
                let inside = iy >= 0 && iy < s.height
                let source = input + iy * s.width
                for b in 0..<sw {
                    let row = planes + (a * sw + b) * planeStride + r * planeWidth
                    let range = columns[b]
                    let (lo, hi) = inside ? (range.lowerBound, range.upperBound) : (0, 0)
                    let first = source + b - s.padLeft
                    if sw == 1 && planeWidth >= 64 {
                        // Long rows: library calls (memset, memcpy) beat a loop.
                        if lo > 0 { row.update(repeating: 0, count: lo) }
                        if hi > lo { (row + lo).update(from: first + lo, count: hi - lo) }
                        if hi < planeWidth { (row + hi).update(repeating: 0, count: planeWidth - hi) }
                        continue
                    }
                    // Short or strided rows: one pass, no call (a call costs more than a 14-wide row).
                    var q = 0
                    while q < lo {
                        row[q] = 0
                        q &+= 1
                    }
                    while q < hi {
                        row[q] = first[q &* sw]
                        q &+= 1
                    }
                    while q < planeWidth {
                        row[q] = 0
                        q &+= 1
                    }
                }
            }
        }
        // The slack after each plane, read (and discarded) by the last row's taps.
        for phase in 0..<(sh * sw) {
            (planes + phase * planeStride + planeHeight * planeWidth).update(repeating: 0, count: planeWidth)
        }
    }

    /// One output plane from the phase planes and the channel's K1·K2 weights: the taps three at a
    /// time into the accumulator, then the valid columns copied out.
    func convolve(
        planes: UnsafePointer<Float>, weights: UnsafePointer<Float>, accumulator: UnsafeMutablePointer<Float>,
        into output: UnsafeMutablePointer<Float>
    ) {
        tapStarts.withUnsafeBufferPointer { starts in
            convsweep_depthwise_taps(
                accumulator, planes, starts.baseAddress, weights, Int32(taps.count), shape.outputHeight * planeWidth)
        }
        // The valid columns out, without a call per short row.
        let (ow, pw) = (shape.outputWidth, planeWidth)
        var (from, to) = (0, 0)
        for _ in 0..<shape.outputHeight {
            var x = 0
            while x < ow {
                output[to &+ x] = accumulator[from &+ x]
                x &+= 1
            }
            from &+= pw
            to &+= ow
        }
    }
}

extension Conv2D {
    /// The instruction set whose clone of convsweep's own depthwise kernels runs on this CPU:
    /// `x86-64-v4` (AVX-512), `x86-64-v3` (AVX2 and FMA) or `baseline` (the loader picks it; the
    /// manifest records it, since the same layer runs other instructions on another CPU).
    public static let ownKernelsInstructionSet = String(cString: convsweep_kernels_isa())

    /// The direct depthwise convolution (``DepthwisePlan``): output channel `co` reads input
    /// channel `co / m` only (m = Cout / Cin), so there is nothing for a GEMM to share. With
    /// m = 1, blocks of 8 channels through the channel-blocked kernel; otherwise each input
    /// channel is split into its phase planes once, then each of its m output channels is one
    /// contiguous multiply–add per group of three taps.
    ///
    /// On a team of p > 1 threads (``ComputeThreads/teamSize``), with at least
    /// ``parallelOutputs`` outputs a thread, each thread takes the next (image, block) or (image,
    /// channel) not taken, with a workspace of its own.
    func runDepthwise() -> PhaseTimes {
        let s = shape
        let start = MonotonicClock.now()
        let plan = depthwisePlan!
        let blocks = (s.inputChannels + DepthwisePlan.block - 1) / DepthwisePlan.block
        let items = plan.blocked == nil ? s.batch * s.inputChannels : s.batch * blocks
        let team = min(ComputeThreads.teamSize, workspaceCopies, items, s.outputCount / Conv2D.parallelOutputs)
        let copy = workspace.count / workspaceCopies
        if var geometry = plan.blocked {
            // The channel-blocked kernel: item b of image n is channels 8b… of that image.
            let (input, weights, output) = (input.baseAddress!, weights.baseAddress!, output.baseAddress!)
            let (channels, inPlane, outPlane, taps) = (s.inputChannels, s.inputSpatialSize, s.spatialSize, s.kernelSize)
            withUnsafePointer(to: &geometry) { geometry in
                let block: (Int, UnsafeMutablePointer<Float>) -> Void = { item, scratch in
                    let (n, b) = item.quotientAndRemainder(dividingBy: blocks)
                    let first = b * DepthwisePlan.block
                    let channel = n * channels + first
                    convsweep_depthwise_blocked(
                        output + channel * outPlane, input + channel * inPlane, weights + first * taps,
                        Int32(min(DepthwisePlan.block, channels - first)), geometry, scratch)
                }
                if team > 1 {
                    let next = Atomic<Int>(0)
                    ComputeThreads.split(team) { _, thread in
                        while case let item = next.add(1, ordering: .relaxed).oldValue, item < items {
                            block(item, workspace.baseAddress! + thread * copy)
                        }
                    }
                } else {
                    for item in 0..<items { block(item, workspace.baseAddress!) }
                }
            }
        } else if team > 1 {
            let next = Atomic<Int>(0)
            ComputeThreads.split(team) { _, thread in
                while case let item = next.add(1, ordering: .relaxed).oldValue, item < items {
                    depthwiseChannel(item, plan: plan, scratch: workspace.baseAddress! + thread * copy)
                }
            }
        } else {
            for item in 0..<items { depthwiseChannel(item, plan: plan, scratch: workspace.baseAddress!) }
        }
        // One phase: reading the clock per channel would cost more than a small layer's channel.
        return PhaseTimes(lowering: 0, gemm: MonotonicClock.now() - start, tiles: 0)
    }

    /// The fewest outputs per thread for a depthwise layer to be shared among threads.
    static let parallelOutputs = 1 << 14

    /// Input channel `item % Cin` of image `item / Cin`: its phase planes into `scratch`, then each
    /// of its output channels (a multiplier above 1). `plan` is passed in, not copied out of
    /// ``depthwisePlan`` (and its arrays retained) for every channel.
    private func depthwiseChannel(_ item: Int, plan: DepthwisePlan, scratch planes: UnsafeMutablePointer<Float>) {
        let s = shape
        let accumulator = planes + s.strideHeight * s.strideWidth * plan.planeStride
        let multiplier = s.depthwiseMultiplier
        let (n, c) = item.quotientAndRemainder(dividingBy: s.inputChannels)
        plan.split(UnsafePointer(input.baseAddress! + (n * s.inputChannels + c) * s.inputSpatialSize), into: planes)
        for co in (c * multiplier)..<((c + 1) * multiplier) {
            plan.convolve(
                planes: planes, weights: weights.baseAddress! + co * s.kernelSize, accumulator: accumulator,
                into: output.baseAddress! + (n * s.outputChannels + co) * s.spatialSize)
        }
    }
}
