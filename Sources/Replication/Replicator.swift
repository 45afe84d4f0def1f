import Foundation
import Measurement
import Runner
import Sweeps

/// The main job: measure a profile's shipped sweeps, fit alpha-FLOPs, write the package.
public struct Replicator {
    /// Which shipped sweeps to measure.
    public var profile: ShippedSweeps.Profile
    /// The `sweeps` directory.
    public var sweepsRoot: String
    /// The package directory; the run directory is its `run/`.
    public var outputDirectory: String
    /// The repository root (figure script, virtualenv).
    public var repositoryRoot: String
    /// The runner's settings (`resume` is set by the replicator).
    public var runOptions: RunOptions
    /// The command recorded as the one that rebuilds the package.
    public var rebuildCommand: String
    /// The tool's version, recorded in the manifest.
    public var toolVersion: String

    public init(
        profile: ShippedSweeps.Profile, sweepsRoot: String, outputDirectory: String, repositoryRoot: String,
        runOptions: RunOptions, rebuildCommand: String, toolVersion: String
    ) {
        self.profile = profile
        self.sweepsRoot = sweepsRoot
        self.outputDirectory = outputDirectory
        self.repositoryRoot = repositoryRoot
        self.runOptions = runOptions
        self.rebuildCommand = rebuildCommand
        self.toolVersion = toolVersion
    }

    /// The run directory inside the package.
    public var runDirectory: String { (outputDirectory as NSString).appendingPathComponent("run") }

    /// The default package directory: `results/<machine label>/<profile>` under `root`.
    public static func defaultOutput(root: String, profile: ShippedSweeps.Profile) throws -> String {
        let topology = try Topology()
        let label = PackageBuilder.machineLabel(
            EnvironmentSnapshot.capture(topology: topology, cpuset: topology.lastCore))
        return "\(root)/results/\(label)/\(profile.rawValue)"
    }

    /// Measures what the run directory lacks (resuming an interrupted run), then builds the package.
    @discardableResult
    public func run() throws -> (RunSummary, PackageStatement) {
        let topology = try Topology()
        let label = PackageBuilder.machineLabel(EnvironmentSnapshot.capture(topology: topology, cpuset: topology.lastCore))
        try PackageBuilder.checkOutputDirectory(outputDirectory, machineLabel: label)
        let files = try ShippedSweeps.files(profile: profile, root: sweepsRoot)
        var configurations: [SweepConfiguration] = []
        for file in files { configurations += try Sweep.load(path: file).configurations }
        var options = runOptions
        options.resume = FileManager.default.fileExists(atPath: (runDirectory as NSString).appendingPathComponent("manifest.json"))
        let summary = try RunDriver.run(
            sweepPaths: files, configurations: configurations, options: options, outputDirectory: runDirectory,
            toolVersion: toolVersion)
        let builder = PackageBuilder(
            runDirectories: [runDirectory], packageDirectory: outputDirectory, repositoryRoot: repositoryRoot,
            profile: profile.rawValue, rebuildCommand: rebuildCommand)
        return (summary, try builder.build())
    }
}
