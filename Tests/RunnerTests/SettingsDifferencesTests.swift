import Basics
import Foundation
import TestSupport
import Testing

@testable import Runner

/// A resume refused for its settings names each setting that differs and both values: a declared
/// setting by its manifest name and flag, every derived fact by its manifest name.
@Suite struct SettingsDifferencesTests {
    /// The settings of a committed run.
    private func committed() throws -> RunManifest.Settings {
        try RunManifest.read(
            path: repositoryRoot.path + "/results/intel-r-xeon-r-processor-2pu/networks-skylakex/run/manifest.json"
        ).settings
    }

    /// The settings a session records with the options `given` (texts by setting name).
    private func recorded(_ given: [String: [String]]) throws -> RunManifest.Settings {
        RunManifest.Settings(
            options: try RunOptions(given: given), cpuset: [1], evictionBytes: nil, openBLASThreads: 1)
    }

    /// A value other than the default of every setting recorded by name. A setting declared
    /// without one here fails ``everyRecordedSettingHasACase()``.
    static let otherValues: [String: [String]] = [
        "threads": ["2"], "placement": ["spread"], "places": ["threads"], "order": ["given"], "seed": ["7"],
        "cache": ["cold"], "keepSamples": ["true"],
        "workspaceLimit": ["64"], "rounds": ["5"], "roundTolerance": ["0.05"], "probeSlowdown": ["0.2"],
        "slowPhaseWait": ["30"], "slowPhaseBudget": ["2"], "algorithms": ["im2col-gemm"],
    ]

    @Test func equalSettingsDifferInNothing() throws {
        let a = try committed()
        #expect(RunManifest.Settings.differences(a, a).isEmpty)
        #expect(try RunManifest.Settings.differences(recorded([:]), recorded([:])).isEmpty)
    }

    @Test func everyRecordedSettingHasACase() {
        let declared = Set(RunSettings.all.compactMap(\.manifestKey))
        #expect(declared == Set(Self.otherValues.keys))
    }

    @Test(arguments: RunSettings.all.compactMap(\.manifestKey))
    func aDeclaredSettingIsNamedWithItsFlagAndBothValues(key: String) throws {
        let declaration = try #require(RunSettings.all.first { $0.manifestKey == key })
        let value = try #require(Self.otherValues[key])
        let a = try recorded([:])
        let b = try recorded([key: value])
        let differences = RunManifest.Settings.differences(a, b)
        let line = try #require(differences.first { $0.hasPrefix("\(key) (\(declaration.flag)) ") }, "\(differences)")
        let before = a.declared[key] ?? declaration.whenAbsent
        let after = try #require(b.declared[key])
        #expect(line == "\(key) (\(declaration.flag)) \(before?.description ?? "absent") vs \(after)")
        #expect(!differences.contains("settings differ"))
    }

    @Test(
        arguments: [
            ("dataSeed", "20210302", "7"), ("verificationSeed", nil, "7"), ("verificationSamples", nil, "9"),
            ("openBLASThreads", nil, "2"), ("evictionBytes", nil, "1024"), ("cpusetChosenBy", nil, "\"--cpuset\""),
            ("maxRounds", nil, "9"),
        ] as [(String, String?, String)])
    func aDerivedFactIsNamedWithBothValues(field: String, before: String?, after: String) throws {
        let a = try committed()
        var b = a
        switch field {
        case "dataSeed": b.dataSeed = 7
        case "verificationSeed": b.verificationSeed = 7
        case "verificationSamples": b.verificationSamples = 9
        case "openBLASThreads": b.openBLASThreads = 2
        case "evictionBytes": b.evictionBytes = 1024
        case "maxRounds": b.maxRounds = 9
        default: b.cpusetChosenBy = "--cpuset"
        }
        let differences = RunManifest.Settings.differences(a, b)
        #expect(differences.count == 1, "\(differences)")
        let line = try #require(differences.first)
        #expect(line.hasPrefix("\(field) ") && line.hasSuffix(" vs \(after)"), "\(line)")
        if let before { #expect(line == "\(field) \(before) vs \(after)") }
    }

    @Test func aStopRuleSettingIsNamedThroughTheRule() throws {
        let differences = try RunManifest.Settings.differences(recorded([:]), recorded(["target": ["0.05"]]))
        #expect(differences.contains { $0.hasPrefix("stopRule ") && $0.contains("0.05") }, "\(differences)")
        #expect(differences.contains { $0.hasPrefix("stopRuleDescription ") }, "\(differences)")
    }

    @Test func aManifestWrittenBeforeASettingWasRecordedStandsForItsOldValue() throws {
        var a = try recorded(["rounds": ["1"]])
        a.declared["rounds"] = nil
        #expect(RunManifest.Settings.differences(a, try recorded(["rounds": ["1"]])).isEmpty)
        #expect(a.rounds == 1)
    }

    @Test func theSettingsRoundTripThroughTheManifestsJSON() throws {
        let settings = try recorded([
            "threads": ["2"], "seed": ["18446744073709551615"], "algorithms": ["auto", "im2col-gemm"],
        ])
        let data = try JSONEncoder().encode(settings)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["threads"] as? Int == 2 && object["cpuset"] as? String == "1")
        #expect(try JSONDecoder().decode(RunManifest.Settings.self, from: data) == settings)
        #expect(settings.value("seed", as: UInt64.self) == UInt64.max)
    }

    @Test func aRecordedValueOfTheWrongKindIsRefused() throws {
        let data = try JSONEncoder().encode(try recorded([:]))
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        object["threads"] = "many"
        let hostile = try JSONSerialization.data(withJSONObject: object)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(RunManifest.Settings.self, from: hostile) }
    }

    @Test func aBadTextNamesTheSettingAndWhatItTakes() {
        #expect(throws: RunError.badSetting(.threads, "must be a count or a list of counts (1,2,4,all), got \"two\"")) {
            try RunOptions(given: ["threads": ["two"]])
        }
        #expect(throws: RunError.badSetting("rounds", "must be from 1 to 100, got 0")) {
            try RunOptions(given: ["rounds": ["0"]])
        }
        #expect(throws: RunError.badSetting("maxRounds", "must be from the rounds (3) to 1000, got 2")) {
            try RunOptions(given: ["maxRounds": ["2"]])
        }
    }

    @Test func aProfilesDefaultsLiveBelowTheCommandLine() throws {
        let quick = try RunOptions(given: ["rounds": ["4"]], defaults: .profile(.quick))
        #expect(quick.maxSeconds == 0.5 && quick.slowPhaseBudget == 0.25 && quick.maxRounds == 5)
        #expect(RunOptions(profile: .quick).maxRounds == 4)
        #expect(try RunOptions(given: [:]).maxRounds == nil)
    }

    @Test func rebuildArgumentsGiveWhatDiffersFromTheDefaults() throws {
        let options = try RunOptions(given: ["threads": ["2"], "keepSamples": ["true"], "algorithms": ["im2col-gemm"]])
        #expect(
            RunSettings.rebuildArguments(options, baseline: try RunOptions(given: [:]))
                == ["--threads", "2", "--keep-samples", "--algorithm", "im2col-gemm"])
        #expect(!RunSettings.slurmArguments(options).contains("--cpuset"))
    }
}
