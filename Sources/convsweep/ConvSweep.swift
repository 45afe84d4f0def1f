import ArgumentParser
import Basics
import Sweeps

@main
struct ConvSweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convsweep",
        abstract: "Measure what convolution layers cost on a CPU and refit alpha-FLOPs to it.",
        // Reading the commit runs git: only when the version is asked for.
        version: CommandLine.arguments.contains("--version") ? BuildInfo.versionLine() : BuildInfo.version,
        subcommands: [
            Measure.self, Check.self, SweepsCommand.self, Run.self, Merge.self, Fit.self, Predict.self,
            Replicate.self, Package.self, VerifyPackage.self, Forget.self, Ranks.self, Compare.self, Calibrate.self,
            BenchKernels.self, NetworksCommand.self, TopologyCommand.self, Speedup.self, Misses.self,
            MeasureWorker.self,
        ])
}
