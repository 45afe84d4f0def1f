import Foundation
import Sweeps
import TestSupport
import Testing

@testable import Replication

/// The shipped files of this clone (figure script, .venv).
let sourceTree = ShippedFiles(root: repositoryRoot.path, layout: .sourceTree)

private let header = "config_id,experiment,series,H,W,Cin,Cout,K1,K2,batch,flops,median_ms,status"

@Test func everyFigureExistsAndIsDrawnFromTheCSVItNames() throws {
    let dir = temporaryDirectoryURL()
    defer { try? FileManager.default.removeItem(at: dir) }
    for sub in ["data", "fit"] {
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
    }
    // Experiment B: 2 series x 5 kernels, one row not measured; experiment E: 1 series x 4 points.
    var b = [header]
    var e = [header]
    var regression = [header]
    var predictions = ["config_id,predicted_ms"]
    for cin in [50, 100] {
        for k in 1...5 {
            let h = Int((300.0 / Double(k)).rounded())
            let flops = 2 * k * k * cin * cin * h * h
            let status = (cin == 100 && k == 5) ? "dropped: max_gflop" : "ok"
            b.append(
                "B/\(cin)/\(k),B,Cin=\(cin),\(h),\(h),\(cin),\(cin),\(k),\(k),1,\(flops),\(Double(flops) / 4e7),\(status)"
            )
            predictions.append("B/\(cin)/\(k),\(Double(flops) / 5e7)")
        }
    }
    for cout in [10, 20, 40, 80] {
        e.append("E/\(cout),E,Cin=50,100,100,50,\(cout),3,3,1,\(9e6 * Double(cout)),\(Double(cout) * 0.2),ok")
        predictions.append("E/\(cout),\(Double(cout) * 0.15)")
    }
    for i in 0..<12 {
        let k = i % 3 + 1
        regression.append("R\(i),regression,sample,8,8,10,10,\(k),\(k),1,1e6,\(Double(i + 1)),ok")
        predictions.append("R\(i),\(Double(i + 1) * 1.1)")
    }
    try (b.joined(separator: "\n") + "\n").write(
        to: dir.appendingPathComponent("data/exp-b.csv"), atomically: true, encoding: .utf8)
    try (e.joined(separator: "\n") + "\n").write(
        to: dir.appendingPathComponent("data/exp-e.csv"), atomically: true, encoding: .utf8)
    try (regression.joined(separator: "\n") + "\n").write(
        to: dir.appendingPathComponent("data/regression.csv"), atomically: true, encoding: .utf8)
    try (predictions.joined(separator: "\n") + "\n").write(
        to: dir.appendingPathComponent("fit/predictions.csv"), atomically: true, encoding: .utf8)

    try FigureScript.draw(package: dir, shippedFiles: sourceTree)

    struct Source: Decodable {
        var path: String
        var sha256: String
        var rows_used: Int
    }
    struct Entry: Decodable {
        var experiment: String
        var files: [String]
        var measured_points: Int
        var predicted_points: Int
        var sources: [Source]
    }
    let index = try JSONDecoder().decode(
        [Entry].self, from: Data(contentsOf: dir.appendingPathComponent("figures/index.json")))
    #expect(index.map(\.experiment) == ["B", "E", "regression"])
    let expectedPoints = ["B": 9, "E": 4, "regression": 12]
    for entry in index {
        for file in entry.files {
            let attributes = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(file).path)
            #expect((attributes[.size] as? Int ?? 0) > 1000, "\(file) is missing or empty")
        }
        #expect(entry.measured_points == expectedPoints[entry.experiment])
        #expect(entry.predicted_points == expectedPoints[entry.experiment])
        for source in entry.sources {
            #expect(
                try Checksums.sha256(of: dir.appendingPathComponent(source.path)) == source.sha256,
                "\(entry.experiment) names \(source.path) with a hash that is not the file's")
        }
        #expect(entry.sources.first?.path.hasPrefix("data/") == true)
    }
}
