import Basics
import Foundation
import Rows

/// Joins run directories (the shards of a sweep, or runs of disjoint parts) into a new one.
public enum RunMerger {
    /// Reference rates of two shards further apart than this share are recorded as a warning of
    /// the merged run, not refused: shards measured side by side on one node's SMT siblings differ
    /// by 20–30% while being the same machine, and nodes of one kind differ a little.
    public static let shardRateWarning = 0.10

    /// Merges `directories` into `output`, which must not exist or be empty.
    ///
    /// The manifests must agree on sweeps (by SHA-256), CPU model, OpenBLAS build, build
    /// configuration and every setting but the shard; host names may differ (cluster nodes).
    /// Each configuration must appear in at most one directory.
    ///
    /// - Returns: the merged manifest; `status` is `complete` when every configuration of the
    ///   sweeps has a row, else `partial`.
    /// - Throws: ``RunError/mismatch(_:)`` for disagreeing manifests or a repeated configuration,
    ///   ``RunError/directory(_:)`` for an output that exists and is not empty.
    @discardableResult
    public static func merge(
        directories: [String], into output: String, commandLine: [String] = CommandLine.arguments,
        acceptMachineChange: Bool = false
    ) throws -> RunManifest {
        guard !directories.isEmpty else { throw RunError.directory("merge needs at least one run directory") }
        let sources = directories.map(RunDirectory.init(path:))
        var manifests: [RunManifest] = []
        for source in sources {
            guard source.holdsRun else {
                throw RunError.directory("\(source.path) holds no manifest.json: not a run directory")
            }
            manifests.append(try RunManifest.read(path: source.manifestPath))
        }
        let accepted = try checkCompatible(sources, manifests, acceptMachineChange: acceptMachineChange)
        let rowsBySource = try rowsOfEachSource(sources)

        let target = RunDirectory(path: output)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory) {
            let contents = (try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []
            guard isDirectory.boolValue, contents.isEmpty else {
                throw RunError.directory("\(output) exists and is not empty; merge writes only into a new directory")
            }
        }
        try target.prepare()
        let lock = try target.lock()
        defer { lock.release() }
        let rounds = try writeFiles(sources, manifests, rowsBySource, into: target)
        var manifest = mergedManifest(
            sources, manifests, rowsBySource, accepted: accepted, commandLine: commandLine)
        // What a second run should differ by, from every source's rounds together.
        manifest.repeatability =
            manifest.status == .complete
            ? Repeatability(rounds: rounds, separateProcesses: manifest.settings.roundsInWorkerProcesses) : nil
        try target.writeAtomically(try manifest.encoded(), to: target.manifestPath)
        return manifest
    }

    /// Checks that every source measured the same sweeps with the same settings on a machine that
    /// gives comparable times; returns the machine differences the user accepted and the
    /// reference-rate warnings, each naming its source.
    static func checkCompatible(_ sources: [RunDirectory], _ manifests: [RunManifest], acceptMachineChange: Bool)
        throws -> (machineChanges: [String], rateWarnings: [String])
    {
        let first = manifests[0]
        var machineChanges: [String] = []
        var rateWarnings: [String] = []
        for (source, manifest) in zip(sources, manifests).dropFirst() {
            var differences: [String] = []
            if manifest.sweeps.map(\.sha256) != first.sweeps.map(\.sha256) {
                differences.append("sweeps differ (by SHA-256)")
            }
            var machine = first.machineDifferences(with: manifest)
            if let a = first.referenceIdentity, let b = manifest.referenceIdentity {
                // Another boot is what a cluster's nodes are, and a busy SMT sibling changes the
                // rate: compare what makes times incomparable (CPU, flags, microcode, kernel set).
                let all = a.differences(from: b, rateTolerance: shardRateWarning).filter { !$0.hasPrefix("boot ") }
                machine += all.filter { !$0.hasPrefix("reference sgemm rate") }
                rateWarnings += all.filter { $0.hasPrefix("reference sgemm rate") }.map { "\(source.path): \($0)" }
            }
            if acceptMachineChange {
                machineChanges += machine.map { "\(source.path): \($0)" }
            } else {
                differences += machine
            }
            differences += first.settingsDifferences(with: manifest, ignoringShard: true)
            // Runs of two row rules (a shard started before 0.16.0, another after) are not one run.
            if first.settings.rowRound != manifest.settings.rowRound {
                differences.append(
                    "rowRound \(first.settings.rowRound ?? "absent (the fastest clean round)") vs \(manifest.settings.rowRound ?? "absent (the fastest clean round)")"
                )
            }
            if !differences.isEmpty {
                throw RunError.mismatch(
                    "\(source.path) does not match \(sources[0].path): " + differences.joined(separator: "; "))
            }
        }
        return (machineChanges, rateWarnings)
    }

    /// Each source's rows; a configuration in two sources is an error naming both.
    static func rowsOfEachSource(_ sources: [RunDirectory]) throws -> [[MeasurementRow]] {
        var rowsBySource: [[MeasurementRow]] = []
        var owner: [String: String] = [:]
        for source in sources {
            let rows = try MeasurementsFile.read(path: source.measurementsPath)
            var lineOf: [String: Int] = [:]
            for (index, row) in rows.enumerated() {
                // A configuration twice in one run is a malformed file, not two runs that overlap.
                if let first = lineOf.updateValue(index + 2, forKey: row.configID) {
                    throw RowFormatError(
                        "\(source.measurementsPath) line \(index + 2), column config_id: configuration \(row.configID) is also on line \(first)"
                    )
                }
                if let other = owner[row.configID] {
                    throw RunError.mismatch("configuration \(row.configID) is in both \(other) and \(source.path)")
                }
                owner[row.configID] = source.path
            }
            rowsBySource.append(rows)
        }
        return rowsBySource
    }

    /// Writes the merged rows, rounds, probe readings, samples (when every source kept them) and
    /// the first source's topology into `target`, the sessions renumbered; returns the rounds.
    static func writeFiles(
        _ sources: [RunDirectory], _ manifests: [RunManifest], _ rowsBySource: [[MeasurementRow]],
        into target: RunDirectory
    ) throws -> [MeasurementRow] {
        // The merged manifest lists every source's sessions in turn: renumber the rows', rounds'
        // and probe readings' sessions to match.
        var offsets: [Int] = []
        var sessionsSoFar = 0
        for manifest in manifests {
            offsets.append(sessionsSoFar)
            sessionsSoFar += manifest.sessions.count
        }
        func renumbered(_ rows: [MeasurementRow], by offset: Int) -> [MeasurementRow] {
            rows.map { row in
                var row = row
                row.session = row.session.map { $0 + offset }
                return row
            }
        }
        var merged: [MeasurementRow] = []
        var rounds: [MeasurementRow] = []
        var probes: [ProbeRow] = []
        for (index, source) in sources.enumerated() {
            merged += renumbered(rowsBySource[index], by: offsets[index])
            if FileManager.default.fileExists(atPath: source.roundsPath) {
                rounds += renumbered(try MeasurementsFile.read(path: source.roundsPath), by: offsets[index])
            }
            if FileManager.default.fileExists(atPath: source.probesPath) {
                probes += try ProbesFile.read(path: source.probesPath).map { reading in
                    var renumbered = reading
                    renumbered.session += offsets[index]
                    return renumbered
                }
            }
        }
        try target.writeAtomically(Data(MeasurementsFile.text(merged).utf8), to: target.measurementsPath)
        try target.writeAtomically(Data(MeasurementsFile.text(rounds).utf8), to: target.roundsPath)
        try target.writeAtomically(Data(ProbesFile.text(probes).utf8), to: target.probesPath)
        if manifests.allSatisfy(\.settings.keepSamples) {
            var samples = SamplesFile.header
            for source in sources {
                let body = (try? String(contentsOfFile: source.samplesPath, encoding: .utf8)) ?? ""
                samples += body.split(separator: "\n").dropFirst().map { $0 + "\n" }.joined()
            }
            try target.writeAtomically(Data(samples.utf8), to: target.samplesPath)
        }
        let topology = FileManager.default.contents(atPath: sources[0].topologyPath) ?? Data()
        try target.writeAtomically(topology, to: target.topologyPath)
        return rounds
    }

    /// The merged manifest: the first source's, with every source's sessions and warnings, the
    /// machine differences accepted, where each source came from, and a session for the merge.
    static func mergedManifest(
        _ sources: [RunDirectory], _ manifests: [RunManifest], _ rowsBySource: [[MeasurementRow]],
        accepted: (machineChanges: [String], rateWarnings: [String]), commandLine: [String]
    ) -> RunManifest {
        let first = manifests[0]
        let rows = rowsBySource.map(\.count).reduce(0, +)
        var manifest = first
        manifest.settings.shard = nil
        manifest.shardConfigurationCount = first.configurationCount
        manifest.sessions = manifests.flatMap(\.sessions)
        manifest.warnings = RunDriver.unique(manifests.flatMap(\.warnings))
        if !accepted.machineChanges.isEmpty {
            manifest.warnings.append(
                "shards from machines that differ, accepted by the user: "
                    + accepted.machineChanges.joined(separator: "; "))
        }
        if !accepted.rateWarnings.isEmpty {
            manifest.warnings.append(
                "shards whose reference sgemm rates differ (a busy SMT sibling, another node): "
                    + accepted.rateWarnings.joined(separator: "; "))
        }
        let hosts = Set(manifests.map(\.machine.hostName))
        if hosts.count > 1 {
            manifest.warnings.append("rows come from \(hosts.count) hosts: \(hosts.sorted().joined(separator: ", "))")
        }
        manifest.mergedFrom = zip(sources, manifests).enumerated().map { index, pair in
            let topologyData = FileManager.default.contents(atPath: pair.0.topologyPath) ?? Data()
            return RunManifest.MergedSource(
                directory: pair.0.path, shard: pair.1.settings.shard, hostName: pair.1.machine.hostName,
                rows: rowsBySource[index].count, topologySHA256: SHA256Hex.of(topologyData),
                identity: pair.1.sessions.lazy.compactMap(\.identity).first, cpuset: pair.1.settings.cpuset)
        }
        manifest.sessions.append(
            RunManifest.Session(
                commandLine: commandLine, startedAt: Timestamp.now(), endedAt: Timestamp.now(),
                loadAverage: [], hostName: first.machine.hostName, rowsWritten: rows, tornLinesDropped: 0))
        manifest.status = rows == first.configurationCount ? .complete : .partial
        return manifest
    }
}
