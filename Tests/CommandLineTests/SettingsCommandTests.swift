import Foundation
import Runner
import TestSupport
import Testing

/// The command line takes every recorded setting from its one declaration (``RunSettings``).
@Suite struct SettingsCommandTests {
    @Test(arguments: ["run", "replicate", "sweeps list"])
    func everyDeclaredSettingIsAnOptionWithItsHelp(command: String) throws {
        let outcome = try convsweep(command.split(separator: " ").map(String.init) + ["--help"])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let help = outcome.standardOutput.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for declaration in RunSettings.all {
            #expect(help.contains(declaration.flag), "\(command) --help lacks \(declaration.flag)")
            let summary = declaration.summary.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(
                help.contains(String(summary.prefix(40))), "\(command) --help lacks the help of \(declaration.flag)")
        }
    }

    @Test func aBadValueIsRefusedWithWhatTheSettingTakes() throws {
        let outcome = try convsweep(["run", "--out", temporaryDirectory() + "/run", "x.yaml", "--rounds", "three"])
        #expect(outcome.status == 64)
        #expect(
            outcome.standardError.contains("--rounds must be a whole number, got \"three\""), "\(outcome.standardError)"
        )
    }

    @Test func aResumeWithAnotherSettingNamesItsFlagAndBothValues() throws {
        let directory = temporaryDirectory()
        try killSweep.write(toFile: directory + "/s.yaml", atomically: true, encoding: .utf8)
        let arguments = [
            "run", directory + "/s.yaml", "--out", directory + "/run", "--quiet", "--runs", "3", "--one-process",
        ]
        let first = try convsweep(arguments)
        #expect(first.status == 0, "\(first.standardError)")
        let second = try convsweep(arguments + ["--seed", "7"])
        #expect(second.status == 1)
        #expect(second.standardError.contains("seed (--seed) 20210301 vs 7"), "\(second.standardError)")
    }
}
