import Basics
import Foundation
import Rows
import Sweeps

/// The files a session appends to, open, and what they already hold: the rows of configurations
/// that are done and the rounds of those that are not. Made by reading them (a torn last line
/// dropped), so it exists only for files that belong to the run.
struct RunFiles {
    /// measurements.csv, rounds.csv, probes.csv and (with samples kept) samples.csv.
    let measurements: AppendOnlyFile, rounds: AppendOnlyFile, probes: AppendOnlyFile, samples: AppendOnlyFile?
    /// Whether the files carry the layer columns (a layer other than the grid's is in the sweeps).
    let layerColumns: Bool
    /// The configurations with a row.
    let done: Set<String>
    /// Rounds already measured of the configurations without a row.
    let roundsSoFar: [String: [MeasurementRow]]
    /// Torn last lines dropped, over every file.
    let tornLinesDropped: Int

    /// Opens the files of `directory` for appending, for a run of `configurations` of which this
    /// directory measures `known`; refuses a row of another configuration, or one twice.
    init(
        directory: RunDirectory, configurations: [SweepConfiguration], known: Set<String>, keepSamples: Bool
    ) throws {
        let header = MeasurementsFile.header(for: configurations.map(\.shape))
        layerColumns = header == MeasurementsFile.header
        measurements = try AppendOnlyFile(path: directory.measurementsPath, header: header)
        var done = Set<String>()
        for row in try MeasurementsFile.read(path: directory.measurementsPath) {
            guard known.contains(row.configID) else {
                throw RunError.format(
                    "\(directory.measurementsPath) has configuration \(row.configID), not in this run's sweeps")
            }
            guard done.insert(row.configID).inserted else {
                throw RunError.format("\(directory.measurementsPath) has configuration \(row.configID) twice")
            }
        }
        rounds = try AppendOnlyFile(path: directory.roundsPath, header: header)
        probes = try AppendOnlyFile(path: directory.probesPath, header: ProbesFile.header)
        var roundKeys = Set<String>()
        var roundsSoFar: [String: [MeasurementRow]] = [:]
        for round in try MeasurementsFile.read(path: directory.roundsPath) {
            guard known.contains(round.configID) else {
                throw RunError.format(
                    "\(directory.roundsPath) has configuration \(round.configID), not in this run's sweeps")
            }
            roundKeys.insert("\(round.configID)#\(round.round ?? 0)")
            if !done.contains(round.configID) { roundsSoFar[round.configID, default: []].append(round) }
        }
        var torn = measurements.droppedTornLines + rounds.droppedTornLines + probes.droppedTornLines
        if keepSamples {
            torn += try SamplesFile.keepOnly(roundKeys, path: directory.samplesPath, directory: directory)
            samples = try AppendOnlyFile(path: directory.samplesPath, header: SamplesFile.header)
        } else {
            samples = nil
        }
        self.done = done
        self.roundsSoFar = roundsSoFar
        tornLinesDropped = torn
    }
}

/// The progress line's measure of work done: the measuring-time model at the session's roofs,
/// each configuration's estimate credited a round at a time, the rest when its row is written
/// (none past it).
struct WorkCredit {
    /// The measuring-time model.
    let model: MeasuringTimeModel
    /// Seconds credited so far to each configuration without a row.
    private var credited: [String: Double] = [:]

    init(model: MeasuringTimeModel) { self.model = model }

    /// The seconds of work to credit for a round of `configuration`; all that is left of its
    /// estimate when it is `finished`.
    mutating func credit(_ configuration: SweepConfiguration, finished: Bool) -> Double {
        let whole = model.seconds(configuration)
        let before = credited[configuration.id, default: 0]
        let now = finished ? whole : min(whole, before + whole / model.expectedRounds)
        credited[configuration.id] = finished ? nil : now
        return now - before
    }
}
