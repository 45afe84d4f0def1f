import Foundation
import Testing

@testable import AlphaFit

/// A model is of one thread count: a fit refuses rows of several, naming the filter that keeps one.
@Test func aFitRefusesRowsOfSeveralThreadCountsAndNamesTheFilter() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fit-threads-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent("rows.csv").path
    var lines = ["config_id,H,W,Cin,Cout,K1,K2,threads,time_ms"]
    for (i, side) in [8, 16, 32, 64].enumerated() {
        for threads in [1, 2] {
            let ms = Double(side * side) / 100 / Double(threads)
            lines.append("c\(i)@threads=\(threads),\(side),\(side),8,8,3,3,\(threads),\(ms)")
        }
    }
    try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
    // Read, and predicted, they may be; fitted, they are refused.
    let both = try FitDataset.load(paths: [file])
    #expect(both.rows.count == 8)
    #expect {
        try AlphaFitter(options: FitOptions()).fit(both)
    } throws: { error in
        "\(error)".contains("rows at 1, 2 threads") && "\(error)".contains("--exclude threads=2")
    }
    let one = try FitDataset.load(paths: [file], excluding: [RowFilter(column: "threads", value: "2")])
    #expect(one.rows.count == 4)
}
