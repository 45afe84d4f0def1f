import ArgumentParser
import Foundation
import Sweeps

/// `convsweep sweeps`: look at sweep files without measuring anything.
struct SweepsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweeps",
        abstract: "Inspect sweep files: what they contain and what measuring them costs.",
        discussion: """
            A sweep file (YAML, described in sweeps/README.md) names the conv2d configurations of one \
            experiment. A file that cannot be loaded is reported as FILE:LINE:COLUMN: FIELD: MESSAGE \
            on standard error, with exit status 65.
            """,
        subcommands: [SweepsList.self, SweepsExpand.self, SweepsEstimate.self])
}
