/// How the im2col lowered matrix is laid out and handed to `cblas_sgemm`.
///
/// The lowered matrix of a tile has one row per `(c, i, j)` (input channel, kernel row, kernel
/// column; the *depth*) and one column per output position of the tile.
public enum GemmOrientation: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
    /// Lowered as depth × positions, row-major; `sgemm(RowMajor, N, N)` with M = Cout,
    /// N = positions, K = depth: output = weights · lowered. The default: each lowered row is a
    /// contiguous (shifted) copy of input rows.
    case rowMajor = "row-major"
    /// The same buffers as ``rowMajor`` passed as the transposed column-major product
    /// `sgemm(ColMajor, N, N)` with M = positions, N = Cout: outputᵀ = loweredᵀ · weightsᵀ.
    /// OpenBLAS turns a row-major call into exactly this one, so it measures the same.
    case columnMajor = "column-major"
    /// Lowered as positions × depth ("im2row"), row-major; `sgemm(RowMajor, N, T)`. Each
    /// lowered row gathers one patch: K2-element copies from every channel.
    case patchMajor = "patch-major"

    /// The raw value, as flags and files write it.
    public var description: String { rawValue }
}

/// How one image's im2col-gemm pass is split into pieces that fit the workspace.
///
/// A piece covers `rowsPerTile` whole output rows and `channelsPerChunk` input channels of one
/// group: it is lowered into the workspace (`channelsPerChunk · K1 · K2` rows of
/// `rowsPerTile · Wₒ` columns)
/// and multiplied into the output with one `cblas_sgemm`, accumulating (β = 1) over the channel
/// chunks after the first. Small pieces keep the lowered matrix in cache; the workspace limit
/// bounds them from above.
public struct ConvTiling: Hashable, Codable, Sendable {
    /// Output rows of one image per piece (1…H).
    public var rowsPerTile: Int
    /// Input channels per piece (1…Cin).
    public var channelsPerChunk: Int
    /// How the lowered piece is laid out for `cblas_sgemm`.
    public var orientation: GemmOrientation

    /// A tiling of `rowsPerTile` output rows × `channelsPerChunk` input channels per piece.
    public init(rowsPerTile: Int, channelsPerChunk: Int, orientation: GemmOrientation = .rowMajor) {
        self.rowsPerTile = rowsPerTile
        self.channelsPerChunk = channelsPerChunk
        self.orientation = orientation
    }

    /// Float elements of the workspace one piece needs for `shape`.
    public func workspaceElements(for shape: ConvShape) -> Int {
        channelsPerChunk * shape.kernelSize * rowsPerTile * shape.outputWidth
    }

    /// The number of `cblas_sgemm` calls of one forward pass of `shape`.
    public func pieceCount(for shape: ConvShape) -> Int {
        let tiles = (shape.outputHeight + rowsPerTile - 1) / rowsPerTile
        let chunks = (shape.inputChannelsPerGroup + channelsPerChunk - 1) / channelsPerChunk
        return shape.batch * shape.groups * tiles * chunks
    }

    /// This tiling with both counts clamped into the valid range for `shape`.
    public func clamped(to shape: ConvShape) -> ConvTiling {
        ConvTiling(
            rowsPerTile: min(max(1, rowsPerTile), shape.outputHeight),
            channelsPerChunk: min(max(1, channelsPerChunk), shape.inputChannelsPerGroup),
            orientation: orientation)
    }

    /// The lowered piece convsweep aims for, in bytes (1 MiB): small enough to stay in cache
    /// between the lowering and the sgemm that reads it (this machine: 512 KiB L2 per core, 8 MiB
    /// L3 shared). Chosen by measurement, see docs/kernels.md.
    public static let cacheTargetBytes = 1 << 20

    /// The smallest depth (`channelsPerChunk · K1 · K2`) a chunk is given when channels are split:
    /// every chunk after the first re-reads and re-writes the output tile, so a chunk must carry
    /// enough multiply–adds per output element.
    public static let minimumChunkDepth = 512

    /// The smallest number of output positions per piece the planner prefers, when the image has
    /// them: narrower pieces make the sgemm inefficient.
    public static let minimumPositions = 256

    /// The tiling `Conv2D` uses for `shape` under `workspaceLimit` bytes.
    ///
    /// Channels are kept whole when the full depth `Cin · K1 · K2` is at most
    /// ``minimumChunkDepth``·2; otherwise they are chunked to about ``minimumChunkDepth`` rows. Rows
    /// per tile then make the piece about ``cacheTargetBytes`` (at least ``minimumPositions``
    /// positions when the image has them). Finally both are cut down until the piece fits
    /// `workspaceLimit`, rows first; one output row of one channel is the smallest piece, used even
    /// when it exceeds the limit.
    public static func planned(
        for shape: ConvShape, workspaceLimit: Int, cacheTargetBytes: Int = cacheTargetBytes,
        minimumPositions: Int = minimumPositions, minimumChunkDepth: Int = minimumChunkDepth
    ) -> ConvTiling {
        let k = shape.kernelSize
        let width = shape.outputWidth
        let float = MemoryLayout<Float>.stride
        var channels = shape.inputChannelsPerGroup
        if channels * k > 2 * minimumChunkDepth {
            channels = max(1, (minimumChunkDepth + k - 1) / k)
        }
        let depth = channels * k
        let cacheRows = cacheTargetBytes / max(1, depth * width * float)
        let minimumRows = (minimumPositions + width - 1) / width
        var rows = min(shape.outputHeight, max(1, cacheRows, minimumRows))
        // Respect the workspace limit: fewer rows first, then fewer channels.
        let limitElements = max(1, workspaceLimit / float)
        rows = min(rows, max(1, limitElements / max(1, depth * width)))
        if channels * k * rows * width > limitElements {
            channels = max(1, limitElements / max(1, k * rows * width))
        }
        return ConvTiling(rowsPerTile: rows, channelsPerChunk: channels)
    }
}

/// A tiling of the im2col-gemm algorithm named for a benchmark: the planned one, the planned one
/// in another orientation, explicit counts, or the planner run with other constants.
public enum TilingVariant: Hashable, Sendable, CustomStringConvertible {
    /// ``ConvTiling/planned(for:workspaceLimit:cacheTargetBytes:minimumPositions:minimumChunkDepth:)``.
    case planned
    /// The planned tiling laid out in `orientation`.
    case orientation(GemmOrientation)
    /// `rows` output rows × `channels` input channels per piece, in `orientation` (planned if nil).
    case explicit(rows: Int, channels: Int, orientation: GemmOrientation?)
    /// The planner with a cache target of `targetKiB`, at least `positions` output positions and a
    /// chunk depth of at least `depth`.
    case planner(targetKiB: Int, positions: Int, depth: Int)

    /// Reads `planned`, an orientation (`row-major`, `column-major`, `patch-major`),
    /// `ROWS:CHANNELS[:ORIENTATION]` or `plan:TARGET_KIB:MIN_POSITIONS:MIN_DEPTH`; nil otherwise.
    public init?(_ text: String) {
        if text == "planned" {
            self = .planned
            return
        }
        if let orientation = GemmOrientation(rawValue: text) {
            self = .orientation(orientation)
            return
        }
        let parts = text.split(separator: ":").map(String.init)
        if parts.count == 4, parts[0] == "plan", let kib = Int(parts[1]), let positions = Int(parts[2]),
            let depth = Int(parts[3])
        {
            self = .planner(targetKiB: kib, positions: positions, depth: depth)
            return
        }
        guard (2...3).contains(parts.count), let rows = Int(parts[0]), let channels = Int(parts[1]) else { return nil }
        if parts.count == 3 {
            guard let orientation = GemmOrientation(rawValue: parts[2]) else { return nil }
            self = .explicit(rows: rows, channels: channels, orientation: orientation)
        } else {
            self = .explicit(rows: rows, channels: channels, orientation: nil)
        }
    }

    /// The text ``init(_:)`` reads.
    public var description: String {
        switch self {
        case .planned: return "planned"
        case .orientation(let o): return o.rawValue
        case .explicit(let rows, let channels, let o): return "\(rows):\(channels)" + (o.map { ":\($0)" } ?? "")
        case .planner(let kib, let positions, let depth): return "plan:\(kib):\(positions):\(depth)"
        }
    }

    /// The tiling this variant stands for on `shape`; nil for the planned one.
    public func tiling(for shape: ConvShape, workspaceLimit: Int = Conv2D.defaultWorkspaceLimit) -> ConvTiling? {
        var tiling = ConvTiling.planned(for: shape, workspaceLimit: workspaceLimit)
        switch self {
        case .planned:
            return nil
        case .orientation(let orientation):
            tiling.orientation = orientation
        case .explicit(let rows, let channels, let orientation):
            tiling.rowsPerTile = rows
            tiling.channelsPerChunk = channels
            if let orientation { tiling.orientation = orientation }
        case .planner(let kib, let positions, let depth):
            return ConvTiling.planned(
                for: shape, workspaceLimit: workspaceLimit, cacheTargetBytes: kib << 10, minimumPositions: positions,
                minimumChunkDepth: depth)
        }
        return tiling
    }
}
