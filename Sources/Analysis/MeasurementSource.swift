import Foundation
import Rows

/// The measurement rows of a run directory (its measurements.csv), a replication package (every
/// `data/*.csv`) or a measurements-format CSV file, with the rounds and probe readings behind
/// them, found by the one resolver, ``RowSource``, and read by ``MeasurementsFile`` and
/// ``ProbesFile``.
public enum MeasurementSource {
    /// Every row at `path`.
    ///
    /// - Throws: ``RowFormatError`` naming the path when it is none of the three, or a file does not parse.
    public static func rows(at path: String) throws -> [MeasurementRow] {
        try RowSource(path: path).rows()
    }

    /// The rounds behind the rows at `path`: a run directory's rounds.csv, or a package's
    /// run/rounds.csv; none for a CSV file or a run measured before rounds.
    ///
    /// - Throws: ``RowFormatError`` naming the file and line when it does not parse, or when it
    ///   holds a round of a configuration twice (the same session and round: a runner writes each
    ///   once, and a second would count twice in the configuration's spread).
    public static func rounds(at path: String) throws -> [MeasurementRow] {
        guard let file = try RowSource(path: path).roundsFile else { return [] }
        let rounds = try MeasurementsFile.read(path: file)
        var seen: [String: Int] = [:]
        for (index, round) in rounds.enumerated() {
            let key =
                "\(round.configID) session \(round.session.map(String.init) ?? "–") round \(round.round.map(String.init) ?? "–")"
            if let first = seen.updateValue(index + 2, forKey: key) {
                throw RowFormatError("\(file) line \(index + 2): \(key) again (first on line \(first))")
            }
        }
        return rounds
    }

    /// The first of `rounds` (read from `file`) that describes its configuration otherwise than
    /// its row of `rows` does — experiment, series, shape, algorithm, threads or FLOPs (a round
    /// is keyed by its configuration's id alone, so an edit of the rest would go unread) — as a
    /// problem naming file and line; nil when none does. A round of a configuration without a row
    /// (one a run left unfinished) describes nothing to hold it against.
    public static func roundMismatch(_ rounds: [MeasurementRow], rows: [MeasurementRow], file: String) -> String? {
        let byID = Dictionary(rows.map { ($0.configID, $0) }, uniquingKeysWith: { first, _ in first })
        for (index, round) in rounds.enumerated() {
            guard let row = byID[round.configID] else { continue }
            if round.experiment != row.experiment || round.series != row.series || round.shape != row.shape
                || round.algorithm != row.algorithm || round.threads != row.threads || round.flops != row.flops
            {
                return
                    "\(file) line \(index + 2): the round describes \(round.configID) otherwise than its row (experiment, series, shape, algorithm, threads or FLOPs)"
            }
        }
        return nil
    }

    /// The drift probe's mean rates (GFLOP/s) of every reading behind the rows at `path`: a run
    /// directory's probes.csv, or a package's run/probes.csv; none when there is no such file.
    ///
    /// - Throws: ``RowFormatError`` naming the file and line when a reading does not parse.
    public static func probeRates(at path: String) throws -> [Double] {
        guard let file = try RowSource(path: path).probesFile else { return [] }
        return try ProbesFile.read(path: file).map(\.meanGflops)
    }
}
