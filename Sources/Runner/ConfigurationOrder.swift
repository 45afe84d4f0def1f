import Basics
import ConvKernels
import Measurement
import Sweeps

/// The order configurations are measured in.
public enum ConfigurationOrder {
    /// `configurations` in a seeded random order (Fisher–Yates with SplitMix64, written out here so
    /// that the permutation never changes with the standard library).
    public static func shuffled<T>(_ items: [T], seed: UInt64) -> [T] {
        var items = items
        var generator = SplitMix64(seed: seed)
        var i = items.count - 1
        while i > 0 {
            let j = Int(generator.next() % UInt64(i + 1))
            items.swapAt(i, j)
            i -= 1
        }
        return items
    }

    /// The configurations of `shard` (all when nil), in `order`.
    public static func arrange(
        _ configurations: [SweepConfiguration], order: RunOptions.Order, seed: UInt64, shard: Shard?
    ) -> [SweepConfiguration] {
        let selected = configurations.filter { shard?.contains($0.id) ?? true }
        switch order {
        case .given: return selected
        case .random: return shuffled(selected, seed: seed)
        }
    }
}
