/// The im2col lowering of one piece (a block of output rows × a chunk of input channels).
///
/// Output position `(y, x)` of kernel offset `(i, j)` reads input
/// `(y·strideHeight + i·dilationHeight − padTop, x·strideWidth + j·dilationWidth − padLeft)`, or
/// zero outside the input.
struct Lowering {
    let shape: ConvShape
    /// For each kernel column j of a layer that does not keep the input's size: its input shift
    /// j·dilation − padLeft and the output columns whose input lies inside the image.
    let columns: [(shift: Int, range: Range<Int>)]

    init(shape s: ConvShape) {
        shape = s
        columns =
            s.keepsSpatialSize
            ? []
            : (0..<s.kernelWidth).map { j in
                let shift = j * s.dilationWidth - s.padLeft
                return (
                    shift,
                    Lowering.validRange(outputs: s.outputWidth, stride: s.strideWidth, shift: shift, input: s.width)
                )
            }
    }

    /// Lowers the piece in `orientation` on this thread into `destination`. On a team of threads
    /// each thread lowers pieces of its own (`Conv2D`): a lowering split among the team between
    /// sgemm calls left the team's threads spinning on the PUs OpenBLAS's workers needed.
    func lower(
        image: UnsafePointer<Float>, firstRow: Int, rows: Int, firstChannel: Int, channels: Int,
        orientation: GemmOrientation, into destination: UnsafeMutablePointer<Float>
    ) {
        switch orientation {
        case .rowMajor, .columnMajor:
            lowerRowMajor(
                image: image, firstRow: firstRow, rows: rows, firstChannel: firstChannel, channels: channels,
                into: destination)
        case .patchMajor:
            lowerPatchMajor(
                image: image, firstRow: firstRow, rows: rows, firstChannel: firstChannel, channels: channels,
                into: destination)
        }
    }

    /// The outputs `x` in `0 ..< outputs` whose input `x·stride + shift` lies in `0 ..< input`.
    static func validRange(outputs: Int, stride: Int, shift: Int, input: Int) -> Range<Int> {
        // x·stride + shift ≥ 0  ⇔  x ≥ ⌈−shift / stride⌉;  x·stride + shift ≤ input − 1.
        let lo = shift >= 0 ? 0 : (-shift + stride - 1) / stride
        let last = input - 1 - shift
        let hi = last < 0 ? 0 : min(outputs, last / stride + 1)
        return min(lo, hi)..<hi
    }

    /// The depth × positions lowering of any layer: each lowered row is built output row by
    /// output row, a contiguous copy (stride 1) or a strided gather per row, with the zeros of
    /// the padding written outside the copy.
    func lowerRowMajorGeneral(
        image: UnsafePointer<Float>, firstRow: Int, rows: Int, firstChannel: Int, channels: Int,
        into destination: UnsafeMutablePointer<Float>
    ) {
        let s = shape
        let ow = s.outputWidth
        var dst = destination
        for c in firstChannel..<(firstChannel + channels) {
            let plane = image + c * s.inputSpatialSize
            for i in 0..<s.kernelHeight {
                for (shift, range) in columns {
                    for r in 0..<rows {
                        let iy = (firstRow + r) * s.strideHeight + i * s.dilationHeight - s.padTop
                        if iy < 0 || iy >= s.height || range.isEmpty {
                            dst.update(repeating: 0, count: ow)
                        } else {
                            if range.lowerBound > 0 { dst.update(repeating: 0, count: range.lowerBound) }
                            let source = plane + iy * s.width + shift
                            if s.strideWidth == 1 {
                                (dst + range.lowerBound).update(from: source + range.lowerBound, count: range.count)
                            } else {
                                for x in range { dst[x] = source[x * s.strideWidth] }
                            }
                            if range.upperBound < ow {
                                (dst + range.upperBound).update(repeating: 0, count: ow - range.upperBound)
                            }
                        }
                        dst += ow
                    }
                }
            }
        }
    }

    /// The positions × depth lowering of any layer, element by element (a benchmark variant).
    func lowerPatchMajorGeneral(
        image: UnsafePointer<Float>, firstRow: Int, rows: Int, firstChannel: Int, channels: Int,
        into destination: UnsafeMutablePointer<Float>
    ) {
        let s = shape
        var dst = destination
        for r in 0..<rows {
            for x in 0..<s.outputWidth {
                for c in firstChannel..<(firstChannel + channels) {
                    let plane = image + c * s.inputSpatialSize
                    for i in 0..<s.kernelHeight {
                        let iy = (firstRow + r) * s.strideHeight + i * s.dilationHeight - s.padTop
                        for j in 0..<s.kernelWidth {
                            let ix = x * s.strideWidth + j * s.dilationWidth - s.padLeft
                            dst.pointee =
                                iy < 0 || iy >= s.height || ix < 0 || ix >= s.width ? 0 : plane[iy * s.width + ix]
                            dst += 1
                        }
                    }
                }
            }
        }
    }

    /// Writes the depth × positions matrix of output rows `firstRow ..< firstRow + rows` and input
    /// channels `firstChannel ..< firstChannel + channels` of `image` into `destination`.
    ///
    /// For one `(c, i, j)` the valid output rows read consecutive input rows, which are contiguous
    /// in NCHW: the whole block is one shifted copy, after which the `|j − padLeft|` positions per
    /// row that wrapped into a neighbouring input row are zeroed. Rows above or below the input are
    /// zero-filled. There is no per-element branch. Layers that do not keep the input's size
    /// (``ConvShape/keepsSpatialSize``) go to ``lowerRowMajorGeneral(image:firstRow:rows:firstChannel:channels:into:)``.
    func lowerRowMajor(
        image: UnsafePointer<Float>, firstRow: Int, rows: Int, firstChannel: Int, channels: Int,
        into destination: UnsafeMutablePointer<Float>
    ) {
        let s = shape
        guard s.keepsSpatialSize else {
            return lowerRowMajorGeneral(
                image: image, firstRow: firstRow, rows: rows, firstChannel: firstChannel, channels: channels,
                into: destination)
        }
        let w = s.width
        let positions = rows * w
        var dst = destination
        for c in firstChannel..<(firstChannel + channels) {
            let plane = image + c * s.inputSpatialSize
            for i in 0..<s.kernelHeight {
                // Output rows r with 0 <= firstRow + r + i - padTop < H.
                let offset = firstRow + i - s.padTop
                let rLo = min(rows, max(0, -offset))
                let rHi = max(rLo, min(rows, s.height - offset))
                let valid = rHi - rLo
                for j in 0..<s.kernelWidth {
                    let shift = j - s.padLeft
                    if valid == 0 || shift >= w || -shift >= w {
                        dst.update(repeating: 0, count: positions)
                        dst += positions
                        continue
                    }
                    if rLo > 0 { dst.update(repeating: 0, count: rLo * w) }
                    if rHi < rows { (dst + rHi * w).update(repeating: 0, count: (rows - rHi) * w) }
                    let block = dst + rLo * w
                    let source = plane + (offset + rLo) * w
                    let count = valid * w
                    if shift >= 0 {
                        // block[k] = source[k + shift]; the last `shift` positions of each row wrap.
                        block.update(from: source + shift, count: count - shift)
                        var row = block + (w - shift)
                        for _ in 0..<valid {
                            for t in 0..<shift { row[t] = 0 }
                            row += w
                        }
                    } else {
                        // block[k] = source[k − m]; the first `m` positions of each row wrap.
                        let m = -shift
                        (block + m).update(from: source, count: count - m)
                        var row = block
                        for _ in 0..<valid {
                            for t in 0..<m { row[t] = 0 }
                            row += w
                        }
                    }
                    dst += positions
                }
            }
        }
    }

    /// Writes the positions × depth matrix ("im2row") of the same piece: row `p` holds the patch of
    /// output position `p`, K2 contiguous input values per `(c, i)`.
    func lowerPatchMajor(
        image: UnsafePointer<Float>, firstRow: Int, rows: Int, firstChannel: Int, channels: Int,
        into destination: UnsafeMutablePointer<Float>
    ) {
        let s = shape
        guard s.keepsSpatialSize else {
            return lowerPatchMajorGeneral(
                image: image, firstRow: firstRow, rows: rows, firstChannel: firstChannel, channels: channels,
                into: destination)
        }
        let w = s.width
        let k2 = s.kernelWidth
        let depth = channels * s.kernelSize
        for r in 0..<rows {
            let y = firstRow + r
            for x in 0..<w {
                var dst = destination + (r * w + x) * depth
                let x0 = x - s.padLeft
                let jLo = max(0, -x0)
                let jHi = min(k2, w - x0)
                for c in firstChannel..<(firstChannel + channels) {
                    let plane = image + c * s.inputSpatialSize
                    for i in 0..<s.kernelHeight {
                        let iy = y + i - s.padTop
                        if iy < 0 || iy >= s.height || jLo >= jHi {
                            dst.update(repeating: 0, count: k2)
                        } else {
                            for j in 0..<jLo { dst[j] = 0 }
                            let src = plane + iy * w + x0
                            for j in jLo..<jHi { dst[j] = src[j] }
                            for j in jHi..<k2 { dst[j] = 0 }
                        }
                        dst += k2
                    }
                }
            }
        }
    }
}
