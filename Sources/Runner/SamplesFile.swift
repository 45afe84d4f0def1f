import Basics
import Foundation
import Measurement

/// samples.csv: one line per timed run.
public enum SamplesFile {
    /// The columns of samples.csv, in order.
    public static let columns = ["config_id", "run", "time_ms", "lowering_ms", "gemm_ms"]
    /// The header line of samples.csv.
    public static var header: String { CSVText.line(columns) }

    static func lines(_ id: String, _ samples: Samples) -> String {
        var text = ""
        for i in samples.times.indices {
            text += CSVText.line([
                id, "\(i + 1)", String(format: "%.6g", samples.times[i] * 1e3),
                String(format: "%.6g", samples.lowering[i] * 1e3), String(format: "%.6g", samples.gemm[i] * 1e3),
            ])
        }
        return text
    }

    /// Drops the samples of configurations without a row (measured when a session was killed),
    /// and a torn last line; returns 1 if anything was dropped.
    static func keepOnly(_ ids: Set<String>, path: String, directory: RunDirectory) throws -> Int {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return 0 }
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var dropped = 0
        if lines.last == "" {
            lines.removeLast()
        } else {
            dropped = 1
            lines.removeLast()
        }
        guard let header = lines.first else { return dropped }
        let kept =
            [header]
            + lines.dropFirst().filter { line in
                let id = line.split(separator: ",", maxSplits: 1).first.map(String.init) ?? ""
                return ids.contains(id)
            }
        if kept.count != lines.count || dropped > 0 {
            try directory.writeAtomically(Data((kept.joined(separator: "\n") + "\n").utf8), to: path)
            return 1
        }
        return 0
    }
}
