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

    /// A sample of `count` configurations drawn with `seed`.
    public init(count: Int, seed: UInt64) {
        self.count = count
        self.seed = seed
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
