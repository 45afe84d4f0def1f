import ConvKernels
import Rows
import Sweeps
import Testing

@Suite("measurements.csv: its columns, general layers, errors naming file, line and column")
struct MeasurementsFileTests {
    private func row(_ shape: ConvShape) -> MeasurementRow {
        let configuration = SweepConfiguration(
            id: SweepConfiguration.identifier(experiment: "E", seriesKey: "s", shape: shape), experiment: "E",
            series: "s", shape: shape)
        var row = MeasurementRow(configuration: configuration, algorithm: .auto, threads: 1, status: .ok)
        (row.runs, row.warmUpRuns, row.medianMs, row.stopReason) = (2, 1, 1.5, .maxRuns)
        return row
    }

    @Test("a file of grid layers has the columns it always had; general layers add the layer columns and read back")
    func columnsAndRoundTrip() throws {
        let grid = row(ConvShape(height: 8, width: 8, inputChannels: 4, outputChannels: 4, kernel: 3))
        let gridText = MeasurementsFile.text([grid])
        #expect(gridText.hasPrefix(MeasurementsFile.gridHeader) && !gridText.contains("stride_h"))
        #expect(try MeasurementsFile.parse(gridText)[0].shape == grid.shape)

        let general = [
            ConvShape(
                height: 13, width: 11, inputChannels: 6, outputChannels: 12, kernelHeight: 3, kernelWidth: 2,
                stride: (2, 1), padding: .explicit(top: 1, left: 0, bottom: 2, right: 1), dilation: (2, 1), groups: 3),
            ConvShape(height: 56, width: 56, inputChannels: 32, outputChannels: 32, kernel: 3, groups: 32),
            .fullyConnected(rows: 49, inputs: 768, outputs: 3072),
        ]
        let rows = [grid] + general.map(row)
        let text = MeasurementsFile.text(rows)
        #expect(text.hasPrefix(MeasurementsFile.header))
        let read = try MeasurementsFile.parse(text)
        #expect(read.map(\.shape) == rows.map(\.shape))
        #expect(read[0].shape.hasGridGeometry && read[0].shape.description == grid.shape.description)
        #expect(read[3].shape.kind == .fullyConnected && read[3].shape.batch == 49)
    }

    @Test("a bad layer field is named with file, line and column")
    func badLayerField() {
        let shape = ConvShape(height: 9, width: 9, inputChannels: 4, outputChannels: 4, kernel: 3, groups: 2)
        let text = MeasurementsFile.text([row(shape)])
        for (from, to, column) in [
            (",2,conv\n", ",3,conv\n", "layer"), (",conv\n", ",dense\n", "layer"), (",2,conv\n", ",x,conv\n", "groups"),
        ] {
            #expect {
                try MeasurementsFile.parse(text.replacingOccurrences(of: from, with: to), source: "m.csv")
            } throws: { error in
                "\(error)".contains("m.csv line 2, column \(column)")
            }
        }
    }

    @Test func aBadFieldIsNamedWithFileLineAndColumn() throws {
        let configuration = SweepConfiguration(
            id: "x-1", experiment: "E", series: "s",
            shape: ConvShape(height: 3, width: 4, inputChannels: 5, outputChannels: 6, kernel: 3))
        let row = MeasurementRow(configuration: configuration, algorithm: .im2colGemm, threads: 1, status: .ok)
        let text = MeasurementsFile.header + row.csvLine.replacingOccurrences(of: ",ok,", with: ",fine,")
        #expect {
            try MeasurementsFile.parse(text, source: "m.csv")
        } throws: { error in
            "\(error)".contains("m.csv line 2, column status") && "\(error)".contains("fine")
        }
        #expect(throws: RowFormatError.self) { _ = try MeasurementsFile.parse("config_id,status\nx,ok\n") }
    }
}
