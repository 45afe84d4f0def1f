import ArgumentParser
import Foundation
import Runner

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join run directories (the shards of a sweep) into a new one.",
        discussion: """
            The manifests must agree on the sweeps (by SHA-256), the CPU model, the OpenBLAS build, \
            the build configuration and every setting but --shard (and a cpuset each chose by \
            default); host names and boots may differ. Shards whose machines differ (CPU flags, \
            microcode, kernel set) are refused unless \
            --accept-machine-change, which the manifest records; reference rates more than 10% apart \
            (each shard's first session's, read over all its probe readings as a resume reads \
            it; a busy SMT sibling, another node) are a warning. Each configuration must appear in \
            only one directory. --out must not exist or be empty. The merged manifest lists the \
            directories joined with each one's host, cpuset and machine identity; its status is \
            complete when every configuration of the sweeps has a row, else partial.
            """)

    @Argument(help: "Run directories to join.")
    var directories: [String]

    @Option(help: ArgumentHelp("The new run directory.", valueName: "dir"))
    var out: String
    @Flag(
        name: .customLong("accept-machine-change"),
        help: "Join shards measured on machines that differ (CPU, flags, microcode, kernel set, speed); recorded.")
    var acceptMachineChange = false

    func run() throws {
        let manifest = try reportingErrors {
            try RunMerger.merge(directories: directories, into: out, acceptMachineChange: acceptMachineChange)
        }
        let rows = manifest.mergedFrom?.map(\.rows).reduce(0, +) ?? 0
        print("\(out): \(rows) row(s) from \(directories.count) run(s); \(manifest.status)")
    }
}
