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
            let expected = conv.referenceValue(image: image, channel: channel, y: y, x: x)
            let actual = Double(conv.output[((image * s.outputChannels + channel) * s.height + y) * s.width + x])
            let tolerance = gamma * absoluteSum(conv, image: image, channel: channel, y: y, x: x) + 1e-6
            if !(abs(actual - expected) <= tolerance) {
                return Result(
                    checked: samples,
                    failure: "output[n=\(image), c=\(channel), y=\(y), x=\(x)] = \(actual), expected \(expected) ± \(tolerance)")
            }
        }
        return Result(checked: samples, failure: nil)
    }

    /// Σ|a·w| over the products of one output element (the scale of its rounding error).
    static func absoluteSum(_ conv: Conv2D, image n: Int, channel co: Int, y: Int, x: Int) -> Double {
        let s = conv.shape
        var sum = 0.0
        for c in 0..<s.inputChannels {
            for i in 0..<s.kernelHeight {
                let iy = y + i - s.padTop
                if iy < 0 || iy >= s.height { continue }
                for j in 0..<s.kernelWidth {
                    let ix = x + j - s.padLeft
                    if ix < 0 || ix >= s.width { continue }
                    let a = conv.input[((n * s.inputChannels + c) * s.height + iy) * s.width + ix]
                    let w = conv.weights[((co * s.inputChannels + c) * s.kernelHeight + i) * s.kernelWidth + j]
                    sum += abs(Double(a) * Double(w))
                }
            }
        }
        return sum
    }
}
