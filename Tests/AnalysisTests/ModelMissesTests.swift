import ConvKernels
import Testing

@testable import Analysis

@Suite("Where a model misses")
struct ModelMissesTests {
    @Test("a model that misses only where Cout is not a multiple of 8 shows it as the largest spread")
    func theTileShowsUp() {
        var rows: [ModelMisses.Row] = []
        for cout in 8...72 {
            let shape = ConvShape(height: 14, width: 14, inputChannels: 32, outputChannels: cout, kernel: 3)
            // 20% slow whenever Cout is not a multiple of 8, exact otherwise.
            let predicted = cout % 8 == 0 ? 1.0 : 1.25
            rows.append(
                ModelMisses.Row(
                    shape: shape, algorithm: "im2col-gemm", group: "K>1", measuredMs: 1, predictedMs: predicted))
        }
        let misses = ModelMisses(model: "m", rows: rows, caches: [("L1d", 32 << 10), ("L2", 512 << 10)])
        #expect(misses.count == 65)
        #expect(misses.features[0].name == "Cout mod 8")
        let buckets = misses.features[0].buckets
        #expect(buckets.map(\.value) == ["multiple of 8", "not a multiple"])
        #expect(buckets.map(\.count) == [9, 56])
        #expect(buckets[0].medianError == 0 && abs(buckets[1].medianError - 0.25) < 1e-12)
        #expect(buckets[0].withinTenPercent == 1 && buckets[1].withinTenPercent == 0)
        #expect(abs(misses.features[0].spread - 0.25) < 1e-12)
        #expect(abs(misses.withinTenPercent - 9.0 / 65) < 1e-12)
        // One kernel, one algorithm: those features have no spread.
        #expect(misses.features.first { $0.name == "kernel" }?.spread == 0)
        // The working set of a 14×14×32 input, 3×3×32×Cout weights and 14×14×Cout output is over 32 KiB.
        let sets = misses.features.first { $0.name == "working set" }!.buckets.map(\.value)
        #expect(sets.allSatisfy { !$0.hasPrefix("≤ L1d") })
        #expect(misses.csv.hasPrefix("model,feature,spread,bucket,rows,median_error,within_10pct\n"))
        #expect(!misses.features.contains { $0.name.hasPrefix("sgemm calls") }, "no setting, no calls")
    }

    @Test("a model that misses the layers whose sgemm calls OpenBLAS gives its small-matrix kernel shows it")
    func theSmallMatrixKernelShowsUp() {
        let setting = WorkSetting(level2Bytes: 1 << 20, lastLevelBytes: 32 << 20)
        var rows: [ModelMisses.Row] = []
        // 1×1 layers: Hₒ·Wₒ·Cout·Cin of 4·4·64·16 = 16,384 (small) up to 64·64·256·64 (not).
        for (side, cout, cin) in [(4, 64, 16), (8, 64, 16), (6, 32, 32), (4, 128, 32), (8, 96, 8)]
            + [(64, 256, 64), (56, 128, 96), (48, 192, 64), (64, 128, 128), (40, 256, 96)]
        {
            let shape = ConvShape(height: side, width: side, inputChannels: cin, outputChannels: cout, kernel: 1)
            let small = KernelWork(shape: shape, setting: setting).smallCallFlops(limit: 1_000_000) > 0
            rows.append(
                ModelMisses.Row(
                    shape: shape, algorithm: "gemm-1x1", group: "K=1", measuredMs: 1, predictedMs: small ? 1.3 : 1))
        }
        let depthwise = ConvShape(height: 14, width: 14, inputChannels: 32, outputChannels: 32, kernel: 3, groups: 32)
        rows.append(
            ModelMisses.Row(
                shape: depthwise, algorithm: "depthwise-direct", group: "grouped", measuredMs: 1, predictedMs: 1))
        let misses = ModelMisses(model: "m", rows: rows, caches: [("L2", 1 << 20)], setting: setting)
        let feature = misses.features.first { $0.name == "sgemm calls' m·n·k (small-matrix kernel)" }!
        #expect(feature.buckets.map(\.value) == ["every call ≤ 10⁶", "every call > 10⁶", "no sgemm"])
        #expect(feature.buckets.map(\.count) == [5, 5, 1])
        #expect(abs(feature.spread - 0.3) < 1e-12)
        #expect(misses.features[0].name == feature.name)
    }
}
