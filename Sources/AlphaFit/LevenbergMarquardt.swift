import Foundation
import Rows

/// Why a Levenberg–Marquardt run stopped.
public enum SolverStopReason: String, Codable, Sendable {
    /// The projected gradient vanished (relative to ‖J‖·‖r‖): a stationary point inside the box
    /// or a point where every free direction leaves it.
    case gradient
    /// The step became negligible relative to the parameters.
    case step
    /// A full Gauss–Newton step would lower the sum of squares by a negligible relative amount.
    case reduction
    /// No step decreased the sum of squares even with very strong damping (rounding level).
    case stalled
    /// The iteration limit was reached.
    case iterationLimit = "iteration-limit"
}

/// A box-bounded nonlinear least-squares problem: minimise offset + Σ rᵢ(x)² over lower ≤ x ≤ upper.
struct LeastSquaresProblem {
    /// The number of residuals.
    var residualCount: Int
    /// A constant part of the objective (≥ 0), included in every sum of squares the solver
    /// reports and in its relative tests; see `AlphaFitter.problem`.
    var offset: Double = 0
    /// The box.
    var lower: [Double]
    var upper: [Double]
    /// Writes the residuals at x into the buffer and returns their sum of squares, without the
    /// offset (NaN if the model is undefined at x).
    var residuals: ([Double], inout [Double]) -> Double
    /// Writes the residuals and the column-major n×p Jacobian at x; returns the sum of squares.
    var jacobian: ([Double], inout [Double], inout [Double]) -> Double

    var parameterCount: Int { lower.count }

    /// The same problem in the parameters `fixed` does not hold (index → value): its vectors
    /// leave those out, its Jacobian their columns.
    func holding(_ fixed: [Int: Double]) -> LeastSquaresProblem {
        guard !fixed.isEmpty else { return self }
        let p = parameterCount
        let m = residualCount
        let free = (0..<p).filter { fixed[$0] == nil }
        let (residuals, jacobian) = (self.residuals, self.jacobian)
        return LeastSquaresProblem(
            residualCount: m, offset: offset, lower: free.map { lower[$0] }, upper: free.map { upper[$0] },
            residuals: { x, r in residuals(LeastSquaresProblem.expand(x, holding: fixed, count: p), &r) },
            jacobian: { x, r, jac in
                var full = [Double](repeating: 0, count: m * p)
                let sse = jacobian(LeastSquaresProblem.expand(x, holding: fixed, count: p), &r, &full)
                for (k, i) in free.enumerated() { for j in 0..<m { jac[j + k * m] = full[j + i * m] } }
                return sse
            })
    }

    /// The problem as the affine function of its parameters it is at `x0`: residuals and Jacobian
    /// evaluated there once, every later evaluation a product with that Jacobian. Exact (to
    /// rounding) for a problem linear in its parameters — gemm-work once its discrete parameters
    /// are held, whose every evaluation would otherwise compute each layer's features again (the
    /// exhaustive search of its tiles solves 72 such problems a group). Nil where undefined at x0.
    func linearised(at x0: [Double]) -> LeastSquaresProblem? {
        let m = residualCount
        let p = parameterCount
        var r0 = [Double](repeating: 0, count: m)
        var j0 = [Double](repeating: 0, count: m * p)
        guard jacobian(x0, &r0, &j0).isFinite else { return nil }
        let (base, slope) = (r0, j0)
        let residuals: ([Double], inout [Double]) -> Double = { x, r in
            for i in 0..<m { r[i] = base[i] }
            for k in 0..<p {
                let d = x[k] - x0[k]
                guard d != 0 else { continue }
                for i in 0..<m { r[i] += slope[i + k * m] * d }
            }
            var sse = 0.0
            for i in 0..<m { sse += r[i] * r[i] }
            return sse
        }
        return LeastSquaresProblem(
            residualCount: m, offset: offset, lower: lower, upper: upper, residuals: residuals,
            jacobian: { x, r, jac in
                for i in 0..<(m * p) { jac[i] = slope[i] }
                return residuals(x, &r)
            })
    }

    /// The full vector of `count` parameters: `fixed`'s values where it holds them, `x`'s in order
    /// elsewhere.
    static func expand(_ x: [Double], holding fixed: [Int: Double], count: Int) -> [Double] {
        guard !fixed.isEmpty else { return x }
        var next = x.makeIterator()
        return (0..<count).map { fixed[$0] ?? next.next()! }
    }
}

/// The outcome of one Levenberg–Marquardt run.
struct LeastSquaresSolution {
    var parameters: [Double]
    var sumOfSquares: Double
    var iterations: Int
    var stopReason: SolverStopReason
}

/// Levenberg–Marquardt with box bounds by projection and an active set.
///
/// Each iteration solves the damped normal equations (D⁻¹JᵀJD⁻¹ + λI) D s = −D⁻¹Jᵀr on the free
/// parameters, where D holds the running maximum of the Jacobian's column norms (Marquardt's /
/// MINPACK's scaling, so parameters of very different size are damped alike). A parameter on a
/// bound whose gradient pushes it outwards is held fixed for that iteration; the trial point is
/// projected onto the box, and the gain ratio uses the predicted reduction of the projected step,
/// so a step is only accepted when it actually lowers the sum of squares.
struct LevenbergMarquardt {
    var maxIterations = 1000
    /// Relative reduction of the sum of squares that a full Gauss–Newton step could still achieve,
    /// below which the run ends.
    var reductionTolerance = 1e-13
    /// Relative (scaled) step size below which the run ends.
    var stepTolerance = 1e-13
    /// Cosine between the residual and any free Jacobian column below which the run ends.
    var gradientTolerance = 1e-12

    func minimize(_ problem: LeastSquaresProblem, from start: [Double]) -> LeastSquaresSolution? {
        let n = problem.residualCount
        let p = problem.parameterCount
        var x = zip(start, zip(problem.lower, problem.upper)).map { min(max($0, $1.0), $1.1) }
        var r = [Double](repeating: 0, count: n)
        var trialResiduals = [Double](repeating: 0, count: n)
        var jac = [Double](repeating: 0, count: n * p)
        var sse = problem.jacobian(x, &r, &jac) + problem.offset
        guard sse.isFinite else { return nil }
        var scale = [Double](repeating: 0, count: p)
        var lambda = 1e-3
        var nu = 2.0
        var iterations = 0
        var needJacobian = false

        while iterations < maxIterations {
            iterations += 1
            if needJacobian {
                sse = problem.jacobian(x, &r, &jac) + problem.offset
                needJacobian = false
            }
            let (gram, gradient) = LinearAlgebra.normalEquations(jac, rows: n, columns: p, r)
            for j in 0..<p {
                let norm = gram[j * p + j].squareRoot()
                scale[j] = max(scale[j], norm)
                if scale[j] == 0 { scale[j] = 1 }
            }
            // Free parameters: not on a bound that the gradient pushes against.
            let free = (0..<p).filter { j in
                !(x[j] <= problem.lower[j] && gradient[j] > 0)
                    && !(x[j] >= problem.upper[j] && gradient[j] < 0)
            }
            let residualNorm = sse.squareRoot()
            let cosine =
                free.map { j -> Double in
                    let norm = gram[j * p + j].squareRoot()
                    return norm > 0 && residualNorm > 0 ? abs(gradient[j]) / (norm * residualNorm) : 0
                }.max() ?? 0
            if free.isEmpty || cosine <= gradientTolerance || sse == 0 {
                return LeastSquaresSolution(
                    parameters: x, sumOfSquares: sse, iterations: iterations, stopReason: .gradient)
            }
            let m = free.count
            var scaledGram = [Double](repeating: 0, count: m * m)
            var scaledGradient = [Double](repeating: 0, count: m)
            for (a, ja) in free.enumerated() {
                scaledGradient[a] = -gradient[ja] / scale[ja]
                for (b, jb) in free.enumerated() {
                    scaledGram[a + b * m] = gram[ja + jb * p] / (scale[ja] * scale[jb])
                }
            }
            // What a full Gauss–Newton step could still gain: gᵀ(JᵀJ)⁻¹g on the free parameters
            // (lightly regularised). Unlike the reduction of a damped step, this cannot be made
            // small by strong damping, so it cannot stop the run early.
            var regularised = scaledGram
            for a in 0..<m { regularised[a + a * m] += 1e-12 }
            if let z = LinearAlgebra.solvePositiveDefinite(regularised, order: m, scaledGradient) {
                let potential = zip(z, scaledGradient).map { $0 * $1 }.reduce(0, +)
                if potential <= reductionTolerance * sse {
                    return LeastSquaresSolution(
                        parameters: x, sumOfSquares: sse, iterations: iterations, stopReason: .reduction)
                }
            }
            // Inner loop: raise the damping until a step lowers the sum of squares.
            while true {
                var damped = scaledGram
                for a in 0..<m { damped[a + a * m] += lambda }
                guard let scaledStep = LinearAlgebra.solvePositiveDefinite(damped, order: m, scaledGradient) else {
                    lambda *= nu
                    nu *= 2
                    if lambda > 1e20 {
                        return LeastSquaresSolution(
                            parameters: x, sumOfSquares: sse, iterations: iterations, stopReason: .stalled)
                    }
                    continue
                }
                var trial = x
                for (a, j) in free.enumerated() {
                    trial[j] = min(max(x[j] + scaledStep[a] / scale[j], problem.lower[j]), problem.upper[j])
                }
                let step = (0..<p).map { trial[$0] - x[$0] }
                var scaledStepNorm = 0.0
                var scaledXNorm = 0.0
                for j in 0..<p {
                    scaledStepNorm += (scale[j] * step[j]) * (scale[j] * step[j])
                    scaledXNorm += (scale[j] * x[j]) * (scale[j] * x[j])
                }
                scaledStepNorm = scaledStepNorm.squareRoot()
                scaledXNorm = scaledXNorm.squareRoot()
                if scaledStepNorm <= stepTolerance * (scaledXNorm + stepTolerance) {
                    return LeastSquaresSolution(
                        parameters: x, sumOfSquares: sse, iterations: iterations, stopReason: .step)
                }
                // Predicted reduction of Σr² for the projected step: −2gᵀs − sᵀ(JᵀJ)s.
                var predicted = 0.0
                for i in 0..<p {
                    var gs = 0.0
                    for k in 0..<p { gs += gram[i + k * p] * step[k] }
                    predicted -= 2 * gradient[i] * step[i] + step[i] * gs
                }
                let trialSSE = problem.residuals(trial, &trialResiduals) + problem.offset
                let actual = sse - trialSSE
                let ratio = predicted > 0 ? actual / predicted : -1
                if trialSSE.isFinite && actual > 0 && ratio > 1e-4 {
                    x = trial
                    needJacobian = true
                    lambda *= max(1.0 / 3.0, 1 - pow(2 * ratio - 1, 3))
                    nu = 2
                    break
                }
                lambda *= nu
                nu *= 2
                if lambda > 1e20 {
                    return LeastSquaresSolution(
                        parameters: x, sumOfSquares: sse, iterations: iterations, stopReason: .stalled)
                }
            }
        }
        if needJacobian { sse = problem.jacobian(x, &r, &jac) + problem.offset }
        return LeastSquaresSolution(
            parameters: x, sumOfSquares: sse, iterations: iterations, stopReason: .iterationLimit)
    }
}
