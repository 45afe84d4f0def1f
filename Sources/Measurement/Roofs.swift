import Basics
import ConvKernels

/// The two roofs of a roofline model of this core, measured at the start of a run session: the
/// compute roof (a large `sgemm`'s rate) and the memory roof (a streaming bandwidth far beyond
/// the caches). A configuration of arithmetic intensity I (FLOPs per byte of its tensors) can
/// attain at most min(compute, I × bandwidth).
public struct Roofs: Codable, Hashable, Sendable {
    /// GFLOP/s of the fastest of 3 `sgemm` calls of size ``sgemmSize``³, after a warm-up.
    public var computeGflops: Double
    /// GB/s of the fastest of 5 `saxpy` passes over two arrays of ``streamBytes`` each.
    public var bandwidthGBps: Double
    /// The sgemm's n.
    public var sgemmSize: Int
    /// Bytes of each streamed array.
    public var streamBytes: Int

    /// Roofs from known rates.
    public init(computeGflops: Double, bandwidthGBps: Double, sgemmSize: Int, streamBytes: Int) {
        self.computeGflops = computeGflops
        self.bandwidthGBps = bandwidthGBps
        self.sgemmSize = sgemmSize
        self.streamBytes = streamBytes
    }

    /// Measures both roofs (about half a second with the defaults: a 1024³ sgemm and two 128 MiB
    /// arrays).
    public static func measure(sgemmSize: Int = 1024, streamElements: Int = 1 << 25) -> Roofs {
        let sgemm = PlainSgemm(m: sgemmSize, n: sgemmSize, k: sgemmSize)
        sgemm.run()
        let gemmTime = (0..<3).map { _ in MonotonicClock.seconds(sgemm.run) }.min()!
        let stream = StreamAxpy(count: streamElements)
        stream.run()
        let streamTime = (0..<5).map { _ in MonotonicClock.seconds(stream.run) }.min()!
        return Roofs(
            computeGflops: sgemm.flops / gemmTime / 1e9, bandwidthGBps: stream.bytes / streamTime / 1e9,
            sgemmSize: sgemmSize, streamBytes: streamElements * MemoryLayout<Float>.stride)
    }

    /// The intensity at which the roofs meet, FLOPs per byte.
    public var ridgeIntensity: Double { computeGflops / bandwidthGBps }

    /// The roof that bounds a configuration of arithmetic intensity `intensity`: `memory` left of
    /// the ridge, `compute` right of it.
    public func bound(intensity: Double) -> String { intensity < ridgeIntensity ? "memory" : "compute" }

    /// The highest rate the roofs allow at `intensity`, GFLOP/s.
    public func attainable(intensity: Double) -> Double { min(computeGflops, intensity * bandwidthGBps) }
}
