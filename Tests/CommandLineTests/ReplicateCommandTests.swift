import Foundation
import Measurement
import TestSupport
import Testing

/// What `replicate --dry-run` prints.
private struct Plan: Decodable {
    var packageDirectory: String
    var rebuildCommand: String
    /// The settings, compared as JSON values.
    var settings: [String: JSONValue]
}

/// Any JSON value, compared for equality.
private enum JSONValue: Decodable, Equatable {
    case number(Double)
    case text(String)
    case flag(Bool)
    case list([JSONValue])
    case object([String: JSONValue])
    case null

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .flag(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .text(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .list(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }
}

/// The plan of `replicate --dry-run arguments`, with no kernel-selecting variable set unless
/// `environment` sets one (whatever the suite's own environment holds).
private func plan(_ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]) throws
    -> Plan
{
    let cleared = Dictionary(uniqueKeysWithValues: EnvironmentSnapshot.kernelSelectionVariables.map { ($0, "") })
    let outcome = try convsweep(
        ["replicate", "--dry-run"] + arguments, in: directory, environment: cleared.merging(environment) { $1 })
    try #require(outcome.status == 0, "\(outcome.standardError)")
    return try JSONDecoder().decode(Plan.self, from: Data(outcome.standardOutput.utf8))
}

@Suite(.serialized) struct ReplicateCommandTests {
    @Test func theRebuildCommandReproducesTheRunsSettingsExactly() throws {
        let out = temporaryDirectory() + "/package"
        // A PU this process may use now (another suite's run may have bound it), which its child has.
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let allowed = try #require(status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") })
        let pu = String(allowed.split(separator: "\t").last!.split(separator: ",").last!.split(separator: "-").last!)
        let given = [
            "--profile", "quick", "--out", out, "--cpuset", pu, "--rounds", "2", "--max-seconds", "0.3",
            "--min-runs", "4", "--seed", "7", "--cache", "cold", "--keep-samples", "--round-tolerance", "0.03",
            "--algorithm", "auto", "--algorithm", "im2col-gemm", "--quiet", "--wait",
        ]
        let first = try plan(given)
        let words = first.rebuildCommand.split(separator: " ").map(String.init)
        #expect(words.first == "scripts/replicate", "\(first.rebuildCommand)")
        #expect(!first.rebuildCommand.contains("'"), "no quoting expected here: \(first.rebuildCommand)")
        for flag in ["--cpuset", "--rounds", "--max-seconds", "--min-runs", "--seed", "--cache", "--keep-samples"] {
            #expect(words.contains(flag), "\(flag) missing from \(first.rebuildCommand)")
        }
        // Neither --quiet nor --wait is a setting of the run.
        #expect(!words.contains("--quiet") && !words.contains("--wait"))
        let again = try plan(Array(words.dropFirst()))
        #expect(again.settings == first.settings)
        #expect(again.packageDirectory == first.packageDirectory)
        #expect(again.rebuildCommand == first.rebuildCommand)

        // Every other setting, each named in the rebuild command by its one flag, and read back.
        let others = [
            "--profile", "quick", "--out", out, "--runs", "5", "--order", "given", "--workspace-limit", "64",
            "--probe-slowdown", "0.2", "--slow-phase-wait", "3", "--slow-phase-budget", "0.5", "--one-process",
            "--max-rounds", "5", "--max-runs", "50", "--target", "0.02",
        ]
        let second = try plan(others)
        let secondWords = second.rebuildCommand.split(separator: " ").map(String.init)
        for flag in [
            "--runs", "--order", "--workspace-limit", "--probe-slowdown", "--slow-phase-wait", "--slow-phase-budget",
            "--one-process", "--max-rounds", "--max-runs", "--target",
        ] {
            #expect(secondWords.contains(flag), "\(flag) missing from \(second.rebuildCommand)")
        }
        #expect(try plan(Array(secondWords.dropFirst())).settings == second.settings)

        // Defaults name nothing but the profile (and the output, when given).
        let plain = try plan(["--profile", "paper", "--out", out])
        #expect(plain.rebuildCommand == "scripts/replicate --profile paper --out \(out)")
    }

    @Test func theRebuildCommandSetsTheKernelsTheRunWasToldToUse() throws {
        // OPENBLAS_CORETYPE chooses other software to measure: a rebuild without it measures
        // something else (on this project's Intel VMs, Prescott kernels instead of SkylakeX).
        let out = temporaryDirectory() + "/package"
        let told = try plan(["--profile", "quick", "--out", out], environment: ["OPENBLAS_CORETYPE": "Haswell"])
        #expect(told.rebuildCommand == "OPENBLAS_CORETYPE=Haswell scripts/replicate --profile quick --out \(out)")
        let both = try plan(
            ["--profile", "quick", "--out", out],
            environment: ["OPENBLAS_CORETYPE": "Haswell", "ONEDNN_MAX_CPU_ISA": "AVX2"])
        #expect(both.rebuildCommand.hasPrefix("ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell scripts/replicate "))
    }

    @Test func anInstallationWithoutItsPythonIsRefusedBeforeAnythingIsMeasured() throws {
        // An installed layout (PREFIX/bin, PREFIX/share/convsweep/sweeps) whose virtualenv is missing.
        let prefix = temporaryDirectory()
        let manager = FileManager.default
        try manager.createDirectory(atPath: prefix + "/bin", withIntermediateDirectories: true)
        try manager.createDirectory(atPath: prefix + "/share/convsweep", withIntermediateDirectories: true)
        let executable = try convsweepExecutable()
        if link(executable, prefix + "/bin/convsweep") != 0 {
            try manager.copyItem(atPath: executable, toPath: prefix + "/bin/convsweep")
        }
        try manager.copyItem(
            atPath: repositoryRoot.appendingPathComponent("sweeps").path, toPath: prefix + "/share/convsweep/sweeps")
        let work = temporaryDirectory()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: prefix + "/bin/convsweep")
        process.arguments = ["replicate"]
        process.currentDirectoryURL = URL(fileURLWithPath: work)
        process.environment = ProcessInfo.processInfo.environment.merging(["CONVSWEEP_LOCK_DIR": work + "/locks"]) {
            $1
        }
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1, "\(message)")
        #expect(message.contains("venv/bin/python") && message.contains("scripts/install \(prefix)"), "\(message)")
        // Nothing measured, nothing written.
        #expect(!manager.fileExists(atPath: work + "/out"))
    }
}
