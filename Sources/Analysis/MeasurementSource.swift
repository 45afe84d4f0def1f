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
    public static func rounds(at path: String) throws -> [MeasurementRow] {
        guard let file = try RowSource(path: path).roundsFile else { return [] }
        return try MeasurementsFile.read(path: file)
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
