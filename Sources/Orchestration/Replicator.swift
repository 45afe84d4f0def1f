import AlphaFit
import Basics
import Foundation
import Measurement
import Replication
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
    /// A framework reference of this machine to hold in the package's networks section.
    public var frameworkReference: String?
    /// The loss of the package's fit and model table.
    public var fitLoss: FitLoss = .relative
    /// The user's own networks measured beside the profile's (`--networks`): network files
    /// (`.yaml`) and ONNX models (`.onnx`), or directories of them.
    public var ownNetworks: [String] = []

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

    /// The folder under the source tree (or the current directory) that holds the packages
    /// `replicate` writes without `--out`; git ignores it.
    public static let ownOutputFolder = "out"

    /// The package directory of `replicate` without `--out`: one of this machine's own, never a
    /// directory that holds another machine's run, another boot's, a run of other sweeps or
    /// settings, or a package without its run (a committed or copied one).
    ///
    /// It is `ROOT/out/MACHINE/PROFILE`, MACHINE being the machine label, the OpenBLAS kernel set
    /// and 8 hex digits of the SHA-256 of what makes a machine the same for convsweep: host name,
    /// boot id, CPU model, CPU flags, microcode and kernel set (a reboot is another machine, as for
    /// a resume). When that directory holds something else, `-2`, `-3`, … are tried; `note` hears
    /// why each was passed over, and whether the chosen one resumes a run.
    public static func ownOutput(
        root: String, profile: ShippedSweeps.Profile, sweepPaths: [String], options: RunOptions,
        note: (String) -> Void = { _ in }
    ) throws -> String {
        let topology = try Topology()
        let environment = EnvironmentSnapshot.capture(topology: topology, cpuset: topology.lastCore)
        let machine = machineDirectoryName(environment)
        let base = "\(root)/\(ownOutputFolder)/\(machine)/\(profile.rawValue)"
        for attempt in 1...1000 {
            let candidate = attempt == 1 ? base : "\(base)-\(attempt)"
            let run = (candidate as NSString).appendingPathComponent("run")
            let manager = FileManager.default
            let hasPackage = manager.fileExists(
                atPath: (candidate as NSString).appendingPathComponent(PackageLayout.statement))
            let others = ((try? manager.contentsOfDirectory(atPath: candidate)) ?? []).filter { $0 != "run" }
            switch RunDirectoryClaim.of(
                run, sweepPaths: sweepPaths, options: options, environment: environment, topology: topology)
            {
            case .free where hasPackage || !others.isEmpty:
                note("\(candidate) holds a package or files without this machine's run: passed over")
            case .free:
                return candidate
            case let .resumable(present, total):
                note("\(candidate) holds this machine's run of \(profile) (\(present) of \(total) rows): resuming it")
                return candidate
            case let .foreign(reason):
                note("\(candidate) holds another run (\(reason)): passed over")
            }
        }
        throw PackageError("\(base): every one of 1000 numbered directories holds another run; pass --out")
    }

    /// `LABEL-KERNELS-HASH`: the machine label, the OpenBLAS kernel set and 8 hex digits of the
    /// SHA-256 of host name, boot id, CPU model, flags, microcode and kernel set.
    static func machineDirectoryName(_ environment: EnvironmentSnapshot) -> String {
        let identity = MachineIdentity.capture(cpuModel: environment.cpuModel, referenceGflops: 0)
        let key = [
            environment.hostName, identity.bootID, identity.cpuModel, identity.cpuFlagsSHA256,
            identity.microcode ?? "", identity.openBLASCore,
        ].joined(separator: "\n")
        let kernels = identity.openBLASCore.lowercased().filter { $0.isLetter || $0.isNumber }
        return "\(PackageBuilder.machineLabel(environment))-\(kernels)-\(SHA256Hex.of(key).prefix(8))"
    }

    /// The shipped sweep files of the profile, as the run records them.
    public var sweepPaths: [String] {
        get throws {
            try ShippedSweeps.files(profile: profile, root: ShippedFiles.displayPath(shippedFiles.sweepsDirectory))
                + Replicator.networkFiles(ownNetworks)
        }
    }

    /// The network files and ONNX models that `paths` name: a file as it is, a directory's
    /// `*.yaml` and `*.onnx` in name order.
    ///
    /// - Throws: ``PackageError`` for a path that is neither, or a directory without networks.
    public static func networkFiles(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw PackageError("--networks \(path): no such file or directory")
            }
            guard isDirectory.boolValue else {
                files.append(path)
                continue
            }
            let found = Network.files(in: path)
            guard !found.isEmpty else {
                throw PackageError("--networks \(path): the directory holds no .yaml or .onnx")
            }
            files += found
        }
        return files
    }

    /// Checks, before anything is measured or submitted, what the last step needs: the figure
    /// script's Python with matplotlib and scikit-learn, the scripts and the README template, and
    /// an output directory that can be written. Throws naming the command that fixes it.
    public static func checkPrerequisites(shippedFiles: ShippedFiles, output: String) throws {
        let manager = FileManager.default
        let fix = shippedFiles.pythonSetUpCommand
        let python = shippedFiles.python
        guard manager.isExecutableFile(atPath: python) else {
            throw PackageError("no \(python), which draws the figures and the model table's ceiling: run \(fix)")
        }
        if let refusal = shippedFiles.refusalToRun([python]) { throw PackageError(refusal) }
        let (status, text) = try Subprocess.run(python, ["-c", "import matplotlib, sklearn"])
        guard status == 0 else {
            let reason = text.split(separator: "\n").last.map(String.init) ?? "exit \(status)"
            throw PackageError("\(python) cannot import matplotlib and scikit-learn (\(reason)): run \(fix)")
        }
        for file in [shippedFiles.figureScript, shippedFiles.ceilingScript, shippedFiles.readmeTemplate]
        where !manager.fileExists(atPath: file) {
            throw PackageError("no \(file): the installation or clone is incomplete (\(fix) restores it)")
        }
        // The nearest directory of `output` that exists must be writable.
        var existing = URL(fileURLWithPath: output).standardizedFileURL
        while !manager.fileExists(atPath: existing.path) && existing.path != "/" {
            existing.deleteLastPathComponent()
        }
        guard manager.isWritableFile(atPath: existing.path) else {
            throw PackageError(
                "cannot write the package to \(output): \(existing.path) is not writable; pass --out DIR")
        }
    }

    /// Measures what the run directory lacks (resuming an interrupted run), then builds the package.
    @discardableResult
    public func run() throws -> (RunSummary, PackageStatement) {
        let topology = try Topology()
        let label = PackageBuilder.machineLabel(
            EnvironmentSnapshot.capture(topology: topology, cpuset: topology.lastCore))
        try PackageBuilder.checkOutputDirectory(outputDirectory, machineLabel: label)
        let files = try sweepPaths
        var configurations: [SweepConfiguration] = []
        for file in files { configurations += try Sweep.load(path: file).configurations }
        var options = runOptions
        options.resume = FileManager.default.fileExists(
            atPath: (runDirectory as NSString).appendingPathComponent(PackageLayout.manifest))
        let summary = try RunDriver.run(
            sweepPaths: files, configurations: configurations, options: options, outputDirectory: runDirectory,
            toolVersion: toolVersion)
        var builder = PackageBuilder(
            runDirectories: [runDirectory], packageDirectory: outputDirectory, shippedFiles: shippedFiles,
            profile: .shipped(profile), rebuildCommand: rebuildCommand)
        builder.comparedWith = comparedWith
        builder.frameworkReference = frameworkReference
        builder.fitOptions.loss = fitLoss
        return (summary, try builder.build())
    }
}
