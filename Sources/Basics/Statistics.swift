#if canImport(Glibc)
    import Glibc
#endif

/// Order statistics and moments of a sample of times.
public enum Statistics {
    /// The median (mean of the two middle values for an even count); NaN when empty.
    public static func median(_ values: [Double]) -> Double {
        quantile(values.sorted(), 0.5)
    }

    /// The `p`-quantile of ascending `sorted` values, linearly interpolated (R type 7, NumPy's
    /// default); NaN when empty.
    public static func quantile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let position = p * Double(sorted.count - 1)
        let below = Int(position.rounded(.down))
        let above = min(below + 1, sorted.count - 1)
        let fraction = position - Double(below)
        return sorted[below] + (sorted[above] - sorted[below]) * fraction
    }

    /// The 1-based rank `j` of the lower end of the distribution-free confidence interval of the
    /// median of `n` values: [x₍ⱼ₎, x₍ₙ₋ⱼ₊₁₎] covers the median with probability
    /// 1 − 2·P(B < j), B ~ Binomial(n, ½), the largest `j` with that coverage ≥ `confidence`.
    /// Returns 1 (the interval [min, max]) when no rank reaches the confidence (n ≤ 5 at 95%).
    public static func medianConfidenceRank(count n: Int, confidence: Double = 0.95) -> Int {
        guard n > 0 else { return 1 }
        let tail = (1 - confidence) / 2
        // log P(B = k) = log C(n, k) − n log 2, summed in linear space from k = 0 upwards.
        // P(B = 0) = 2⁻ⁿ, then P(B = k + 1) = P(B = k)·(n − k)/(k + 1), in log space (no underflow).
        var logP = Double(n) * log(0.5)
        var cumulative = 0.0
        var j = 0
        while j < n / 2 {
            let p = exp(logP)
            if cumulative + p > tail { break }
            cumulative += p
            logP += log(Double(n - j) / Double(j + 1))
            j += 1
        }
        // P(B < j) = cumulative ≤ tail, so rank j (1-based) is valid; j = 0 means none is.
        return max(j, 1)
    }

    /// The distribution-free (binomial order-statistic) confidence interval of the median.
    public static func medianConfidenceInterval(
        _ sorted: [Double], confidence: Double = 0.95
    ) -> (low: Double, high: Double) {
        guard !sorted.isEmpty else { return (.nan, .nan) }
        let j = medianConfidenceRank(count: sorted.count, confidence: confidence)
        return (sorted[j - 1], sorted[sorted.count - j])
    }
}

/// What a sample of execution times looks like: the figures of one measurements.csv row.
public struct SampleSummary: Codable, Hashable, Sendable {
    /// The number of timed runs.
    public var count: Int
    /// The median.
    public var median: Double
    /// The arithmetic mean.
    public var mean: Double
    /// The smallest value.
    public var minimum: Double
    /// The largest value.
    public var maximum: Double
    /// The first quartile.
    public var p25: Double
    /// The third quartile.
    public var p75: Double
    /// The sample standard deviation (n − 1); 0 for a single value.
    public var standardDeviation: Double
    /// The lower end of the 95% confidence interval of the median.
    public var ci95Low: Double
    /// The upper end of the 95% confidence interval of the median.
    public var ci95High: Double

    /// Summarises `values` (any order, at least one).
    public init(_ values: [Double]) {
        precondition(!values.isEmpty, "a summary needs at least one value")
        let sorted = values.sorted()
        count = sorted.count
        median = Statistics.quantile(sorted, 0.5)
        mean = sorted.reduce(0, +) / Double(sorted.count)
        minimum = sorted[0]
        maximum = sorted[sorted.count - 1]
        p25 = Statistics.quantile(sorted, 0.25)
        p75 = Statistics.quantile(sorted, 0.75)
        if sorted.count > 1 {
            let m = mean
            let squares = sorted.reduce(0) { $0 + ($1 - m) * ($1 - m) }
            standardDeviation = (squares / Double(sorted.count - 1)).squareRoot()
        } else {
            standardDeviation = 0
        }
        (ci95Low, ci95High) = Statistics.medianConfidenceInterval(sorted)
    }

    /// The larger distance from the median to an end of its confidence interval, relative to it.
    public var relativeHalfWidth: Double {
        max(median - ci95Low, ci95High - median) / median
    }

    /// The interquartile range relative to the median.
    public var relativeSpread: Double { (p75 - p25) / median }
}

extension Statistics {
    /// The 0.975 quantile of Student's t with ν degrees of freedom: exact table values for ν ≤ 4,
    /// else the Cornish–Fisher expansion around the normal quantile (Abramowitz & Stegun 26.7.5),
    /// accurate to better than 1e-4 for ν ≥ 5.
    public static func studentT975(degreesOfFreedom nu: Int) -> Double {
        let table = [12.706204736, 4.302652730, 3.182446305, 2.776445105]
        if nu >= 1 && nu <= 4 { return table[nu - 1] }
        let z = 1.959963984540054
        let v = Double(nu)
        let z3 = z * z * z
        let z5 = z3 * z * z
        let z7 = z5 * z * z
        let z9 = z7 * z * z
        return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v)
            + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v)
            + (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * v * v * v * v)
    }
}
