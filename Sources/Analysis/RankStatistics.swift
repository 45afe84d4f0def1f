/// Rank statistics of paired samples, as SciPy defines them (`scipy.stats.rankdata`, `spearmanr`,
/// `kendalltau` with its default τ-b).
public enum RankStatistics {
    /// The 1-based ranks of `values`, ties given the average of the ranks they span.
    public static func ranks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var result = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
            let average = Double(start + end) / 2 + 1
            for k in start...end { result[order[k]] = average }
            start = end + 1
        }
        return result
    }

    /// Spearman's ρ: Pearson's correlation of the ranks; NaN when either side is constant or the
    /// samples have fewer than two pairs.
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count, "samples of different sizes")
        guard x.count >= 2 else { return .nan }
        return pearson(ranks(x), ranks(y))
    }

    /// Pearson's correlation coefficient; NaN when either side is constant.
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n
        let my = y.reduce(0, +) / n
        var sxy = 0.0
        var sxx = 0.0
        var syy = 0.0
        for i in x.indices {
            let dx = x[i] - mx
            let dy = y[i] - my
            sxy += dx * dy
            sxx += dx * dx
            syy += dy * dy
        }
        guard sxx > 0, syy > 0 else { return .nan }
        return sxy / (sxx * syy).squareRoot()
    }

    /// Kendall's τ-b: (concordant − discordant) / √((n₀ − n₁)(n₀ − n₂)), n₀ the pairs, n₁ and n₂
    /// the pairs tied in x and in y; NaN when either side is constant. O(n²) pairs.
    public static func kendallTauB(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count, "samples of different sizes")
        var concordant = 0.0
        var discordant = 0.0
        var tiedX = 0.0
        var tiedY = 0.0
        var pairs = 0.0
        for i in x.indices {
            for j in (i + 1)..<x.count {
                pairs += 1
                let dx = x[i] - x[j]
                let dy = y[i] - y[j]
                if dx == 0 { tiedX += 1 }
                if dy == 0 { tiedY += 1 }
                if dx == 0 || dy == 0 { continue }
                if (dx > 0) == (dy > 0) { concordant += 1 } else { discordant += 1 }
            }
        }
        let denominator = ((pairs - tiedX) * (pairs - tiedY)).squareRoot()
        guard denominator > 0 else { return .nan }
        return (concordant - discordant) / denominator
    }
}
