import Basics
import ConvKernels
import Foundation
import TestSupport
import Testing

@testable import Sweeps

/// Loads `yaml` as the file `test.yaml`.
func loadSweep(_ yaml: String) throws -> Sweep {
    try Sweep(contents: Data(yaml.utf8), path: "test.yaml")
}

/// The (H, W, Cin, Cout, K1, K2, batch) of every configuration.
func points(_ sweep: Sweep) -> [[Int]] {
    sweep.configurations.map {
        let s = $0.shape
        return [s.height, s.width, s.inputChannels, s.outputChannels, s.kernelHeight, s.kernelWidth, s.batch]
    }
}

@Suite("Sweep files: axis forms, expansion, ids")
struct SweepFileTests {
    @Test("a number, a list, a range, a geometric sequence and an expression")
    func everyAxisForm() throws {
        let sweep = try loadSweep(
            """
            name: X
            description: every form
            series:
              - label: s
                H: 7
                W: [3, 1]
                Cin: {from: 10, to: 30, step: 10}
                Cout: {from: 25, factor: 2, count: 2}
                K: round(H / 2) - 2
            """)
        #expect(sweep.name == "X")
        #expect(sweep.description == "every form")
        #expect(sweep.expansionCount == 12)
        // Loop order: H, W, Cin, Cout, K, batch, the last fastest.
        var expected: [[Int]] = []
        for w in [3, 1] {
            for cin in [10, 20, 30] { for cout in [25, 50] { expected.append([7, w, cin, cout, 2, 2, 1]) } }
        }
        #expect(points(sweep) == expected)
        #expect(sweep.configurations.allSatisfy { $0.experiment == "X" && $0.series == "s" && $0.isMeasured })
    }

    @Test("a range stops at its last step inside to; step defaults to 1")
    func ranges() throws {
        #expect(SweepAxisValue.range(from: 1, to: 30, step: 4).values == [1, 5, 9, 13, 17, 21, 25, 29])
        #expect(SweepAxisValue.range(from: 5, to: 5, step: 3).values == [5])
        let sweep = try loadSweep(
            "name: R\nseries:\n  - {label: a, H: {from: 4, to: 6}, W: 1, Cin: 1, Cout: 1, K: 1}\n")
        #expect(sweep.configurations.map(\.shape.height) == [4, 5, 6])
    }

    @Test("a geometric sequence with a fractional factor must stay on integers")
    func geometric() throws {
        #expect(SweepAxisValue.geometric(from: 800, factor: 0.5, count: 4).values == [800, 400, 200, 100])
        let sweep = try loadSweep(
            "name: G\nseries:\n  - {label: a, H: 1, W: 1, Cin: {from: 64, factor: 1.5, count: 3}, Cout: 1, K: 1}\n")
        #expect(sweep.configurations.map(\.shape.inputChannels) == [64, 96, 144])
        let error = #expect(throws: SweepError.self) {
            try loadSweep(
                "name: G\nseries:\n  - {label: a, H: 1, W: 1, Cin: {from: 100, factor: 1.5, count: 4}, Cout: 1, K: 1}\n"
            )
        }
        #expect(error?.field == "series[0].Cin")
        #expect(error?.message.contains("337.5") == true)
    }

    @Test("zip pairs the values index by index; without it the axes multiply")
    func zipVersusProduct() throws {
        let body = """
            name: Z
            series:
              - label: a
                H: [1, 2, 4]
                W: [10, 20, 40]
                Cin: 3
                Cout: Cin
                K: 1

            """
        let product = try loadSweep(body)
        let zipped = try loadSweep(body.replacingOccurrences(of: "K: 1", with: "K: 1\n    zip: true"))
        #expect(product.configurations.count == 9)
        #expect(
            points(product).map { [$0[0], $0[1]] } == [
                [1, 10], [1, 20], [1, 40], [2, 10], [2, 20], [2, 40], [4, 10], [4, 20], [4, 40],
            ])
        #expect(points(zipped) == [[1, 10, 3, 3, 1, 1, 1], [2, 20, 3, 3, 1, 1, 1], [4, 40, 3, 3, 1, 1, 1]])
        let error = #expect(throws: SweepError.self) {
            try loadSweep(body.replacingOccurrences(of: "K: 1", with: "K: [1, 3]\n    zip: true"))
        }
        #expect(error?.field == "series[0].K")
        #expect(error?.message.contains("zip: K has 2 values but H has 3") == true)
    }

    @Test("K sets K1 = K2; K1 and K2 can differ; batch defaults to 1 and can vary")
    func kernelsAndBatch() throws {
        let sweep = try loadSweep(
            """
            name: K
            series:
              - {label: square, H: 8, W: 8, Cin: 2, Cout: 2, K: 3}
              - {label: wide, H: 8, W: 8, Cin: 2, Cout: 2, K1: 1, K2: K1 + 4, batch: [2, 4]}
            """)
        #expect(points(sweep) == [[8, 8, 2, 2, 3, 3, 1], [8, 8, 2, 2, 1, 5, 2], [8, 8, 2, 2, 1, 5, 4]])
        #expect(sweep.configurations[1].id == "K/wide/H8xW8-Cin2-Cout2-K1x5-N2")
    }

    @Test("series constants feed expressions, and expressions may use other expressions")
    func constantsAndChains() throws {
        let sweep = try loadSweep(
            """
            name: C
            series:
              - label: R=4500
                constants: {R: 4500}
                H: 10
                W: H
                K: [7, 8]
                Cin: round(R / K)
                Cout: Cin
            """)
        #expect(points(sweep) == [[10, 10, 643, 643, 7, 7, 1], [10, 10, 563, 563, 8, 8, 1]])
    }

    @Test("ids: experiment, series and axis values, CSV-safe, distinct even for equal points in two series")
    func identifiers() throws {
        let sweep = try loadSweep(
            """
            name: B
            series:
              - {label: "Cin=150", K: 19, H: round(300 / K), W: H, Cin: 150, Cout: Cin}
              - {label: "H = 16, (again)", K: 19, H: 16, W: 16, Cin: 150, Cout: 150}
            """)
        #expect(
            sweep.configurations.map(\.id) == [
                "B/Cin=150/H16xW16-Cin150-Cout150-K19x19-N1", "B/H_=_16_again_/H16xW16-Cin150-Cout150-K19x19-N1",
            ])
        #expect(sweep.configurations[0].shape == sweep.configurations[1].shape)
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:=+/-")
        #expect(sweep.configurations.allSatisfy { $0.id.allSatisfy(allowed.contains) })
        // Two labels that collapse to one id part are refused.
        let error = #expect(throws: SweepError.self) {
            try loadSweep(
                "name: B\nseries:\n  - {label: 'a b', H: 1, W: 1, Cin: 1, Cout: 1, K: 1}\n  - {label: 'a,b', H: 2, W: 1, Cin: 1, Cout: 1, K: 1}\n"
            )
        }
        #expect(error?.field == "series[1].label")
        #expect(error?.line == 4)
    }

    @Test("load(path:) reads the file and keeps its bytes; a missing file is one clear error")
    func loadFromPath() throws {
        let directory = temporaryDirectoryURL()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("one.yaml").path
        let text = "name: One\nseries:\n  - {label: a, H: 1, W: 2, Cin: 3, Cout: 4, K: 5}\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let sweep = try Sweep.load(path: path)
        #expect(sweep.path == path)
        #expect(sweep.contents == Data(text.utf8))
        let expectedFLOPs: [Double] = [2 * 25 * 3 * 4 * 2]
        #expect(sweep.configurations.map(\.flops) == expectedFLOPs)
        let missing = #expect(throws: SweepError.self) { try Sweep.load(path: path + ".missing") }
        #expect(missing?.description.hasPrefix(path + ".missing: cannot read the file") == true)
    }
}

@Suite("Anchors and summaries")
struct SweepSummaryTests {
    @Test("YAML anchors and aliases can share a list between axes")
    func anchors() throws {
        let sweep = try loadSweep(
            "name: A\nseries:\n  - {label: a, H: 1, W: 1, Cin: &channels [2, 4], Cout: *channels, K: 1}\n")
        #expect(points(sweep).map { [$0[2], $0[3]] } == [[2, 2], [2, 4], [4, 2], [4, 4]])
    }

    @Test("a summary counts measured and dropped configurations, their FLOPs, memory and time")
    func summary() throws {
        let sweep = try loadSweep(
            """
            name: S
            series:
              - {label: a, H: 10, W: 10, K: 1, Cin: 100, Cout: [10, 20, 4000]}
            limits: {max_gflop: 0.05}
            """)
        let model = exactTimeModel(
            gflops: 1, gigabytesPerSecond: 1000, rounds: 1, maxRounds: 1, roundMinRuns: 5, roundMaxRuns: 10,
            roundMaxSeconds: 2, overhead: 0)
        let summary = SweepSummary(sweep, model: model)
        #expect(summary.measured == 2)
        #expect(summary.dropped == 1)
        // 2·100·10·100 = 200,000 and 400,000 FLOPs; 4000 output channels make 80 MFLOP, dropped.
        #expect(summary.flopsRange == 200_000...400_000)
        #expect(summary.totalFLOPs == 600_000)
        // K = 1: no workspace; input 100·100, output 20·100, weights 20·100 floats.
        #expect(summary.largestMemoryBytes == 4 * (10_000 + 2_000 + 2_000))
        // Compute bound at 1 GFLOP/s: one round of 1 + 10 runs of 0.2 ms and of 0.4 ms.
        #expect(abs(summary.estimatedSeconds - 11 * 0.0006) < 1e-12)
        #expect(sweep.configurations[2].status.text == "dropped: 0.08 GFLOP > max_gflop 0.05")
    }
}

@Suite("CSV form")
struct SweepCSVTests {
    @Test("the header is exactly the documented one, and rows hold the shape, FLOPs and status")
    func rows() throws {
        #expect(SweepCSV.line(SweepCSV.header) == "experiment,series,H,W,Cin,Cout,K1,K2,batch,flops,status")
        let sweep = try loadSweep(
            "name: B\nseries:\n  - {label: 'H=1, \"W\"', H: 1, W: 2, Cin: 3200, Cout: 3200, K1: 13, K2: 14}\nlimits: {max_gflop: 1}\n"
        )
        #expect(
            SweepCSV.line(SweepCSV.fields(sweep.configurations[0]))
                == "B,\"H=1, \"\"W\"\"\",1,2,3200,3200,13,14,1,7454720000,dropped: 7.5 GFLOP > max_gflop 1")
        #expect(CSVText.field("plain") == "plain")
        #expect(CSVText.field("a\nb") == "\"a\nb\"")
    }
}
