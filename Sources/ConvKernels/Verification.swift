import Basics

/// How far a computed output is from the reference, and how far it may be: the one home of the
/// two tolerance models convsweep uses.
///
/// **Whole outputs** (`convsweep check` and the kernel tests, ``relativeError(_:reference:)`` and
/// ``tolerance(for:)``):
/// the error is normwise: ‖y − r‖₂ / ‖r‖₂ over the whole output tensor, where `r` is the
/// `reference` algorithm's output (double accumulation, rounded once to float32). A float32 dot
/// product of depth `d = Cin·K1·K2` with random terms has a relative error of about
/// `0.4·√d·u` when summed in order (u = 2⁻²⁴), less when blocked as sgemm does; the tolerance
/// is `4·√d·ε` with ε = 2⁻²³ (`Float.ulpOfOne`), about 20× that. A wrong index, shift or
/// padding moves whole output elements and gives errors of order 1/√(outputs) or more, far above.
public enum Verification {
    /// ‖computed − reference‖₂ / ‖reference‖₂ (the absolute error if the reference is zero).
    public static func relativeError(
        _ computed: UnsafeBufferPointer<Float>, reference: UnsafeBufferPointer<Float>
    ) -> Double {
        precondition(computed.count == reference.count, "outputs of different sizes")
        var difference = 0.0
        var norm = 0.0
        for i in 0..<computed.count {
            let r = Double(reference[i])
            let d = Double(computed[i]) - r
            difference += d * d
            norm += r * r
        }
        if difference.isNaN { return .infinity }
        return norm > 0 ? (difference / norm).squareRoot() : difference.squareRoot()
    }

    /// The largest acceptable ``relativeError(_:reference:)`` for `shape`: 4·√d·ε with
    /// d = (Cin/groups)·K1·K2, the products of one output element.
    public static func tolerance(for shape: ConvShape) -> Double {
        4 * Double(shape.depth).squareRoot() * Double(Float.ulpOfOne)
    }

    // MARK: Sampled positions (the runner's check of every configuration)

    /// The positions a sampled check compared, and the first one out of tolerance.
    public struct SampledResult: Hashable, Sendable {
        /// Positions compared.
        public var checked: Int
        /// The first position out of tolerance, described; nil when all agree.
        public var failure: String?
        /// Whether every position agreed.
        public var passed: Bool { failure == nil }
    }

    /// **Sampled positions** (the runner, on each configuration's first run): compares `samples`
    /// seeded output positions of `conv.output` (after ``Conv2D/run()``) with a direct
    /// double-precision sum at the same position.
    ///
    /// The tolerance is the worst-case float32 summation error bound γₙ·Σ|aᵢwᵢ|, with
    /// γₙ = n·u / (1 − n·u), n = (Cin/groups)·K1·K2 products and u = 2⁻²⁴, plus 1e-6 absolute.
    public static func checkSampled(_ conv: Conv2D, samples: Int = 64, seed: UInt64) -> SampledResult {
        let s = conv.shape
        var generator = SplitMix64(seed: seed)
        let n = Double(s.depth)
        let u = 0x1p-24
        let gamma = n * u / max(1 - n * u, 1e-3)
        for _ in 0..<samples {
            let image = Int(generator.next() % UInt64(s.batch))
            let channel = Int(generator.next() % UInt64(s.outputChannels))
            let y = Int(generator.next() % UInt64(s.outputHeight))
            let x = Int(generator.next() % UInt64(s.outputWidth))
            let (expected, magnitude) = conv.referenceTerms(image: image, channel: channel, y: y, x: x)
            let actual = Double(conv.output[conv.outputIndex(image: image, channel: channel, y: y, x: x)])
            let tolerance = gamma * magnitude + 1e-6
            if !(abs(actual - expected) <= tolerance) {
                return SampledResult(
                    checked: samples,
                    failure:
                        "output[n=\(image), c=\(channel), y=\(y), x=\(x)] = \(actual), expected \(expected) ± \(tolerance)"
                )
            }
        }
        return SampledResult(checked: samples, failure: nil)
    }
}
