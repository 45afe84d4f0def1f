import Basics
import ConvKernels

/// Checks a computed output against a direct computation at sampled positions.
public enum Verification {
    /// The positions checked and the worst error found.
    public struct Result: Hashable, Sendable {
        public var checked: Int
        /// The first position out of tolerance, described; nil when all agree.
        public var failure: String?
        public var passed: Bool { failure == nil }
    }

    /// Compares `samples` seeded output positions of `conv.output` (after ``Conv2D/run()``)
    /// with ``Conv2D/referenceValue(image:channel:y:x:)``.
    ///
    /// The tolerance is the worst-case float32 summation error bound γₙ·Σ|aᵢwᵢ|, with
    /// γₙ = n·u / (1 − n·u), n = Cin·K1·K2 products and u = 2⁻²⁴, plus 1e-6 absolute.
    public static func check(_ conv: Conv2D, samples: Int = 64, seed: UInt64) -> Result {
        let s = conv.shape
        var generator = SplitMix64(seed: seed)
        let n = Double(s.inputChannels * s.kernelSize)
        let u = 0x1p-24
        let gamma = n * u / max(1 - n * u, 1e-3)
        for _ in 0..<samples {
            let image = Int(generator.next() % UInt64(s.batch))
            let channel = Int(generator.next() % UInt64(s.outputChannels))
            let y = Int(generator.next() % UInt64(s.height))
            let x = Int(generator.next() % UInt64(s.width))
            let (expected, magnitude) = conv.referenceTerms(image: image, channel: channel, y: y, x: x)
            let actual = Double(conv.output[((image * s.outputChannels + channel) * s.height + y) * s.width + x])
            let tolerance = gamma * magnitude + 1e-6
            if !(abs(actual - expected) <= tolerance) {
                return Result(
                    checked: samples,
                    failure:
                        "output[n=\(image), c=\(channel), y=\(y), x=\(x)] = \(actual), expected \(expected) ± \(tolerance)"
                )
            }
        }
        return Result(checked: samples, failure: nil)
    }
}
