import ConvKernels
import Foundation
import TestSupport

@testable import AlphaFit

/// Layer shapes spread over the replication's regression grid, drawn with a seeded generator.
func gridShapes(count: Int, seed: UInt64, kernels: [Int]) -> [ConvShape] {
    var generator = SeededGenerator(seed: seed)
    let sizes = [1, 2, 4, 8, 16, 32, 64, 96, 128, 256]
    let channels =
        Array(stride(from: 10, through: 90, by: 10)) + Array(stride(from: 100, through: 1100, by: 50)) + [1600, 3200]
    return (0..<count).map { _ in
        let k = kernels.randomElement(using: &generator)!
        return ConvShape(
            height: sizes.randomElement(using: &generator)!, width: sizes.randomElement(using: &generator)!,
            inputChannels: channels.randomElement(using: &generator)!,
            outputChannels: channels.randomElement(using: &generator)!, kernelHeight: k, kernelWidth: k)
    }
}

/// Rows timed by `model` with `parameters` under `convention`, times multiplied by (1 + noise·z),
/// z standard normal (Box–Muller, seeded).
func syntheticRows(
    _ shapes: [ConvShape], model: FitModel, parameters: [Double], convention: FlopsConvention,
    noise: Double, seed: UInt64
) -> [FitRow] {
    var generator = SeededGenerator(seed: seed)
    return shapes.enumerated().map { i, shape in
        let exact = model.predict(ModelPoint(shape: shape, convention: convention, bytes: .algorithm), parameters)
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &generator)
        let u2 = Double.random(in: 0..<1, using: &generator)
        let z = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
        return FitRow(shape: shape, timeMs: exact * (1 + noise * z), input: 0, row: i + 2)
    }
}

func dataset(_ rows: [FitRow]) -> FitDataset {
    FitDataset(
        inputs: [
            FitInput(
                path: "synthetic", file: "synthetic", kind: "csv", sha256: "", rowsUsed: rows.count, rowsExcluded: 0)
        ],
        rows: rows, carriedColumns: [])
}
