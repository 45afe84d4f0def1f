import ArgumentParser
import Foundation
import Runner

/// `convsweep forget`: removes rows from a run directory so that a resume measures them again.
struct Forget: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove rows from a run directory so that a resume measures them again; the manifest records it.",
        discussion: """
            Removes the rows of the configurations named with --config (their rounds and samples \
            too), or what session N measured (--session, 1-based as the manifest's sessions: the \
            rows whose figures came from it and its rounds), and appends to the manifest's \
            `forgotten` when, why (--reason) and what. The run becomes interrupted; rerun it (or \
            `convsweep replicate` for a package's run/) to measure them again. An unknown \
            configuration or session, a missing reason or a directory in use changes nothing. \
            Exit status: 0 done, 64 bad options, 1 other failures.
            """)

    @Argument(help: ArgumentHelp("The run directory.", valueName: "run"))
    var directory: String
    @Option(
        name: .customLong("config"), parsing: .upToNextOption,
        help: ArgumentHelp("Configuration ids to forget (the config_id column).", valueName: "id"))
    var configurations: [String] = []
    @Option(help: ArgumentHelp("Forget what this session measured.", valueName: "N"))
    var session: Int?
    @Option(help: "Why (recorded in the manifest).")
    var reason: String

    func validate() throws {
        guard configurations.isEmpty != (session == nil) else {
            throw ValidationError("give either --config ID… or --session N")
        }
    }

    func run() throws {
        let selection: RunForgetter.Selection = session.map { .session($0) } ?? .configurations(configurations)
        let record = try reportingErrors { try RunForgetter.forget(selection, in: directory, reason: reason) }
        print("\(directory): forgot \(record.configurations.count) row(s); resume the run to measure them again")
    }
}
