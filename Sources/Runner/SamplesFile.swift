import Basics
import Foundation
import Measurement
import Rows

/// samples.csv: one line per timed run, with the round it belongs to.
public enum SamplesFile {
    /// The columns of samples.csv, in order.
    public static let columns = ["config_id", "round", "run", "time_ms", "lowering_ms", "gemm_ms"]
    /// The header line of samples.csv.
    public static var header: String { CSVText.line(columns) }

    static func lines(_ id: String, round: Int, _ samples: Samples) -> String {
        var text = ""
        for i in samples.times.indices {
            text += CSVText.line([
                id, "\(round)", "\(i + 1)", String(format: "%.6g", samples.times[i] * 1e3),
                String(format: "%.6g", samples.lowering[i] * 1e3), String(format: "%.6g", samples.gemm[i] * 1e3),
            ])
        }
        return text
    }

    /// Keeps the samples of the rounds recorded in rounds.csv (`keys` holds `id#round`), dropping
    /// those of a round a kill interrupted and a torn last line; returns 1 if anything was dropped.
    static func keepOnly(_ keys: Set<String>, path: String, directory: RunDirectory) throws -> Int {
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
                let fields = line.split(separator: ",", maxSplits: 2)
                return fields.count >= 2 && keys.contains("\(fields[0])#\(fields[1])")
            }
        if kept.count != lines.count || dropped > 0 {
            try directory.writeAtomically(Data((kept.joined(separator: "\n") + "\n").utf8), to: path)
            return 1
        }
        return 0
    }
}

extension SamplesFile {
    /// Removes the lines for which `removes(id, round)` holds, when the file exists.
    static func remove(path: String, directory: RunDirectory, where removes: (String, String) -> Bool) throws {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        guard let header = lines.first else { return }
        let kept = lines.dropFirst().filter { line in
            let fields = line.split(separator: ",", maxSplits: 2)
            return fields.count < 2 || !removes(String(fields[0]), String(fields[1]))
        }
        if kept.count != lines.count - 1 {
            try directory.writeAtomically(Data(([header] + kept).map { $0 + "\n" }.joined().utf8), to: path)
        }
    }
}

extension ProbesFile {
    /// The line of probes.csv of `reading`, read in `session` under the reference `reference`.
    static func line(session: Int, _ reading: DriftProbe.Reading, reference: Double) -> String {
        ProbeRow(
            session: session, seconds: reading.seconds, meanGflops: reading.meanGflops,
            bestGflops: reading.bestGflops, referenceGflops: reference
        ).csvLine
    }
}
