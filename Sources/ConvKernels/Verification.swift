#if canImport(Glibc)
    import Glibc
#endif

/// How far a computed output is from the reference, and how far it may be.
///
/// The error is normwise: ‖y − r‖₂ / ‖r‖₂ over the whole output tensor, where `r` is the
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

    /// The largest acceptable ``relativeError(_:reference:)`` for `shape`: 4·√(Cin·K1·K2)·ε.
    public static func tolerance(for shape: ConvShape) -> Double {
        4 * Double(shape.inputChannels * shape.kernelSize).squareRoot() * Double(Float.ulpOfOne)
    }
}
