import Foundation
import TestSupport
import Testing

/// A copy of the committed quick package's run, to be edited.
private func copiedRun(_ name: String = #function) throws -> String {
    let directory = temporaryDirectory(name) + "/run"
    try FileManager.default.copyItem(
        atPath: repositoryRoot.path + "/results/amd-epyc-2pu/quick/run", toPath: directory)
    return directory
}

/// Replaces the first `old` in `path` by `new`.
private func replace(_ old: String, _ new: String, in path: String) throws {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let range = try #require(text.range(of: old), "\(path) holds no '\(old)'")
    try text.replacingCharacters(in: range, with: new).write(toFile: path, atomically: true, encoding: .utf8)
}

/// The audit's hostile files, each a clear error (exit 64 or 65) within seconds: never a signal,
/// a hang or a silent acceptance; and a seeded fuzz campaign over sweep files, run directories
/// and packages (`benchmarks/fuzz-inputs`, a subset).
@Suite struct HostileInputTests {
    @Test func aSweepValueBeyondIntIsAnErrorNamingItsLineNotACrash() throws {
        let path = temporaryDirectory() + "/big.yaml"
        let text = try String(contentsOfFile: repositoryRoot.path + "/sweeps/quick/exp-a.yaml", encoding: .utf8)
        let edited = text.replacingOccurrences(
            of: #"(?m)^(\s*H: ).*$"#, with: "$12 * 9223372036854775807", options: .regularExpression)
        try edited.write(toFile: path, atomically: true, encoding: .utf8)
        let outcome = try convsweep(["sweeps", "expand", path])
        #expect(!outcome.signalled && outcome.status == 65, "\(outcome.standardError)")
        #expect(outcome.standardError.contains("gives 1.8446744073709552e+19"), "\(outcome.standardError)")
    }

    @Test func aDuplicatedColumnIsRefusedByEveryReaderNamingFileLineAndColumn() throws {
        let run = try copiedRun()
        try replace("config_id,", "config_id,config_id,", in: run + "/measurements.csv")
        let out = temporaryDirectory()
        for arguments in [
            ["fit", run, "--out", out + "/fit.json"], ["ranks", run], ["merge", run, "--out", out + "/merged"],
            ["compare", run, repositoryRoot.path + "/results/amd-epyc-2pu/quick/run"],
            [
                "predict", "--fit", repositoryRoot.path + "/results/amd-epyc-2pu/quick/fit/alpha.json", run, "--out",
                out + "/p.csv",
            ],
        ] {
            let outcome = try convsweep(arguments)
            #expect(!outcome.signalled && outcome.status == 65, "\(arguments[0]): \(outcome.standardError)")
            #expect(
                outcome.standardError.contains("column 2")
                    && outcome.standardError.contains("'config_id' a second time"),
                "\(arguments[0]): \(outcome.standardError)")
        }
    }

    @Test func impossibleTimesAreRefusedNotMergedOrCompared() throws {
        for (value, reason) in [
            ("nan", "not a finite number"), ("-5", "not a positive number"), ("0", "not a positive number"),
            ("1e308", "more than a measurement can take"),
        ] {
            let run = try copiedRun("times\(value.filter(\.isLetter))\(value.count)")
            let path = run + "/measurements.csv"
            var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
            let header = lines[0].split(separator: ",", omittingEmptySubsequences: false)
            let median = try #require(header.firstIndex(of: "median_ms"))
            var fields = lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            fields[median] = value
            lines[1] = fields.joined(separator: ",")
            try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            let merged = try convsweep(["merge", run, "--out", temporaryDirectory() + "/merged"])
            #expect(
                merged.status == 65 && merged.standardError.contains("column median_ms: '\(value)'"),
                "\(merged.standardError)")
            #expect(merged.standardError.contains(reason), "\(merged.standardError)")
            let compared = try convsweep(["compare", repositoryRoot.path + "/results/amd-epyc-2pu/quick/run", run])
            #expect(compared.status == 65, "\(compared.standardError)")
        }
    }

    @Test func aConfigurationTwiceIsRefusedByFitAsByMerge() throws {
        let run = try copiedRun()
        let path = run + "/measurements.csv"
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        try ([lines[0], lines[1], lines[1]] + lines.dropFirst(2)).joined(separator: "\n").appending("\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let outcome = try convsweep(["fit", run, "--out", temporaryDirectory() + "/fit.json"])
        #expect(outcome.status == 65, "\(outcome.standardError)")
        #expect(outcome.standardError.contains("row 3, column config_id"), "\(outcome.standardError)")
        #expect(outcome.standardError.contains("is also"), "\(outcome.standardError)")
    }

    @Test func absurdFitOptionsAndParametersAreRefused() throws {
        let run = repositoryRoot.path + "/results/amd-epyc-2pu/quick/run"
        let starts = try convsweep(["fit", run, "--starts", "1000000000", "--out", temporaryDirectory() + "/f.json"])
        #expect(starts.status == 65 && starts.standardError.contains("from 0 to 256"), "\(starts.standardError)")
        let twice = try convsweep([
            "predict", "--parameters", "K>1:beta=1,beta=2,gamma=1,final=1", "--h", "8", "--w", "8", "--cin", "4",
            "--cout", "4", "-k", "3",
        ])
        #expect(twice.status == 65 && twice.standardError.contains("beta is given twice"), "\(twice.standardError)")
        let bogus = try convsweep([
            "predict", "--parameters", "K>1:beta=1,gamma=1,final=1,bogus=3", "--h", "8", "--w", "8", "--cin", "4",
            "--cout", "4", "-k", "3",
        ])
        #expect(
            bogus.status == 65 && bogus.standardError.contains("bogus: not a parameter of the alpha model"),
            "\(bogus.standardError)")
    }

    @Test func aPackageOfAnUnknownFormatVersionExitsWith65() throws {
        let package = temporaryDirectory() + "/package"
        try FileManager.default.copyItem(
            atPath: repositoryRoot.path + "/results/amd-epyc-2pu/quick", toPath: package)
        try replace("\"formatVersion\" : 1", "\"formatVersion\" : 3", in: package + "/package.json")
        let sums = package + "/SHA256SUMS"
        let text = try String(contentsOfFile: sums, encoding: .utf8)
        let digest = try #require(
            try convsweepSHA256(package + "/package.json"))
        let edited = text.split(separator: "\n").map {
            $0.hasSuffix("  package.json") ? "\(digest)  package.json" : String($0)
        }
        try (edited.joined(separator: "\n") + "\n").write(toFile: sums, atomically: true, encoding: .utf8)
        let outcome = try convsweep(["verify-package", package])
        #expect(outcome.status == 65, "\(outcome.standardOutput) \(outcome.standardError)")
        #expect(outcome.standardOutput.contains("format version 3; this convsweep reads version 1, 2"))
    }

    @Test func aSeededFuzzCampaignEndsEveryProcessWithAnExitStatusAndVerifiesNoEditedPackage() throws {
        let report = temporaryDirectory() + "/fuzz.json"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", repositoryRoot.path + "/benchmarks/fuzz_inputs.py", "--binary", try convsweepExecutable(),
            "--sweeps", "60", "--runs", "40", "--packages", "12", "--seed", "7", "--timeout", "30", "--json",
        ]
        #expect(FileManager.default.createFile(atPath: report, contents: nil))
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: report))
        try process.run()
        process.waitUntilExit()
        let data = try Data(contentsOf: URL(fileURLWithPath: report))
        let result = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let failures = try #require(result["failures"] as? [[String: Any]])
        #expect(failures.isEmpty, "\(failures)")
        let counts = try #require(result["counts"] as? [String: [String: Int]])
        #expect(counts["sweeps"]?.values.reduce(0, +) == 60)
        #expect(counts["runs"]?.values.reduce(0, +) == 40)
        #expect(process.terminationStatus == 0)
    }
}

/// The SHA-256 of a file, as `sha256sum` prints it.
private func convsweepSHA256(_ path: String) throws -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    process.arguments = [path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return text.split(separator: " ").first.map(String.init)
}
