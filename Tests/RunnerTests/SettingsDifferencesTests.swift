import Foundation
import TestSupport
import Testing

@testable import Runner

/// A resume refused for its settings names each setting that differs and both values: the named
/// settings by their words, every other recorded field by its manifest name.
@Suite struct SettingsDifferencesTests {
    /// The settings of a committed run.
    private func settings() throws -> RunManifest.Settings {
        try RunManifest.read(
            path: repositoryRoot.path + "/results/intel-r-xeon-r-processor-2pu/networks-skylakex/run/manifest.json"
        ).settings
    }

    @Test func equalSettingsDifferInNothing() throws {
        let a = try settings()
        #expect(RunManifest.Settings.differences(a, a).isEmpty)
    }

    @Test(
        arguments: [
            ("slowPhaseWait", "15", "30"), ("slowPhaseBudget", "1", "2"), ("dataSeed", "20210302", "7"),
            ("verificationSeed", nil, "7"), ("verificationSamples", nil, "9"), ("openBLASThreads", nil, "2"),
            ("evictionBytes", nil, "1024"), ("cpusetChosenBy", nil, "--cpuset"),
        ] as [(String, String?, String)])
    func everyOtherRecordedSettingIsNamedWithBothValues(field: String, before: String?, after: String) throws {
        let a = try settings()
        var b = a
        switch field {
        case "slowPhaseWait": b.slowPhaseWait = 30
        case "slowPhaseBudget": b.slowPhaseBudget = 2
        case "dataSeed": b.dataSeed = 7
        case "verificationSeed": b.verificationSeed = 7
        case "verificationSamples": b.verificationSamples = 9
        case "openBLASThreads": b.openBLASThreads = 2
        case "evictionBytes": b.evictionBytes = 1024
        default: b.cpusetChosenBy = "--cpuset"
        }
        let differences = RunManifest.Settings.differences(a, b)
        #expect(differences.count == 1, "\(differences)")
        let line = try #require(differences.first)
        #expect(line.hasPrefix("\(field) ") && line.hasSuffix(" vs \(after)"), "\(line)")
        if let before { #expect(line == "\(field) \(before) vs \(after)") }
        #expect(!differences.contains("settings differ"))
    }

    @Test func aNamedSettingKeepsItsWords() throws {
        let a = try settings()
        var b = a
        b.seed = a.seed + 1
        b.threads = 2
        #expect(
            RunManifest.Settings.differences(a, b) == ["threads \(a.threads) vs 2", "seed \(a.seed) vs \(a.seed + 1)"])
    }
}
