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

    /// A column named twice (fuzz seed 21: the second `reference_gflops` went unread and the
    /// edited package verified) and a line of another width are refused, not read one way.
    @Test func aColumnNamedTwiceOrALineOfAnotherWidthIsRefused() throws {
        let twice = try writeTemporary(
            "session,seconds,mean_gflops,best_gflops,reference_gflops,mean_gflops\n1,0.5,90,91,93,10\n",
            name: "probes.csv")
        #expect {
            try ProbesFile.read(path: twice)
        } throws: { error in
            "\(error)" == "\(twice) line 1, column 6: the header names 'mean_gflops' a second time"
        }
        let wide = try writeTemporary(ProbesFile.header + "1,0.5,90,91,93\n1,0.6,90,91,93,7\n", name: "probes.csv")
        #expect {
            try ProbesFile.read(path: wide)
        } throws: { error in
            "\(error)" == "\(wide) line 3: 6 fields, expected 5"
        }
        let again = try writeTemporary(ProbesFile.header + "1,0.5,90,91,93\n1,0.5,80,91,93\n", name: "probes.csv")
        #expect {
            try ProbesFile.read(path: again)
        } throws: { error in
            "\(error)" == "\(again) line 3: a second reading of session 1 at 0.5 s (first on line 2)"
        }
    }
}
