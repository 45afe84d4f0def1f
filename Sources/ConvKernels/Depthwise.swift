import Basics

extension Conv2D {
    /// The direct depthwise convolution: output channel `co` reads input channel `co / m` only
    /// (m = Cout / Cin), so there is nothing for a GEMM to share; each output row is accumulated in
    /// place, one kernel tap at a time, from one input row.
    ///
    /// For a tap `(i, j)` the output positions whose input lies inside the image form one range
    /// `xLo ..< xHi`, computed once per column `j` of the kernel (``DepthwiseColumns``): the
    /// padding never reaches the inner loop, which is a plain multiply–add over contiguous output
    /// and (for stride 1) contiguous input, which the compiler vectorises. Rows of taps above or
    /// below the image are skipped whole.
    func runDepthwise() -> PhaseTimes {
        let s = shape
        let start = MonotonicClock.now()
        let columns = DepthwiseColumns(shape: s)
        let (inputPlane, outputPlane) = (s.inputSpatialSize, s.spatialSize)
        let (ow, taps) = (s.outputWidth, s.kernelSize)
        let multiplier = s.depthwiseMultiplier
        for n in 0..<s.batch {
            for co in 0..<s.outputChannels {
                let plane = UnsafePointer(input.baseAddress! + (n * s.inputChannels + co / multiplier) * inputPlane)
                let out = output.baseAddress! + (n * s.outputChannels + co) * outputPlane
                let kernel = UnsafePointer(weights.baseAddress! + co * taps)
                for y in 0..<s.outputHeight {
                    let row = out + y * ow
                    row.update(repeating: 0, count: ow)
                    for i in 0..<s.kernelHeight {
                        let iy = y * s.strideHeight + i * s.dilationHeight - s.padTop
                        if iy < 0 || iy >= s.height { continue }
                        columns.accumulate(
                            row: row, from: plane + iy * s.width, weights: kernel + i * s.kernelWidth)
                    }
                }
            }
        }
        return PhaseTimes(lowering: 0, gemm: MonotonicClock.now() - start, tiles: 0)
    }
}

/// The per-column ranges of a depthwise (or any single-channel) row accumulation: for kernel
/// column `j`, the output positions `lo[j] ..< hi[j]` whose input column
/// `x·strideWidth + j·dilationWidth − padLeft` lies in `0 ..< W`.
struct DepthwiseColumns {
    let lo: [Int]
    let hi: [Int]
    let offset: [Int]
    let stride: Int

    init(shape s: ConvShape) {
        var lo: [Int] = []
        var hi: [Int] = []
        var offset: [Int] = []
        for j in 0..<s.kernelWidth {
            let shift = j * s.dilationWidth - s.padLeft
            let range = Lowering.validRange(
                outputs: s.outputWidth, stride: s.strideWidth, shift: shift, input: s.width)
            lo.append(range.lowerBound)
            hi.append(range.upperBound)
            offset.append(shift)
        }
        self.lo = lo
        self.hi = hi
        self.offset = offset
        self.stride = s.strideWidth
    }

    /// `row[x] += Σⱼ weights[j] · source[x·stride + offset[j]]` over each column's valid range.
    @inline(__always)
    func accumulate(row: UnsafeMutablePointer<Float>, from source: UnsafePointer<Float>, weights: UnsafePointer<Float>)
    {
        for j in 0..<lo.count {
            let w = weights[j]
            let (start, end) = (lo[j], hi[j])
            if start >= end { continue }
            if stride == 1 {
                let src = source + offset[j]
                for x in start..<end { row[x] += w * src[x] }
            } else {
                let step = stride
                let src = source + offset[j]
                for x in start..<end { row[x] += w * src[x * step] }
            }
        }
    }
}
