import AlphaFit
import Foundation
import Measurement
import Runner
import Sweeps

/// The main job: measure a profile's shipped sweeps, fit alpha-FLOPs, write the package.
public struct Replicator {
    /// Which shipped sweeps to measure.
    public var profile: ShippedSweeps.Profile
    /// Where the sweeps, the figure script and its Python are.
    public var shippedFiles: ShippedFiles
    /// The package directory; the run directory is its `run/`.
    public var outputDirectory: String
    /// The runner's settings (`resume` is set by the replicator).
    public var runOptions: RunOptions
    /// The command recorded as the one that rebuilds the package.
    public var rebuildCommand: String
    /// The tool's version, recorded in the manifest.
    public var toolVersion: String
    /// Another run directory or package to compare the package with; nil for none.
    public var comparedWith: String?
    /// The loss of the package's fit and model table.
    public var fitLoss: FitLoss = .relative

    /// A replicator of `profile` into `outputDirectory`.
    public init(
        profile: ShippedSweeps.Profile, shippedFiles: ShippedFiles, outputDirectory: String,
        runOptions: RunOptions, rebuildCommand: String, toolVersion: String
    ) {
        self.profile = profile
        self.shippedFiles = shippedFiles
        self.outputDirectory = outputDirectory
        self.runOptions = runOptions
        self.rebuildCommand = rebuildCommand
        self.toolVersion = toolVersion
    }

    /// The run directory inside the package.
    public var runDirectory: String { (outputDirectory as NSString).appendingPathComponent("run") }

    /// The default package directory: `results/<machine label>/<profile>` under `root` (the
    /// source tree when convsweep runs from one, else the current directory).
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
        let label = PackageBuilder.machineLabel(
            EnvironmentSnapshot.capture(topology: topology, cpuset: topology.lastCore))
        try PackageBuilder.checkOutputDirectory(outputDirectory, machineLabel: label)
        let files = try ShippedSweeps.files(
            profile: profile, root: ShippedFiles.displayPath(shippedFiles.sweepsDirectory))
        var configurations: [SweepConfiguration] = []
        for file in files { configurations += try Sweep.load(path: file).configurations }
        var options = runOptions
        options.resume = FileManager.default.fileExists(
            atPath: (runDirectory as NSString).appendingPathComponent("manifest.json"))
        let summary = try RunDriver.run(
            sweepPaths: files, configurations: configurations, options: options, outputDirectory: runDirectory,
            toolVersion: toolVersion)
        var builder = PackageBuilder(
            runDirectories: [runDirectory], packageDirectory: outputDirectory, shippedFiles: shippedFiles,
            profile: profile.rawValue, rebuildCommand: rebuildCommand)
        builder.comparedWith = comparedWith
        builder.fitOptions.loss = fitLoss
        return (summary, try builder.build())
    }
}
