import ConvKernels
import Foundation

/// Bounds on what a sweep measures: `limits: {max_gflop, max_memory_mib}` in a sweep file.
///
/// A configuration beyond a bound stays in the expansion with a ``SweepConfiguration/status``
/// that says which bound and by how much, e.g. `dropped: 312.4 GFLOP > max_gflop 100`.
public struct SweepLimits: Hashable, Codable, Sendable {
    /// The largest FLOPs of one forward pass, in GFLOP (10^9).
    public var maxGFLOP: Double?
    /// The largest memory of one configuration (tensors and im2col workspace), in MiB.
    public var maxMemoryMiB: Double?

    /// Limits; nil means no bound.
    public init(maxGFLOP: Double? = nil, maxMemoryMiB: Double? = nil) {
        self.maxGFLOP = maxGFLOP
        self.maxMemoryMiB = maxMemoryMiB
    }

    /// `ok`, or `dropped: ` and every bound `shape` exceeds, joined by `; `.
    public func status(of shape: ConvShape) -> ConfigurationStatus {
        var reasons: [String] = []
        do { try shape.validate() } catch { return .dropped("\(error)") }
        if let maxGFLOP {
            let gflop = Accounting(shape: shape).flops / 1e9
            if gflop > maxGFLOP {
                reasons.append("\(amount(gflop)) GFLOP > max_gflop \(formatted(maxGFLOP))")
            }
        }
        if let maxMemoryMiB {
            let mib = Double(SweepLimits.memoryBytes(of: shape)) / 1_048_576
            if mib > maxMemoryMiB {
                reasons.append("\(amount(mib)) MiB > max_memory_mib \(formatted(maxMemoryMiB))")
            }
        }
        return reasons.isEmpty ? .ok : .dropped(reasons.joined(separator: "; "))
    }

    /// Bytes one configuration holds while it runs: input, weights, output and the im2col
    /// workspace `Conv2D` would allocate with its default workspace limit (256 MiB).
    public static func memoryBytes(of shape: ConvShape) -> Int {
        let plan = Conv2D.plan(shape: shape, algorithm: .auto)
        return Accounting(shape: shape, workspaceBytes: plan.workspaceElements * MemoryLayout<Float>.stride)
            .totalBytes
    }
}

/// An amount in a reason: one decimal from 1 up (`312.4`), three significant digits below (`0.0812`).
func amount(_ value: Double) -> String {
    value >= 1 ? formatted(value, decimals: 1) : String(format: "%.3g", value)
}

/// `value` with `decimals` decimals, or as an integer when it is one and `decimals` is nil.
func formatted(_ value: Double, decimals: Int? = nil) -> String {
    if let decimals {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        let text = String(rounded)
        // String(Double) gives at least one decimal; pad to `decimals` for a stable look.
        guard let dot = text.firstIndex(of: "."), !text.contains("e") else { return text }
        let have = text.distance(from: dot, to: text.endIndex) - 1
        return have < decimals ? text + String(repeating: "0", count: decimals - have) : text
    }
    if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
    return String(value)
}
