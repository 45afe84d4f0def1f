import ConvKernels
import Rows
import Sweeps
import Testing

@testable import Analysis

@Suite("How a configuration's time scales with threads")
struct ThreadScalingTests {
    /// A measured row of `shape` at `threads` of a run of several counts, median `ms` and its
    /// 95% interval `low`…`high`.
    private func row(_ shape: ConvShape, series: String = "s", threads: Int, ms: Double, low: Double, high: Double)
        -> MeasurementRow
    {
        let base = SweepConfiguration(
            id: SweepConfiguration.identifier(experiment: "B", seriesKey: series, shape: shape), experiment: "B",
            series: series, shape: shape)
        var row = MeasurementRow(
            configuration: base.measured(threads: threads), algorithm: .auto, threads: threads, status: .ok)
        row.medianMs = ms
        row.ci95LowMs = low
        row.ci95HighMs = high
        return row
    }

    @Test("speedup, its interval from the two rows' intervals, and efficiency, paired by the id without its count")
    func pairsCounts() throws {
        let wide = ConvShape(height: 64, width: 64, inputChannels: 16, outputChannels: 16, kernel: 3)
        let deep = ConvShape(height: 8, width: 8, inputChannels: 256, outputChannels: 256, kernel: 3)
        let rows = [
            row(wide, threads: 1, ms: 10, low: 9.5, high: 10.5), row(wide, threads: 2, ms: 5.5, low: 5, high: 6),
            row(deep, threads: 2, ms: 8, low: 7.9, high: 8.1), row(deep, threads: 1, ms: 10, low: 9.9, high: 10.1),
        ]
        let scaling = ThreadScaling(rows: rows)
        #expect(scaling.points.count == 2)
        #expect(scaling.unpaired == 0)
        let first = try #require(scaling.points.first)
        #expect(first.id == SweepConfiguration.identifier(experiment: "B", seriesKey: "s", shape: wide))
        #expect(first.series == "s")
        #expect(first.threads == 2)
        #expect(abs(first.speedup - 10 / 5.5) < 1e-12)
        #expect(abs(first.efficiency - 10 / 5.5 / 2) < 1e-12)
        #expect(abs(try #require(first.speedupLow) - 9.5 / 6) < 1e-12)
        #expect(abs(try #require(first.speedupHigh) - 10.5 / 5) < 1e-12)
        let summary = try #require(scaling.seriesSummaries.first)
        #expect(summary.configurations == 2)
        #expect(abs(summary.medianSpeedup - (10 / 5.5 + 10 / 8) / 2) < 1e-12)
        #expect(scaling.csv.split(separator: "\n").count == 3)
    }

    @Test("a row at more threads with no one-thread row is counted apart, not paired")
    func unpaired() {
        let shape = ConvShape(height: 16, width: 16, inputChannels: 8, outputChannels: 8, kernel: 3)
        let scaling = ThreadScaling(rows: [row(shape, threads: 2, ms: 1, low: 0.9, high: 1.1)])
        #expect(scaling.points.isEmpty)
        #expect(scaling.unpaired == 1)
    }

    @Test("Spearman's rho of speedup against H·W: layers that scale with their spatial size show +1")
    func dependenceOnSpatialSize() throws {
        let rows = [8, 16, 32, 64].flatMap { side in
            let shape = ConvShape(height: side, width: side, inputChannels: 32, outputChannels: 32, kernel: 3)
            let t1 = Double(side)
            return [
                row(shape, threads: 1, ms: t1, low: t1, high: t1),
                row(shape, threads: 2, ms: t1 / (1 + Double(side) / 64), low: t1 / 2, high: t1),
            ]
        }
        let dependence = ThreadScaling(rows: rows).dependence()
        let spatial = try #require(dependence.first { $0.dimension == "H·W" })
        #expect(spatial.configurations == 4)
        #expect(abs(spatial.rho - 1) < 1e-12)
        #expect(try #require(dependence.first { $0.dimension == "K1·K2" }).rho.isNaN)
    }
}
