import Basics
import ConvKernels
import Foundation
import Testing

@testable import Measurement

@Suite struct StatisticsTests {
    @Test func medianAndQuantilesOfKnownValues() {
        #expect(Statistics.median([3, 1, 2]) == 2)
        #expect(Statistics.median([4, 1, 3, 2]) == 2.5)
        #expect(Statistics.median([]).isNaN)
        let sorted: [Double] = [1, 2, 3, 4, 5]
        #expect(Statistics.quantile(sorted, 0.25) == 2)
        #expect(Statistics.quantile(sorted, 0.75) == 4)
        #expect(Statistics.quantile([10, 20], 0.25) == 12.5)
    }

    @Test func summaryOfKnownValues() {
        let s = SampleSummary([2, 4, 4, 4, 5, 5, 7, 9])
        #expect(s.count == 8)
        #expect(s.median == 4.5)
        #expect(s.mean == 5)
        #expect(s.minimum == 2 && s.maximum == 9)
        // Sample standard deviation (n − 1) of this classic set: sqrt(32 / 7).
        #expect(abs(s.standardDeviation - (32.0 / 7).squareRoot()) < 1e-12)
        let single = SampleSummary([3])
        #expect(single.standardDeviation == 0 && single.ci95Low == 3 && single.ci95High == 3)
    }

    /// P(B < j) for B ~ Binomial(n, ½), computed independently with running binomial coefficients.
    private func lowerTail(_ n: Int, below j: Int) -> Double {
        var total = 0.0
        var coefficient = 1.0  // C(n, 0)
        for k in 0..<j {
            total += coefficient
            coefficient = coefficient * Double(n - k) / Double(k + 1)
        }
        return total / pow(2, Double(n))
    }

    @Test func medianRankIsTheLargestWithNinetyFivePercentCoverage() {
        for n in 6...300 {
            let j = Statistics.medianConfidenceRank(count: n)
            #expect(1 - 2 * lowerTail(n, below: j) >= 0.95, "n = \(n), j = \(j)")
            #expect(1 - 2 * lowerTail(n, below: j + 1) < 0.95, "n = \(n), j + 1 = \(j + 1) also covers")
        }
        // Textbook values: n = 100 → (x₄₀, x₆₁); n ≤ 5 → no interval reaches 95%: [min, max].
        #expect(Statistics.medianConfidenceRank(count: 100) == 40)
        #expect(Statistics.medianConfidenceRank(count: 5) == 1)
    }

    @Test func medianIntervalCoversTheTrueMedianAboutNinetyFivePercentOfTheTime() {
        // Exponential samples (median ln 2), seeded: the interval should cover in 93–99% of trials.
        var generator = SplitMixForTests(seed: 7)
        var covered = 0
        let trials = 2000
        for _ in 0..<trials {
            let values = (0..<50).map { _ in -log(1 - generator.unit()) }
            let ci = Statistics.medianConfidenceInterval(values.sorted())
            if ci.low <= log(2) && log(2) <= ci.high { covered += 1 }
        }
        let coverage = Double(covered) / Double(trials)
        #expect(coverage >= 0.93 && coverage <= 0.99, "coverage \(coverage)")
    }
}

typealias SplitMixForTests = SplitMix64

extension SplitMix64 {
    /// A double in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
