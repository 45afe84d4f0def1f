import Basics
import Measurement
import Rows

extension MeasurementRow {
    /// Fills the figures from `samples` (seconds).
    public mutating func record(_ samples: Samples) {
        let s = SampleSummary(samples.times)
        runs = s.count
        warmUpRuns = samples.warmUpRuns
        medianMs = s.median * 1e3
        meanMs = s.mean * 1e3
        minMs = s.minimum * 1e3
        p25Ms = s.p25 * 1e3
        p75Ms = s.p75 * 1e3
        stddevMs = s.standardDeviation * 1e3
        ci95LowMs = s.ci95Low * 1e3
        ci95HighMs = s.ci95High * 1e3
        loweringMs = Statistics.median(samples.lowering) * 1e3
        gemmMs = Statistics.median(samples.gemm) * 1e3
        gflops = flops / s.median / 1e9
        stopReason = samples.stopReason
    }
}
