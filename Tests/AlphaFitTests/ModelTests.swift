import Basics
import ConvKernels
import Foundation
import Measurement
import PropertyBased
import Testing

@testable import AlphaFit

@Suite struct ModelTests {
    @Test func flopsConventions() {
        let shape = ConvShape(
            batch: 4, height: 10, width: 20, inputChannels: 3, outputChannels: 5, kernelHeight: 3, kernelWidth: 2)
        #expect(FlopsConvention.standard.flops(of: shape) == 2 * 6 * 15 * 200 * 4)
        #expect(FlopsConvention.asperti.flops(of: shape) == 6.0 * 15 * 200 / 1e6)
    }

    @Test func alphaFormulaAtKnownPoint() {
        // K = 1: S_K = 1, ratio (1 + beta (S − 1)) / S.
        let shape = ConvShape(height: 2, width: 2, inputChannels: 1, outputChannels: 1, kernelHeight: 1, kernelWidth: 1)
        let point = ModelPoint(shape: shape, convention: .asperti, bytes: .algorithm)
        let t = FitModel.alpha.predict(point, [0.5, 2, 3])
        let expected = 3 * pow((1 + 0.5 * 3) / 4, 2) * 4e-6
        #expect(abs(t - expected) <= 1e-15 * expected)
    }

    @Test func channelTerm() {
        let point = ModelPoint(
            shape: ConvShape(
                height: 7, width: 9, inputChannels: 30, outputChannels: 40, kernelHeight: 3, kernelWidth: 3),
            convention: .standard, bytes: .algorithm)
        let alpha = FitModel.alpha.predict(point, [0.1, 0.9, 0.01])
        #expect(FitModel.alphaChannels.predict(point, [0.1, 0.9, 0.01, 0, 0]) == alpha)
        let channels = FitModel.alphaChannels.predict(point, [0.1, 0.9, 0.01, 8, 27])
        #expect(abs(channels - alpha * (1 + 8.0 / 40 + 27.0 / (9 * 30))) <= 1e-15 * channels)
    }

    /// The analytic Jacobian matches central differences for both models, anywhere in the box.
    @Test func gradientMatchesFiniteDifferences() async {
        await propertyCheck(
            count: 200, input: Gen.double(in: 0.001...1.9), Gen.double(in: 0.05...1.9),
            Gen.double(in: 0.01...1.9), Gen.int(in: 1...7), Gen.int(in: 1...300)
        ) { beta, gamma, eta, k, s in
            let shape = ConvShape(
                height: s, width: 3, inputChannels: 17, outputChannels: 29, kernelHeight: k, kernelWidth: 1)
            let point = ModelPoint(shape: shape, convention: .asperti, bytes: .algorithm)
            // gemm-work's point knows its work; its rates, then tiles 8 × 4, three levels and
            // OpenBLAS's small-matrix kernel (m·n·k ≤ 10⁶: some of these layers' calls).
            let work = ModelPoint(
                shape: shape, convention: .asperti, bytes: .algorithm,
                setting: WorkSetting(level2Bytes: 512 << 10, lastLevelBytes: 32 << 20))
            for model in FitModel.allCases {
                let point = model == .gemmWork ? work : point
                let p =
                    model == .gemmWork
                    ? (0..<GemmWorkModel.positionsTile).map { Double($0 + 1) * eta } + [8, 4, 3, 1e6, 16, 128, 1, 256]
                    : Array([beta, gamma, 0.7, 300 * eta, 40 * eta, 0.3 * eta].prefix(model.parameterCount))
                var gradient = [Double](repeating: 0, count: p.count)
                let t = gradient.withUnsafeMutableBufferPointer { model.predict(point, p, gradient: $0.baseAddress!) }
                #expect(t == model.predict(point, p))
                for j in 0..<p.count {
                    let h = 1e-6 * max(abs(p[j]), 1e-3)
                    var up = p
                    var down = p
                    up[j] += h
                    down[j] -= h
                    let numeric = (model.predict(point, up) - model.predict(point, down)) / (2 * h)
                    #expect(
                        abs(numeric - gradient[j]) <= 1e-6 * max(abs(gradient[j]), abs(t)), "\(model) parameter \(j)")
                }
            }
        }
    }

    @Test func studentQuantiles() {
        // Reference values of t(0.975, ν) (R: qt(0.975, ν)).
        let reference: [(Int, Double)] = [
            (1, 12.7062047), (5, 2.5705818), (10, 2.2281389), (30, 2.0422725), (100, 1.9839715),
        ]
        for (nu, t) in reference {
            #expect(abs(Statistics.studentT975(degreesOfFreedom: nu) - t) < 2e-3 * t, "ν = \(nu)")
        }
        #expect(abs(Statistics.studentT975(degreesOfFreedom: 30) - 2.0422725) < 1e-4)
    }
}
