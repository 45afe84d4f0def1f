import Basics
import Foundation
import Rows

/// Removes rows from a run directory so that a resume measures them again (`convsweep forget`),
/// and records what was removed, when and why in its manifest.
public enum RunForgetter {
    /// What to forget.
    public enum Selection: Hashable, Sendable {
        /// These configurations: their rows, rounds and samples.
        case configurations([String])
        /// What session N (1-based, as in the manifest's `sessions`) measured: the rows whose
        /// figures come from it and its rounds.
        case session(Int)
    }

    /// Forgets `selection` in the run directory at `path`, for `reason`.
    ///
    /// - Returns: the record added to the manifest's `forgotten`.
    /// - Throws: ``RunError`` for a directory that holds no run or is in use, an unknown
    ///   configuration or session, an empty reason, or rows that do not record their session;
    ///   nothing in the directory is changed then.
    @discardableResult
    public static func forget(
        _ selection: Selection, in path: String, reason: String, commandLine: [String] = CommandLine.arguments
    ) throws -> RunManifest.Forgetting {
        let directory = RunDirectory(path: path)
        guard directory.holdsRun else { throw RunError.directory("\(path) holds no run (no manifest.json)") }
        guard !reason.trimmed.isEmpty else { throw RunError.badSetting(.reason, "must say why the rows are removed") }
        let lock = try directory.lock()
        defer { lock.release() }
        var manifest = try RunManifest.read(path: directory.manifestPath)
        let rows = try MeasurementsFile.read(path: directory.measurementsPath)
        let rounds =
            FileManager.default.fileExists(atPath: directory.roundsPath)
            ? try MeasurementsFile.read(path: directory.roundsPath) : []

        let (forgottenRows, session) = try chosen(selection, rows: rows, rounds: rounds, manifest: manifest, path: path)
        let forgottenRounds = forgottenRows
        let removed = rows.filter(forgottenRows)
        let removedRounds = rounds.filter(forgottenRounds)
        let record = RunManifest.Forgetting(
            at: Timestamp.now(), reason: reason, commandLine: commandLine, session: session,
            configurations: removed.map(\.configID))

        // Write: the files first (each atomically), the manifest last.
        try directory.writeAtomically(
            Data(MeasurementsFile.text(rows.filter { !forgottenRows($0) }).utf8), to: directory.measurementsPath)
        if !rounds.isEmpty {
            try directory.writeAtomically(
                Data(MeasurementsFile.text(rounds.filter { !forgottenRounds($0) }).utf8), to: directory.roundsPath)
        }
        let removedKeys = Set(removedRounds.map { "\($0.configID)#\($0.round ?? 0)" })
        let removedIDs = Set(removed.map(\.configID))
        try SamplesFile.remove(path: directory.samplesPath, directory: directory) { id, round in
            removedKeys.contains("\(id)#\(round)") || (selectionRemovesAll(selection) && removedIDs.contains(id))
        }
        manifest.forgotten = (manifest.forgotten ?? []) + [record]
        if !removed.isEmpty { manifest.status = .interrupted }
        try directory.writeAtomically(try manifest.encoded(), to: directory.manifestPath)
        return record
    }

    /// Which rows and rounds `selection` names in the run at `path` (and the session it names),
    /// refusing a configuration it never measured, a session it does not have, or a session
    /// whose rows do not record it.
    private static func chosen(
        _ selection: Selection, rows: [MeasurementRow], rounds: [MeasurementRow], manifest: RunManifest, path: String
    ) throws(RunError) -> (rows: (MeasurementRow) -> Bool, session: Int?) {
        switch selection {
        case .configurations(let ids):
            guard !ids.isEmpty else { throw RunError.badSetting(.configurations, "name at least one configuration") }
            let known = Set(rows.map(\.configID) + rounds.map(\.configID))
            if let unknown = ids.first(where: { !known.contains($0) }) {
                throw RunError.badSetting(
                    .configurations,
                    "\(unknown) is not a configuration measured in \(path) (its ids are the config_id column of measurements.csv)"
                )
            }
            let chosen = Set(ids)
            return ({ chosen.contains($0.configID) }, nil)
        case .session(let number):
            guard (1...manifest.sessions.count).contains(number) else {
                throw RunError.badSetting(
                    .session,
                    "\(number) is not a session of \(path), which has sessions 1 to \(manifest.sessions.count)")
            }
            if rows.contains(where: { $0.session == nil && $0.status.isOK }) {
                throw RunError.badSetting(
                    .session,
                    "cannot tell which rows session \(number) measured: \(path) was written before rows recorded their session; forget configurations by id instead"
                )
            }
            return ({ $0.session == number }, number)
        }
    }

    private static func selectionRemovesAll(_ selection: Selection) -> Bool {
        if case .configurations = selection { return true }
        return false
    }
}
