import Basics
import ConvKernels

/// A seeded uniform sample without replacement: `sample: {count, seed}` in a sweep file.
///
/// The draw depends only on the seed, the count and the size of the expansion (never on the system
/// random generator), so a sweep file names its configurations exactly. Drawn points keep the
/// order of the expansion.
public struct SweepSample: Hashable, Codable, Sendable {
    /// How many configurations to draw. When it is at least the size of the expansion, every
    /// configuration is kept.
    public var count: Int
    /// The seed of the SplitMix64 generator.
    public var seed: UInt64
    /// A stratified design instead of a uniform draw (`sample.stratified`), or nil.
    public var stratified: Stratification?

    /// A stratified design over FLOPs and kernel size, drawn from a uniform pool of the expansion:
    /// `sample: {count, seed, stratified: {pool, k1_share, flops_bins}}`.
    ///
    /// 1. A uniform pool of `pool` configurations is drawn with `seed`, exactly as `sample:
    ///    {count: pool, seed}` would (so with the regression file's seed and count the pool is the
    ///    paper profile's sample);
    /// 2. the pool's configurations beyond the file's limits are left out;
    /// 3. the rest is split into K = 1 (K1·K2 = 1) and K > 1, and `count · k1_share` (rounded)
    ///    configurations are drawn from K = 1, the others from K > 1;
    /// 4. within each, the candidates are ordered by FLOPs and cut into `flops_bins` bins of
    ///    equal count (quantile bins of the pool's FLOPs), and each bin gets an equal share of the
    ///    draws (the first bins one more when it does not divide), drawn uniformly in the bin.
    ///
    /// The sample therefore covers the pool's whole FLOPs range in both groups, in the pool's own
    /// proportions, with K = 1 layers as many as asked rather than the grid's 1 in 14. A group with
    /// fewer candidates than its share gives all it has.
    public struct Stratification: Hashable, Codable, Sendable {
        /// The uniform pool drawn first.
        public var pool: Int
        /// The share of the sample with a 1×1 kernel, 0 … 1.
        public var kernelOneShare: Double
        /// FLOPs bins per group.
        public var flopsBins: Int

        /// A design of `pool`, `kernelOneShare` and `flopsBins`.
        public init(pool: Int, kernelOneShare: Double, flopsBins: Int) {
            self.pool = pool
            self.kernelOneShare = kernelOneShare
            self.flopsBins = flopsBins
        }

        /// The positions in `candidates` (FLOPs and whether K = 1, of the pool's configurations
        /// within limits) that the design draws, `count` at most, ascending.
        public func select(count: Int, flops: [Double], kernelOne: [Bool], seed: UInt64) -> [Int] {
            var generator = SplitMix64(seed: seed ^ 0x5354_5241_5449_4659)  // "STRATIFY"
            let wantedOne = Int((Double(count) * kernelOneShare).rounded())
            var chosen: [Int] = []
            for (isOne, wanted) in [(true, wantedOne), (false, count - wantedOne)] {
                let members = flops.indices.filter { kernelOne[$0] == isOne }.sorted {
                    flops[$0] != flops[$1] ? flops[$0] < flops[$1] : $0 < $1
                }
                guard wanted < members.count else {
                    chosen += members
                    continue
                }
                for bin in 0..<flopsBins {
                    let lower = members.count * bin / flopsBins
                    let upper = members.count * (bin + 1) / flopsBins
                    let share = wanted / flopsBins + (bin < wanted % flopsBins ? 1 : 0)
                    let draw = SweepSample(count: min(share, upper - lower), seed: generator.next())
                    chosen += draw.indices(population: upper - lower).map { members[lower + $0] }
                }
            }
            return chosen.sorted()
        }
    }

    /// A sample of `count` configurations drawn with `seed`, uniform or by `stratified`.
    public init(count: Int, seed: UInt64, stratified: Stratification? = nil) {
        self.count = count
        self.seed = seed
        self.stratified = stratified
    }

    /// The drawn indices into `0 ..< population`, ascending.
    ///
    /// Robert Floyd's algorithm: `count` draws, each uniform over a growing range, give a uniform
    /// subset without materialising the population, so a grid of millions of points costs only
    /// the sample. Bounded draws reject the biased tail of the 64-bit range (no modulo bias).
    public func indices(population: Int) -> [Int] {
        precondition(population >= 0 && count >= 0)
        guard count < population else { return Array(0..<population) }
        var generator = SplitMix64(seed: seed)
        var chosen = Set<Int>(minimumCapacity: count)
        for upper in (population - count)..<population {
            let candidate = Int(SweepSample.uniform(below: UInt64(upper) + 1, using: &generator))
            chosen.insert(chosen.contains(candidate) ? upper : candidate)
        }
        return chosen.sorted()
    }

    /// A uniform integer in `0 ..< bound` from `generator`, by rejection.
    static func uniform(below bound: UInt64, using generator: inout SplitMix64) -> UInt64 {
        precondition(bound > 0)
        // 2^64 mod bound: values below it would make the small residues more likely.
        let threshold = (0 &- bound) % bound
        while true {
            let value = generator.next()
            if value >= threshold { return value % bound }
        }
    }
}
