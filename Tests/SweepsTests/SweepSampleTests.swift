import Basics
import ConvKernels
import Foundation
import PropertyBased
import Testing

@testable import Sweeps

@Suite("Sampling and limits")
struct SweepSampleTests {
    @Test("a sample is sorted, distinct, inside the population, of the asked size")
    func sampleShape() async {
        await propertyCheck(input: Gen.int(in: 0...5000), Gen.int(in: 0...200), Gen.uint64()) {
            population, count, seed in
            let drawn = SweepSample(count: count, seed: seed).indices(population: population)
            #expect(drawn.count == min(count, population))
            #expect(drawn == drawn.sorted())
            #expect(Set(drawn).count == drawn.count)
            #expect(drawn.allSatisfy { $0 >= 0 && $0 < population })
        }
    }

    @Test("the same seed draws the same points; other seeds draw others")
    func reproducible() {
        let first = SweepSample(count: 100, seed: 42).indices(population: 1_433_600)
        #expect(SweepSample(count: 100, seed: 42).indices(population: 1_433_600) == first)
        for seed: UInt64 in [0, 1, 43, .max] {
            #expect(SweepSample(count: 100, seed: seed).indices(population: 1_433_600) != first)
        }
        // A fixed seed's draw is part of the file's meaning: pin the first points so a change of
        // generator or algorithm cannot go unnoticed.
        #expect(Array(SweepSample(count: 5, seed: 1).indices(population: 100)) == expectedSeedOne)
    }

    @Test("every index is about equally likely (chi-square over 20 cells)")
    func uniform() {
        var hits = [Int](repeating: 0, count: 20)
        for seed: UInt64 in 0..<2000 {
            for index in SweepSample(count: 5, seed: seed).indices(population: 20) { hits[index] += 1 }
        }
        let expected = 2000.0 * 5 / 20
        let chiSquare = hits.reduce(0) { $0 + pow(Double($1) - expected, 2) / expected }
        // 19 degrees of freedom: P(χ² > 43.8) = 0.001.
        #expect(chiSquare < 43.8, "\(hits)")
    }

    @Test("bounded draws have no modulo bias: a bound just above 2^63 splits evenly")
    func unbiased() {
        var generator = SplitMix64(seed: 7)
        let bound = (UInt64(1) << 63) + 1
        let upperHalf = (0..<4000).filter { _ in SweepSample.uniform(below: bound, using: &generator) >= bound / 2 }
            .count
        #expect(abs(upperHalf - 2000) < 200)
    }

    @Test("a sampled file lists only drawn points, in expansion order, across series")
    func sampledFile() throws {
        let yaml = """
            name: S
            series:
              - {label: a, H: {from: 1, to: 50}, W: 1, Cin: 1, Cout: 1, K: 1}
              - {label: b, H: {from: 1, to: 50}, W: 2, Cin: 1, Cout: 1, K: 1}
            sample: {count: 30, seed: 9}
            """
        let sweep = try loadSweep(yaml)
        let indices = SweepSample(count: 30, seed: 9).indices(population: 100)
        #expect(sweep.expansionCount == 100)
        #expect(sweep.configurations.map { ($0.shape.width - 1) * 50 + $0.shape.height - 1 } == indices)
        #expect(sweep.configurations.map(\.series) == indices.map { $0 < 50 ? "a" : "b" })
        #expect(try loadSweep(yaml).configurations == sweep.configurations)
        let other = try loadSweep(yaml.replacingOccurrences(of: "seed: 9", with: "seed: 10"))
        #expect(other.configurations != sweep.configurations)
        let all = try loadSweep(yaml.replacingOccurrences(of: "count: 30", with: "count: 1000"))
        #expect(all.configurations.count == 100)
    }

    @Test("limits drop configurations with the reason and keep them in the expansion")
    func limits() throws {
        let sweep = try loadSweep(
            """
            name: L
            series:
              - {label: a, H: 100, W: 100, K: 3, Cin: 100, Cout: [10, 1000], batch: [1, 40]}
            limits: {max_gflop: 1, max_memory_mib: 64}
            """)
        #expect(sweep.configurations.count == 4)
        // 2·9·100·10·10^4 = 0.18 GFLOP; with Cout 1000: 18 GFLOP; batch 40 multiplies both.
        #expect(
            sweep.configurations.map(\.status.text) == [
                "ok",
                "dropped: 7.2 GFLOP > max_gflop 1; 168.9 MiB > max_memory_mib 64",
                "dropped: 18.0 GFLOP > max_gflop 1",
                "dropped: 720.0 GFLOP > max_gflop 1; 1682.9 MiB > max_memory_mib 64",
            ])
        #expect(sweep.configurations.map(\.isMeasured) == [true, false, false, false])
        let shape = sweep.configurations[1].shape
        // Input 40·100·10^4, output 40·10·10^4, weights 10·100·9, and the im2col workspace of
        // one cache-sized piece, as the kernels plan it (about 1 MiB, far below one image's 36 MB).
        let workspace = Conv2D.plan(shape: shape, algorithm: .auto).workspaceElements
        #expect(workspace > 0 && workspace < 900 * 10_000)
        let bytes = 4 * (40 * 100 * 10_000 + 40 * 10 * 10_000 + 10 * 100 * 9 + workspace)
        #expect(SweepLimits.memoryBytes(of: shape) == bytes)
        #expect(SweepLimits().status(of: shape) == .ok)
    }

    @Test("the time model: the roofline at the layer's intensity, rounds, the round's limits")
    func timeModel() {
        var model = exactTimeModel(
            gflops: 10, gigabytesPerSecond: 1, rounds: 2, maxRounds: 4, roundMinRuns: 3, roundMaxRuns: 100,
            overhead: 0.01)
        #expect(model.expectedRounds == 3)
        // Compute bound (intensity 100 FLOPs/byte > the ridge at 10): 0.01 s a run, 1 + 10 runs a round.
        #expect(abs(model.seconds(flops: 1e8, intensity: 100) - 3 * (0.01 + 0.1 + 0.01)) < 1e-9)
        // Bandwidth bound at intensity 0.5: 0.5 GFLOP/s, 0.2 s a run; the round stops at the first run
        // past its 1 s limit: 1 + 0.2 s of timed runs.
        #expect(abs(model.seconds(flops: 1e8, intensity: 0.5) - 3 * (0.2 + 1.2 + 0.01)) < 1e-9)
        // A run of 2 s: the 3 fewest runs outlast the limit.
        #expect(abs(model.seconds(flops: 2e10, intensity: 100) - 3 * (2 + 6 + 0.01)) < 1e-9)
        // Fixed runs: no limit.
        model.fixedRunsPerRound = 5
        #expect(abs(model.seconds(flops: 2e10, intensity: 100) - 3 * (2 + 10 + 0.01)) < 1e-9)
        #expect(model.summary.contains("5 timed runs") && model.summary.contains("test"))
    }
}

/// SplitMix64 seeded with 1, Floyd's algorithm with rejection-sampled bounded draws, 5 of 100,
/// computed by an independent implementation (Python, arbitrary-precision integers).
private let expectedSeedOne: [Int] = [29, 44, 61, 64, 65]

/// A time model with no calibrated constants: the roofline at 100%, 10 runs where the CI target
/// would stop, half the extra rounds, a round limit of `roundMaxSeconds`.
func exactTimeModel(
    gflops: Double, gigabytesPerSecond: Double, rounds: Int, maxRounds: Int, roundMinRuns: Int, roundMaxRuns: Int,
    roundMaxSeconds: Double = 1, overhead: Double
) -> MeasuringTimeModel {
    var model = MeasuringTimeModel(
        rates: .init(gflops: gflops, gigabytesPerSecond: gigabytesPerSecond, source: "test"), rounds: rounds,
        maxRounds: maxRounds, roundMinRuns: roundMinRuns, roundMaxRuns: roundMaxRuns, roundMaxSeconds: roundMaxSeconds)
    model.efficiency = 1
    model.typicalRuns = 10
    model.roundOverheadSeconds = overhead
    model.extraRoundShare = 0.5
    return model
}
