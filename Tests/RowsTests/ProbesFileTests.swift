import Foundation
import Rows
import TestSupport
import Testing

/// probes.csv's one reader: what the runner writes reads back, and a bad field is named.
@Suite struct ProbesFileTests {
    @Test func readingsWrittenReadBackAndACommittedRunsProbesRead() throws {
        let rows = [
            ProbeRow(session: 1, seconds: 0.0123, meanGflops: 91.25, bestGflops: 95.5, referenceGflops: 93),
            ProbeRow(session: 2, seconds: 12.5, meanGflops: 40, bestGflops: 41.25, referenceGflops: 93),
        ]
        let path = try writeTemporary(ProbesFile.text(rows), name: "probes.csv")
        #expect(try ProbesFile.read(path: path) == rows)
        let committed = try ProbesFile.read(
            path: repositoryRoot.path + "/results/amd-epyc-2pu/quick/run/probes.csv")
        #expect(committed.count == 895 && committed.allSatisfy { $0.session >= 1 && $0.meanGflops > 0 })
    }

    @Test func aFieldThatDoesNotReadIsNamedWithFileLineAndColumn() throws {
        let text = ProbesFile.header + "1,0.5,nan,90,90\n"
        let path = try writeTemporary(text, name: "probes.csv")
        #expect {
            try ProbesFile.read(path: path)
        } throws: { error in
            "\(error)" == "\(path) line 2, column mean_gflops: 'nan' is not a finite number ≥ 0"
        }
        let session = try writeTemporary(ProbesFile.header + "0,0.5,90,90,90\n", name: "probes.csv")
        #expect(throws: RowFormatError.self) { try ProbesFile.read(path: session) }
        let header = try writeTemporary("session,seconds\n1,2\n", name: "probes.csv")
        #expect {
            try ProbesFile.read(path: header)
        } throws: { error in
            "\(error)".hasSuffix("line 1: no mean_gflops column")
        }
    }
}
