import ConvKernels
import Foundation
import TestSupport
import Testing

@testable import AlphaFit

@Suite struct DatasetTests {
    @Test func plainCSVWithSquareKernelAndCarriedColumns() throws {
        let path = try writeTemporary(
            """
            label,H,W,Cin,Cout,K,time_ms,batch
            a,8,16,3,4,3,1.5,2
            "b, quoted",4,4,1,1,1,0.25,1
            """)
        let data = try FitDataset.load(paths: [path])
        #expect(data.rows.count == 2)
        #expect(
            data.rows[0].shape
                == ConvShape(
                    batch: 2, height: 8, width: 16, inputChannels: 3, outputChannels: 4, kernelHeight: 3, kernelWidth: 3
                ))
        #expect(data.rows[0].timeMs == 1.5)
        #expect(data.rows[1].carried["label"] == "b, quoted")
        #expect(data.rows[1].row == 3)
        #expect(data.carriedColumns == ["label"])
        // SHA-256 of the exact bytes.
        #expect(data.inputs[0].sha256.count == 64)
        #expect(data.inputs[0].rowsUsed == 2)
    }

    @Test func runDirectoryUsesOkRowsAndTheMedian() throws {
        let dir = temporaryDirectoryURL()
        try """
        config_id,experiment,series,H,W,Cin,Cout,K1,K2,batch,algorithm,threads,flops,runs,median_ms,mad_ms,status
        c1,B,150,300,300,150,150,1,1,1,im2col,1,1,25,2.5,0.1,ok
        c2,B,150,150,150,150,150,2,2,1,im2col,1,1,25,-1,0.1,failed
        c3,C,4500,10,10,1500,1500,3,3,1,im2col,1,1,25,4.25,0.2,ok
        """.write(to: dir.appendingPathComponent("measurements.csv"), atomically: true, encoding: .utf8)
        let data = try FitDataset.load(paths: [dir.path])
        #expect(data.rows.map(\.timeMs) == [2.5, 4.25])
        #expect(data.rows.map { $0.carried["config_id"] } == ["c1", "c3"])
        #expect(data.rows[1].carried["experiment"] == "C" && data.rows[1].carried["series"] == "4500")
        #expect(data.inputs[0].kind == "run-directory" && data.inputs[0].rowsExcluded == 1)
        #expect(data.rows[1].row == 4)
    }

    @Test func originalDataLoadsWithTheDenseLayerLeftOut() throws {
        let data = try FitDataset.load(
            paths: [originalDataPath], excluding: [RowFilter(column: "plot", value: "increasing_batch")])
        #expect(data.rows.count == 590 && data.inputs[0].rowsExcluded == 131)
        #expect(data.carriedColumns == ["plot", "line"])
        #expect(data.rows.allSatisfy { $0.carried["plot"] != "increasing_batch" })
    }

    static let badInputs: [(csv: String, row: Int?, column: String?)] = [
        ("H,W,Cin,Cout,K1,K2\n1,1,1,1,1,1\n", 1, "time_ms"),
        ("H,W,Cin,Cout,time_ms\n1,1,1,1,2\n", 1, "K1"),
        ("H,W,Cin,Cout,K,time_ms\n1,1,1,1,1,2\n1,1,1,1,1,0\n", 3, "time_ms"),
        ("H,W,Cin,Cout,K,time_ms\n1,1,1,1,1,-3\n", 2, "time_ms"),
        ("H,W,Cin,Cout,K,time_ms\n1,1,1,1,1,nan\n", 2, "time_ms"),
        ("H,W,Cin,Cout,K,time_ms\n1,1,1,1,1,inf\n", 2, "time_ms"),
        ("H,W,Cin,Cout,K,time_ms\n1,1,1,1,1,\n", 2, "time_ms"),
        ("H,W,Cin,Cout,K,time_ms\n1,0,1,1,1,1\n", 2, "W"),
        ("H,W,Cin,Cout,K,time_ms\n1,1,2.5,1,1,1\n", 2, "Cin"),
    ]

    @Test(arguments: badInputs)
    func badInputNamesInputRowAndColumn(csv: String, row: Int?, column: String?) throws {
        let path = try writeTemporary(csv)
        let error = try #require(throws: FitInputError.self) { try FitDataset.load(paths: [path]) }
        #expect(error.input == path)
        #expect(error.row == row)
        #expect(error.column == column)
        #expect(error.description.hasPrefix("\(path), row \(row!), column \(column!): "))
    }

    @Test func filterOnAnUnknownColumnIsAnError() throws {
        let path = try writeTemporary("H,W,Cin,Cout,K,time_ms\n1,1,1,1,1,1\n")
        let error = try #require(throws: FitInputError.self) {
            try FitDataset.load(paths: [path], excluding: [RowFilter(column: "plot", value: "x")])
        }
        #expect(error.column == "plot")
    }

    @Test func emptyGroupIsAnError() throws {
        let rows = syntheticRows(
            gridShapes(count: 20, seed: 1, kernels: [3]), model: .alpha,
            parameters: [0.01, 0.8, 0.03], convention: .asperti, noise: 0, seed: 1)
        let error = try #require(throws: FitInputError.self) { try AlphaFitter().fit(dataset(rows)) }
        #expect(error.message.contains("K=1 is empty"))
        // per-k has no empty group here.
        #expect(throws: Never.self) { try AlphaFitter(options: FitOptions(grouping: .perK)).fit(dataset(rows)) }
    }

    @Test func groupSmallerThanTheModelIsAnError() throws {
        let rows = syntheticRows(
            gridShapes(count: 2, seed: 1, kernels: [1]) + gridShapes(count: 20, seed: 2, kernels: [3]),
            model: .alpha, parameters: [0.01, 0.8, 0.03], convention: .asperti, noise: 0, seed: 1)
        let error = try #require(throws: FitInputError.self) { try AlphaFitter().fit(dataset(rows)) }
        #expect(error.message.contains("K=1 has 2 row(s)"))
        #expect(error.row != nil)
    }

    @Test func boundExcludingTheStartIsAnError() throws {
        let options = FitOptions(bounds: [[0, 2], [0.9, 2], [0, 2]])
        let error = try #require(throws: FitInputError.self) { try options.validate() }
        #expect(error.input == "start" && error.column == "gamma")
        let wrongCount = FitOptions(model: .alphaChannels, start: [0.01, 0.8, 0.3])
        #expect(throws: FitInputError.self) { try wrongCount.validate() }
    }
}
