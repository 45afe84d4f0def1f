import ArgumentParser
import Foundation
import Sweeps

/// `convsweep sweeps expand FILE`: every configuration of a sweep file.
struct SweepsExpand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expand",
        abstract: "Print every configuration of a sweep file, dropped ones with the reason.",
        discussion: """
            Configurations come in the file's order: series in order, then nested loops over \
            H, W, Cin, Cout, K (or K1, K2), batch, H slowest; a sampled file lists only the drawn \
            configurations. The status column is `ok` or why a limit dropped the configuration.

            With --csv the header is exactly experiment,series,H,W,Cin,Cout,K1,K2,batch,flops,status \
            (--ids puts a config_id column first). FLOPs count 2 per multiply-add.
            """)

    @Argument(help: ArgumentHelp("The sweep file (YAML).", valueName: "file"))
    var file: String

    @Flag(help: "Print CSV instead of a table.")
    var csv = false

    @Flag(help: "With --csv, put a config_id column first.")
    var ids = false

    func run() throws {
        let sweep = try reportingErrors { try Sweep.load(path: file) }
        let header = SweepCSV.header(for: sweep.configurations)
        let layer = header.count > SweepCSV.header.count
        if csv {
            print(SweepCSV.line((ids ? ["config_id"] : []) + header))
            for configuration in sweep.configurations {
                print(SweepCSV.line((ids ? [configuration.id] : []) + SweepCSV.fields(configuration, layer: layer)))
            }
            return
        }
        printTable(
            header: ["config_id"] + header,
            rows: sweep.configurations.map { [$0.id] + SweepCSV.fields($0, layer: layer) }, leftAligned: [0, 1, 2, 11])
        let measured = sweep.configurations.filter(\.isMeasured).count
        print(
            "\(sweep.configurations.count) configurations (\(measured) measured, "
                + "\(sweep.configurations.count - measured) dropped) of \(sweep.expansionCount) in the expansion")
    }
}
