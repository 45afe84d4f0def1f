import ConvKernels
import Foundation
import Testing

@testable import Sweeps

@Suite("Sweep files of general layers: stride, padding, dilation, groups, fully connected")
struct GeneralLayerSweepTests {
    @Test("the new axes build the layers, and ids name only the fields that differ from the grid's")
    func axesAndIdentifiers() throws {
        let sweep = try loadSweep(
            """
            name: L
            series:
              - label: dw
                H: 56
                W: H
                Cin: [32, 64]
                Cout: "Cin * 2"
                K: 3
                stride: [1, 2]
                padding: 1
                groups: Cin
              - label: odd
                H: 13
                W: 11
                Cin: 6
                Cout: 6
                K1: 3
                K2: 2
                stride_h: 2
                stride_w: 1
                pad_top: 1
                pad_left: 0
                pad_bottom: 2
                pad_right: 1
                dilation: 2
                groups: 3
              - label: valid
                H: 9
                W: 9
                Cin: 4
                Cout: 4
                K: 3
                padding: valid
              - label: fc
                layer: fc
                batch: [1, 49]
                Cin: 768
                Cout: 3072
              - label: grid
                H: 8
                W: 8
                Cin: 4
                Cout: 4
                K: 3
            """)
        let shapes = sweep.configurations.map(\.shape)
        #expect(shapes.count == 4 + 1 + 1 + 2 + 1)
        #expect(shapes[0].isDepthwise && shapes[0].depthwiseMultiplier == 2 && shapes[0].strideHeight == 1)
        #expect(
            shapes[1].strideHeight == 2 && shapes[1].outputHeight == 28 && shapes[1].resolvedPadding == (1, 1, 1, 1))
        #expect(sweep.configurations[0].id == "L/dw/H56xW56-Cin32-Cout64-K3x3-N1-G32")
        #expect(sweep.configurations[1].id == "L/dw/H56xW56-Cin32-Cout64-K3x3-N1-S2x2-P1_1_1_1-G32")
        let odd = shapes[4]
        #expect(odd.strideHeight == 2 && odd.strideWidth == 1 && odd.dilationHeight == 2 && odd.groups == 3)
        #expect(odd.resolvedPadding == (1, 0, 2, 1) && odd.kernelHeight == 3 && odd.kernelWidth == 2)
        #expect(sweep.configurations[4].id.hasSuffix("-S2x1-P1_0_2_1-D2x2-G3"))
        #expect(shapes[5].resolvedPadding == (0, 0, 0, 0) && shapes[5].outputHeight == 7)
        #expect(shapes[6] == .fullyConnected(rows: 1, inputs: 768, outputs: 3072))
        #expect(shapes[7].batch == 49 && sweep.configurations[7].id == "L/fc/FC-M49-In768-Out3072")
        #expect(sweep.configurations[7].flops == Double(2 * 49 * 768 * 3072))
        // A grid layer's id is what it always was.
        #expect(sweep.configurations[8].id == "L/grid/H8xW8-Cin4-Cout4-K3x3-N1" && shapes[8].hasGridGeometry)
    }

    @Test("impossible layers are refused with file, line and field")
    func impossibleLayers() {
        let base = "name: E\nseries:\n  - label: s\n    H: 5\n    W: 5\n    Cin: 4\n    Cout: 4\n"
        let cases: [(String, Int, String, String)] = [
            ("    K: 3\n    groups: 3\n", 9, "series[0].groups", "groups = 3 must divide inputChannels = 4"),
            ("    K: 3\n    stride: 2\n", 9, "series[0].stride", "padding 'same' needs stride 1"),
            ("    K: 9\n    padding: valid\n", 4, "series[0].H", "no output along its height"),
            ("    K: 3\n    stride: 2\n    stride_h: 2\n    padding: 1\n", 10, "series[0].stride_h", "not both forms"),
            ("    K: 3\n    padding: -1\n", 9, "series[0].padding", "0 or more"),
            ("    K: 3\n    pad_top: 1\n", 9, "series[0].pad_top", "without pad_left, pad_bottom, pad_right"),
            ("    K: 3\n    layer: dense\n", 9, "series[0].layer", "conv (the default) or fc"),
            ("    K: 3\n    groups: 0\n", 9, "series[0].groups", "positive integer"),
        ]
        for (tail, line, field, text) in cases {
            let error = #expect(throws: SweepError.self) { try loadSweep(base + tail) }
            #expect(
                error?.line == line && error?.field == field && error?.message.contains(text) == true,
                "\(String(describing: error))")
        }
        let fc = "name: E\nseries:\n  - label: s\n    layer: fc\n    Cin: 4\n    Cout: 4\n    stride: 2\n"
        let error = #expect(throws: SweepError.self) { try loadSweep(fc) }
        #expect(error?.field == "series[0].stride" && error?.message.contains("fully-connected layer has no") == true)
    }

    @Test("the CSV form adds the layer columns only when a layer needs them")
    func csvColumns() throws {
        let grid = try loadSweep(
            "name: E\nseries:\n  - label: s\n    H: 4\n    W: 4\n    Cin: 2\n    Cout: 2\n    K: 3\n")
        #expect(SweepCSV.header(for: grid.configurations) == SweepCSV.header)
        let strided = try loadSweep(
            "name: E\nseries:\n  - label: s\n    H: 4\n    W: 4\n    Cin: 2\n    Cout: 2\n    K: 3\n    stride: 2\n    padding: 1\n"
        )
        #expect(SweepCSV.header(for: strided.configurations).suffix(2) == ["groups", "layer"])
        #expect(
            SweepCSV.fields(strided.configurations[0], layer: true).suffix(10) == [
                "2", "2", "1", "1", "1", "1", "1", "1", "1", "conv",
            ])
    }
}
