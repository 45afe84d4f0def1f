import Foundation
import Testing

@testable import Sweeps

/// A one-series file whose series lines come from `axes` (indented under the series).
private func file(_ axes: String, extra: String = "") -> String {
    "name: E\nseries:\n  - label: s\n" + axes.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") + "\n"
        + extra
}

private let valid = "H: 4\nW: 4\nCin: 8\nCout: 8\nK: 3"

@Suite("Bad sweep files: one message with file, line, column and field")
struct SweepErrorTests {
    /// Loads `yaml`, expecting a SweepError, and checks where it points.
    private func expectError(
        _ yaml: String, line: Int?, column: Int?, field: String?, containing text: String,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) {
        let error = #expect(throws: SweepError.self, sourceLocation: sourceLocation) { try loadSweep(yaml) }
        guard let error else { return }
        #expect(error.file == "test.yaml", sourceLocation: sourceLocation)
        #expect(error.line == line, "\(error)", sourceLocation: sourceLocation)
        #expect(error.column == column, "\(error)", sourceLocation: sourceLocation)
        #expect(error.field == field, "\(error)", sourceLocation: sourceLocation)
        #expect(error.message.contains(text), "\(error)", sourceLocation: sourceLocation)
        // One line, compiler style.
        #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
        if let line, let column, let field {
            #expect(
                error.description.hasPrefix("test.yaml:\(line):\(column): \(field): "), sourceLocation: sourceLocation)
        }
    }

    @Test("the valid base file loads (so each case below fails for its own reason)")
    func baseIsValid() throws {
        #expect(try loadSweep(file(valid)).configurations.count == 1)
    }

    @Test("malformed YAML")
    func malformed() {
        expectError(
            "name: E\nseries: [\n  - a: 1\n", line: 3, column: 3, field: "(YAML)",
            containing: "did not find expected node content")
        expectError(
            "name: E\nseries:\n  - {label: s, H: 1\n", line: 4, column: 1, field: "(YAML)",
            containing: "did not find expected ',' or '}'")
        expectError("", line: nil, column: nil, field: nil, containing: "empty")
    }

    @Test("a stratified sample names its pool, K = 1 share and bins, each in range")
    func stratifiedSample() throws {
        let grid = "H: [1, 2, 4, 8]\nW: [1, 2, 4, 8]\nCin: [8, 16]\nCout: [8, 16]\nK: [1, 3, 5]"
        let design = try loadSweep(
            file(grid, extra: "sample: {count: 12, seed: 3, stratified: {pool: 60, k1_share: 0.5, flops_bins: 3}}\n"))
        #expect(design.configurations.count == 12)
        #expect(design.configurations.filter { $0.shape.kernelSize == 1 }.count == 6)
        expectError(
            file(grid, extra: "sample: {count: 12, seed: 3, stratified: {pool: 6, k1_share: 0.5, flops_bins: 3}}\n"),
            line: 9, column: 49, field: "sample.stratified.pool", containing: "at least sample.count")
        expectError(
            file(grid, extra: "sample: {count: 12, seed: 3, stratified: {pool: 60, k1_share: 1.5, flops_bins: 3}}\n"),
            line: 9, column: 63, field: "sample.stratified.k1_share", containing: "0 … 1")
        expectError(
            file(grid, extra: "sample: {count: 12, seed: 3, stratified: {pool: 60, k1_share: 0.5}}\n"),
            line: 9, column: 42, field: "sample.stratified", containing: "needs pool, k1_share and flops_bins")
        expectError(
            file(grid, extra: "sample: {count: 12, seed: 3, stratified: {pool: 60, k1_share: 0.5, bins: 3}}\n"),
            line: 9, column: 68, field: "sample.stratified.bins", containing: "unknown field")
    }

    @Test("unknown axis, unknown field, duplicate key, missing axis")
    func unknownAndMissing() {
        expectError(
            file(valid + "\nC: 3"), line: 9, column: 5, field: "series[0].C", containing: "unknown axis or field 'C'")
        expectError(
            file(valid, extra: "samples: {count: 1, seed: 1}\n"), line: 9, column: 1, field: "samples",
            containing: "unknown field")
        expectError(file(valid + "\nH: 5"), line: 4, column: 5, field: "H", containing: "given twice")
        expectError(
            file("H: 4\nW: 4\nCin: 8\nK: 3"), line: 3, column: 5, field: "series[0]", containing: "missing axis Cout")
        expectError(
            file("H: 4\nW: 4\nCin: 8\nCout: 8"), line: 3, column: 5, field: "series[0]", containing: "missing axis K")
        expectError(
            file(valid + "\nK1: 3\nK2: 3"), line: 9, column: 9, field: "series[0].K1", containing: "either K, or both")
        expectError(
            "series:\n  - {label: s, H: 1, W: 1, Cin: 1, Cout: 1, K: 1}\n", line: 1, column: 1, field: "name",
            containing: "missing")
        expectError(
            "name: a/b\nseries:\n  - {label: s, H: 1, W: 1, Cin: 1, Cout: 1, K: 1}\n", line: 1, column: 7,
            field: "name", containing: "letters, digits")
    }

    @Test("wrong types")
    func wrongTypes() {
        expectError(
            file("H: 2.5\nW: 4\nCin: 8\nCout: 8\nK: 3"), line: 4, column: 8, field: "series[0].H",
            containing: "'2.5' is not")
        expectError(
            file("H: [1, two]\nW: 4\nCin: 8\nCout: 8\nK: 3"), line: 4, column: 12, field: "series[0].H[1]",
            containing: "positive integer")
        expectError(
            file(valid + "\nzip: yes please"), line: 9, column: 10, field: "series[0].zip", containing: "true or false")
        expectError(
            file(valid, extra: "sample: {count: 10, seed: -1}\n"), line: 9, column: 27, field: "sample.seed",
            containing: "not an integer from 0")
        expectError(
            file(valid, extra: "limits: {max_gflop: lots}\n"), line: 9, column: 21, field: "limits.max_gflop",
            containing: "must be a number")
        expectError("name: E\nseries: 3\n", line: 2, column: 9, field: "series", containing: "non-empty list")
    }

    @Test("zero and negative values")
    func nonPositive() {
        expectError(
            file("H: 0\nW: 4\nCin: 8\nCout: 8\nK: 3"), line: 4, column: 8, field: "series[0].H",
            containing: "positive integer (got 0)")
        expectError(
            file("H: 4\nW: [1, -2]\nCin: 8\nCout: 8\nK: 3"), line: 5, column: 12, field: "series[0].W[1]",
            containing: "got -2")
        expectError(
            file("H: 4\nW: 4\nCin: {from: 1, to: 9, step: 0}\nCout: 8\nK: 3"), line: 6, column: 33,
            field: "series[0].Cin.step", containing: "got 0")
        expectError(
            file("H: 4\nW: 4\nCin: {from: 9, to: 1}\nCout: 8\nK: 3"), line: 6, column: 24, field: "series[0].Cin.to",
            containing: "below from")
        expectError(
            file("H: 4\nW: 4\nCin: {from: 1, factor: 1, count: 3}\nCout: 8\nK: 3"), line: 6, column: 28,
            field: "series[0].Cin.factor", containing: "not 1")
        expectError(
            file("H: 4\nW: 4\nCin: 8\nCout: Cin - 8\nK: 3"), line: 7, column: 11, field: "series[0].Cout",
            containing: "gives 0 at Cin=8")
        expectError(
            file(valid, extra: "limits: {max_gflop: 0}\n"), line: 9, column: 21, field: "limits.max_gflop",
            containing: "must be positive")
        expectError(
            file(valid, extra: "sample: {count: 0, seed: 1}\n"), line: 9, column: 17, field: "sample.count",
            containing: "got 0")
    }

    @Test("expressions: division by zero, self reference, cycles, unknown names, bad syntax, non-integers")
    func expressions() {
        expectError(
            file("H: 4\nW: 4\nK: [1, 3]\nCin: 300 / (K - 1)\nCout: 8"), line: 7, column: 10, field: "series[0].Cin",
            containing: "\"300 / (K - 1)\" at K=1: division by zero")
        expectError(
            file("H: H + 1\nW: 4\nCin: 8\nCout: 8\nK: 3"), line: 4, column: 8, field: "series[0].H",
            containing: "refers to itself: H → H")
        expectError(
            file("H: W\nW: Cin\nCin: H\nCout: 8\nK: 3"), line: 4, column: 8, field: "series[0].H",
            containing: "refers to itself: H → W → Cin → H")
        expectError(
            file("H: round(R / 2)\nW: 4\nCin: 8\nCout: 8\nK: 3"), line: 4, column: 8, field: "series[0].H",
            containing: "unknown name 'R'")
        expectError(
            file("H: 4\nW: 4\nCin: 8\nCout: 8\nK1: 3\nK2: K"), line: 9, column: 9, field: "series[0].K2",
            containing: "unknown name 'K'")
        // The column points inside the expression, quoted or not.
        expectError(
            file("H: \"2 * (W + 1\"\nW: 4\nCin: 8\nCout: 8\nK: 3"), line: 4, column: 13, field: "series[0].H",
            containing: "never closed")
        expectError(
            file("H: 2 ^ W\nW: 4\nCin: 8\nCout: 8\nK: 3"), line: 4, column: 10, field: "series[0].H",
            containing: "unexpected '^'")
        expectError(
            file("H: W / 3\nW: 4\nCin: 8\nCout: 8\nK: 3"), line: 4, column: 8, field: "series[0].H",
            containing: "1.3333333333333333 at W=4, which is not an integer")
        expectError(
            file("H: 4\nW: 4\nCin: 8\nCout: 8\nK: 3\nconstants: {K1: 2}"), line: 9, column: 17,
            field: "series[0].constants.K1",
            containing: "cannot name a constant")
    }

    @Test("a huge grid needs a sample")
    func hugeGridNeedsSample() {
        let big = "H: {from: 1, to: 1000}\nW: {from: 1, to: 1000}\nCin: {from: 1, to: 10}\nCout: 8\nK: 3"
        expectError(file(big), line: nil, column: nil, field: "series", containing: "add sample")
    }
}
