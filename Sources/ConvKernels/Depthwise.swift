import Basics
import CKernels
import Synchronization

/// How the direct depthwise kernel computes a layer: channel-blocked, as ONNX Runtime's MLAS and
/// oneDNN's `jit_dw` do (`convsweep_depthwise_blocked`; docs/kernels.md). The output channels go
/// in blocks of ``block``; per block and image the input planes its channels read are packed once
/// into [row][column][channel] (zeros for the padding), every output position is computed
/// ``block`` channels wide, and the output is transposed back to NCHW.
struct DepthwisePlan {
    let shape: ConvShape
    /// The geometry the C kernel reads: sizes, strides, dilations, the padding before each axis,
    /// and the padded rows and columns the taps reach.
    let geometry: convsweep_depthwise_geometry

    /// Channels per block.
    static let block = Int(CONVSWEEP_DEPTHWISE_BLOCK)

    init(shape s: ConvShape) {
        shape = s
        geometry = convsweep_depthwise_geometry(
            height: s.height, width: s.width, out_height: s.outputHeight, out_width: s.outputWidth,
            kernel_height: s.kernelHeight, kernel_width: s.kernelWidth, stride_height: s.strideHeight,
            stride_width: s.strideWidth, dilation_height: s.dilationHeight, dilation_width: s.dilationWidth,
            pad_top: s.padTop, pad_left: s.padLeft,
            packed_height: (s.outputHeight - 1) * s.strideHeight + (s.kernelHeight - 1) * s.dilationHeight + 1,
            packed_width: (s.outputWidth - 1) * s.strideWidth + (s.kernelWidth - 1) * s.dilationWidth + 1)
    }

    /// Blocks of output channels per image.
    var blocks: Int { Self.blocks(outputChannels: shape.outputChannels) }

    /// Blocks of ``block`` channels that `outputChannels` take (the last one possibly partial).
    static func blocks(outputChannels: Int) -> Int { (outputChannels + block - 1) / block }

    /// Scratch floats of one thread: the packed input of a block, its weights, a band of output.
    var workspaceElements: Int {
        withUnsafePointer(to: geometry) { convsweep_depthwise_blocked_scratch($0) }
    }
}

extension Conv2D {
    /// The instruction set whose clone of convsweep's own depthwise kernel runs on this CPU:
    /// `x86-64-v4` (AVX-512), `x86-64-v3` (AVX2 and FMA) or `baseline` (the loader picks it; the
    /// manifest records it, since the same layer runs other instructions on another CPU).
    public static let ownKernelsInstructionSet = String(cString: convsweep_kernels_isa())

    /// The direct depthwise convolution (``DepthwisePlan``): output channel `co` reads input
    /// channel `co / m` only (m = Cout / Cin), so there is nothing for a GEMM to share. Item
    /// `b` of image `n` is output channels 8b… of that image, through the channel-blocked kernel.
    ///
    /// On a team of p > 1 threads (``ComputeThreads/teamSize``), with at least
    /// ``parallelOutputs`` outputs a thread, each thread takes the next item not taken, with a
    /// workspace of its own.
    func runDepthwise() -> PhaseTimes {
        let s = shape
        let start = MonotonicClock.now()
        let plan = depthwisePlan!
        let blocks = plan.blocks
        let items = s.batch * blocks
        let team = TeamShare.depthwiseTeam(
            threads: min(ComputeThreads.teamSize, workspaceCopies), items: items, outputs: s.outputCount)
        let copy = workspace.count / workspaceCopies
        let (input, weights, output, workspace) = (
            input.baseAddress!, weights.baseAddress!, output.baseAddress!, workspace.baseAddress!
        )
        let (inputs, outputs, multiplier) = (s.inputChannels, s.outputChannels, s.depthwiseMultiplier)
        let (inPlane, outPlane, taps) = (s.inputSpatialSize, s.spatialSize, s.kernelSize)
        withUnsafePointer(to: plan.geometry) { geometry in
            let block: (Int, UnsafeMutablePointer<Float>) -> Void = { item, scratch in
                let (n, b) = item.quotientAndRemainder(dividingBy: blocks)
                let first = b * DepthwisePlan.block
                let (channel, phase) = first.quotientAndRemainder(dividingBy: multiplier)
                convsweep_depthwise_blocked(
                    output + (n * outputs + first) * outPlane, input + (n * inputs + channel) * inPlane,
                    weights + first * taps, Int32(min(DepthwisePlan.block, outputs - first)), multiplier, phase,
                    geometry, scratch)
            }
            if team > 1 {
                let next = Atomic<Int>(0)
                ComputeThreads.split(team) { _, thread in
                    while case let item = next.add(1, ordering: .relaxed).oldValue, item < items {
                        block(item, workspace + thread * copy)
                    }
                }
            } else {
                for item in 0..<items { block(item, workspace) }
            }
        }
        // One phase: reading the clock per block would cost more than a small layer's block.
        return PhaseTimes(lowering: 0, gemm: MonotonicClock.now() - start, tiles: 0)
    }

    /// The fewest outputs per thread for a depthwise layer to be shared among threads.
    static let parallelOutputs = 1 << 14

    /// Depthwise layers at the channel-blocked kernel's edges, for `convsweep check` and the
    /// tests: blocks of 8 channels and a last of 3 or 1, rows transposed 8 positions at a time and
    /// a remainder (widths 19, 27, 30), padding wider than the kernel, input rows and columns no
    /// tap reaches.
    public static let depthwiseKernelEdges: [ConvShape] = [
        ConvShape(
            batch: 2, height: 21, width: 19, inputChannels: 19, outputChannels: 19, kernel: 3,
            padding: .explicit(top: 1, left: 2, bottom: 0, right: 1), groups: 19),
        ConvShape(
            height: 20, width: 27, inputChannels: 17, outputChannels: 17, kernelHeight: 3, kernelWidth: 5,
            stride: (2, 3), padding: .valid, dilation: (2, 1), groups: 17),
        ConvShape(
            height: 6, width: 30, inputChannels: 9, outputChannels: 9, kernel: 2, stride: 2,
            padding: .explicit(top: 3, left: 4, bottom: 2, right: 5), groups: 9),
    ]
}
