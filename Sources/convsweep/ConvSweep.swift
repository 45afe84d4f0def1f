import ArgumentParser

@main
struct ConvSweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convsweep",
        abstract: "Measure what convolution layers cost on a CPU and refit alpha-FLOPs to it.",
        version: convsweepVersion,
        subcommands: [
            Measure.self, Check.self, SweepsCommand.self, Run.self, Merge.self, Fit.self, Predict.self,
            Replicate.self, Package.self, VerifyPackage.self, BenchKernels.self,
        ])
}

/// The version of this tool.
let convsweepVersion = "0.1.0"
