import Basics
import Foundation
import Measurement
import Rows

/// What a directory holds for a run about to be started in it: nothing yet, this machine's run of
/// the same sweeps and settings (which a new session would resume), or something else.
public enum RunDirectoryClaim: Equatable, Sendable {
    /// Missing or empty: a new run starts there.
    case free
    /// This machine's run (same boot, host, CPU, flags, microcode and OpenBLAS kernel set) of the
    /// same sweeps and settings: `present` of its `total` configurations have their row.
    case resumable(present: Int, total: Int)
    /// Something a new session must not add to, and why.
    case foreign(String)

    /// What `directory` holds for a run of `sweepPaths` with `options` on this machine
    /// (`environment`, captured once by the caller). Reads files only: binds and measures nothing.
    public static func of(
        _ directory: String, sweepPaths: [String], options: RunOptions, environment: EnvironmentSnapshot,
        topology: Topology
    ) -> RunDirectoryClaim {
        let run = RunDirectory(path: directory)
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        guard run.holdsRun else {
            return contents.isEmpty ? .free : .foreign("it holds files but no manifest.json")
        }
        let previous: RunManifest
        do { previous = try RunManifest.read(path: run.manifestPath) } catch { return .foreign("\(error)") }
        let hashes = sweepPaths.map { FileManager.default.contents(atPath: $0).map(SHA256Hex.of) ?? "" }
        if previous.sweeps.map(\.sha256) != hashes { return .foreign("it measured other sweeps") }
        if previous.machine.hostName != environment.hostName {
            return .foreign("it was measured on host \(previous.machine.hostName)")
        }
        guard let first = previous.referenceIdentity else {
            return .foreign("its manifest records no machine identity")
        }
        var now = MachineIdentity.capture(cpuModel: environment.cpuModel, referenceGflops: first.referenceGflops)
        if let boot = options.standIns.bootID { now.bootID = boot }
        let machine = first.differences(from: now)
        if !machine.isEmpty {
            return .foreign("another machine or boot measured it: " + machine.joined(separator: "; "))
        }
        guard let settings = RunManifest.Settings.planned(options: options, topology: topology) else {
            return .foreign("its cpuset cannot be used by this process")
        }
        let settingsChanged = RunManifest.Settings.differences(previous.settings, settings)
        if !settingsChanged.isEmpty {
            return .foreign("it has other settings: " + settingsChanged.joined(separator: "; "))
        }
        let present = (try? MeasurementsFile.read(path: run.measurementsPath).count) ?? 0
        return .resumable(present: present, total: previous.shardConfigurationCount)
    }
}
