import Foundation
import Replication
import Rows
import Runner
import TestSupport
import Testing

/// `measure`, `fit`, `predict` and `verify-package` as a user calls them: outputs, argument
/// errors and exit statuses (64 for options, 65 for input files, 1 for a package that fails).
@Suite(.serialized) struct CommandTests {
    @Test func measurePrintsOneConfigurationAsTextOrJSON() throws {
        let text = try convsweep(["measure", "--h", "12", "--w", "10", "--cin", "4", "--cout", "6", "-k", "3"])
        #expect(text.status == 0, "\(text.standardError)")
        #expect(text.standardOutput.contains("conv2d N=1 H=12 W=10 Cin=4 Cout=6 K=3x3, im2col-gemm"))
        #expect(text.standardOutput.contains("median") && text.standardOutput.contains("over 5 runs"))
        let json = try convsweep(
            ["measure", "--h", "12", "--w", "10", "--cin", "4", "--cout", "6", "-k", "1", "--runs", "3", "--json"])
        #expect(json.status == 0, "\(json.standardError)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        #expect(object["algorithm"] as? String == "gemm-1x1")
        #expect(object["runs"] as? Int == 3)
        #expect((object["flops"] as? NSNumber)?.doubleValue == Double(2 * 12 * 10 * 4 * 6))
        #expect((object["median_ms"] as? Double ?? 0) > 0)
        // Every timed run, in order: their median is the median printed.
        let times = try #require(object["times_ms"] as? [Double])
        #expect(times.count == 3 && times.sorted()[1] == object["median_ms"] as? Double)
    }

    @Test func measureRefusesBadOptionsWith64() throws {
        for arguments in [
            ["--h", "0", "--w", "3", "--cin", "1", "--cout", "1", "-k", "1"],
            ["--h", "3", "--w", "3", "--cin", "1", "--cout", "1", "-k", "3", "--algorithm", "gemm-1x1"],
            ["--h", "3", "--w", "3", "--cin", "1", "--cout", "1", "-k", "1", "--algorithm", "winograd"],
            ["--h", "3", "--w", "3", "--cin", "1", "--cout", "1", "-k", "1", "--runs", "0"],
        ] {
            let outcome = try convsweep(["measure"] + arguments)
            #expect(outcome.status == 64, "\(arguments): \(outcome.standardError)")
            #expect(outcome.standardOutput.isEmpty)
        }
    }

    @Test func packageRefusesAProfileThatIsNotOneWith64AndWritesNothing() throws {
        let out = temporaryDirectory() + "/package"
        let outcome = try convsweep(["package", "/nonexistent/run", "--profile", "papr", "--out", out])
        #expect(outcome.status == 64, "\(outcome.standardError)")
        #expect(
            outcome.standardError.contains("papr")
                && ["quick", "paper", "full", "networks", "threads", "custom"].allSatisfy {
                    outcome.standardError.contains("- \($0)\n")
                })
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func fitAndPredictTheOriginalDataAndRefuseBadInput() throws {
        let directory = temporaryDirectory()
        let fit = directory + "/fit.json"
        let fitted = try convsweep([
            "fit", originalDataPath, "--exclude-plot", "increasing_batch", "--flops-convention", "asperti",
            "--out", fit,
        ])
        #expect(fitted.status == 0, "\(fitted.standardError)")
        #expect(fitted.standardOutput.contains("group K=1") && fitted.standardOutput.contains("group K>1"))
        #expect(FileManager.default.fileExists(atPath: fit))

        let one = try convsweep([
            "predict", "--fit", fit, "--h", "100", "--w", "100", "--cin", "50", "--cout", "100", "-k", "3",
        ])
        #expect(one.status == 0, "\(one.standardError)")
        #expect((Double(one.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0)

        let predictions = directory + "/predictions.csv"
        let errors = directory + "/errors.csv"
        let all = try convsweep([
            "predict", "--fit", fit, originalDataPath, "--exclude-plot", "increasing_batch", "--out", predictions,
            "--errors", errors,
        ])
        #expect(all.status == 0, "\(all.standardError)")
        #expect(all.standardOutput.hasPrefix("590 rows"))
        let lines = try String(contentsOfFile: predictions, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 591 && lines[0].hasSuffix("measured_ms,predicted_ms,residual_ms"))

        // A missing input and a malformed file are input errors (65) naming the file; a bad
        // filter is an option error (64); nothing is written.
        let missing = try convsweep(["fit", directory + "/none.csv", "--out", directory + "/x.json"])
        #expect(missing.status == 65 && missing.standardError.contains("none.csv"))
        let malformed = try writeTemporary("H,W,Cin,Cout,K,time_ms\n4,4,2,2,3,fast\n", name: "bad.csv")
        let bad = try convsweep(["fit", malformed, "--out", directory + "/x.json"])
        #expect(bad.status == 65 && bad.standardError.contains("bad.csv") && bad.standardError.contains("time_ms"))
        let filter = try convsweep(["fit", originalDataPath, "--exclude", "nocolumn", "--out", directory + "/x.json"])
        #expect(filter.status == 64 && filter.standardError.contains("COLUMN=VALUE"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/x.json"))
        let noFit = try convsweep([
            "predict", "--fit", directory + "/none.json", "--h", "1", "--w", "1",
            "--cin", "1", "--cout", "1", "-k", "1",
        ])
        #expect(noFit.status == 65 && noFit.standardError.contains("none.json"))
    }

    @Test func calibrateFitAnchorsEveryParameterToTheOtherMachinesFit() throws {
        // The AMD fit recalibrated for the Intel VM from its regression rows.
        let amd = repositoryRoot.appendingPathComponent("results/amd-epyc-2pu/quick/fit/alpha.json").path
        let intel = repositoryRoot.appendingPathComponent(
            "results/intel-r-xeon-r-processor-2pu/quick/data/regression.csv"
        )
        .path
        let out = temporaryDirectory() + "/intel-fit.json"
        let fit = try convsweep([
            "calibrate", "fit", "--from", amd, intel, "--refit", "all", "--anchor", "auto", "--out", out,
        ])
        #expect(fit.status == 0, "\(fit.standardError)")
        #expect(fit.standardOutput.contains("anchored with strength"))
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        let groups = try #require(report["fits"] as? [[String: Any]])
        #expect(!groups.isEmpty && groups.allSatisfy { $0["anchorStrength"] is Double })
        // A strength below 0 is refused before anything is read.
        let refused = try convsweep(["calibrate", "fit", "--from", amd, intel, "--anchor", "-1", "--out", out + "2"])
        #expect(refused.status == 64 && refused.standardError.contains("--anchor"))
        #expect(!FileManager.default.fileExists(atPath: out + "2"))
    }

    @Test func verifyPackageAcceptsTheCommittedPackageAndNamesAnEditedFile() throws {
        let committed = repositoryRoot.appendingPathComponent("results/amd-epyc-2pu/quick").path
        let accepted = try convsweep(["verify-package", committed])
        #expect(accepted.status == 0, "\(accepted.standardOutput)\(accepted.standardError)")
        #expect(accepted.standardOutput.contains("files match SHA256SUMS"))

        let copy = temporaryDirectory() + "/package"
        try FileManager.default.copyItem(atPath: committed, toPath: copy)
        let data = copy + "/data/exp-b.csv"
        var text = try String(contentsOfFile: data, encoding: .utf8)
        text += "\n"
        try text.write(toFile: data, atomically: true, encoding: .utf8)
        let refused = try convsweep(["verify-package", copy])
        #expect(refused.status == 1)
        #expect(refused.standardOutput.contains("FAIL") && refused.standardOutput.contains("data/exp-b.csv"))
        let nothing = try convsweep(["verify-package", temporaryDirectory()])
        #expect(nothing.status == 1)
    }

    /// A copy of the committed quick package whose CSV `file` has the field of `column` on data
    /// row `row` (1 = the first after the header) replaced by `replace` of it, with fresh sums;
    /// returns the copy and the edited row's fields.
    private func editedPackage(_ file: String, row: Int, column: String, _ replace: (String) -> String) throws
        -> (copy: String, fields: [String])
    {
        let copy = temporaryDirectory() + "/package"
        try FileManager.default.copyItem(
            atPath: repositoryRoot.appendingPathComponent("results/amd-epyc-2pu/quick").path, toPath: copy)
        let path = copy + "/" + file
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        let index = try #require(lines[0].split(separator: ",").firstIndex(of: Substring(column)))
        var fields = lines[row].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        fields[index] = replace(fields[index])
        lines[row] = fields.joined(separator: ",")
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        try Checksums.write(directory: URL(fileURLWithPath: copy))
        return (copy, fields)
    }

    @Test func aSeriesErrorMovedBeyondItsPredictionsToleranceFailsEvenWithFreshSums() throws {
        let (copy, fields) = try editedPackage("fit/errors.csv", row: 1, column: "rmse_ms") {
            "\((Double($0) ?? 1) * 1.001)"
        }
        let outcome = try convsweep(["verify-package", copy])
        #expect(outcome.status == 1)
        #expect(outcome.standardOutput.contains("fit/errors.csv: \(fields[0]) \(fields[1]) states RMSE"))
    }

    @Test func aMovedOrUnreadablePredictionIsNamedWithItsConfigurationOrLineEvenWithFreshSums() throws {
        // predictions.csv read back as values: a prediction moved beyond its tolerance names its
        // configuration; a field that is not a number names file, line and column.
        for (replacement, expected) in [
            ({ (value: String) in "\((Double(value) ?? 1) * 1.01)" }, "is predicted"),
            ({ (_: String) in "fast" }, "fit/predictions.csv:3: predicted_ms: expected a number, got 'fast'"),
        ] {
            let (copy, fields) = try editedPackage("fit/predictions.csv", row: 2, column: "predicted_ms", replacement)
            let outcome = try convsweep(["verify-package", copy])
            #expect(outcome.status == 1)
            #expect(outcome.standardOutput.contains(expected), "\(outcome.standardOutput)")
            if expected == "is predicted" { #expect(outcome.standardOutput.contains(fields[0])) }
        }
    }

    @Test func anUnreadableHeldOutPredictionIsNamedWithFileLineAndColumnEvenWithFreshSums() throws {
        let (copy, _) = try editedPackage("fit/cv-predictions.csv", row: 3, column: "fold") { _ in "x" }
        let outcome = try convsweep(["verify-package", copy])
        #expect(outcome.status == 1)
        #expect(
            outcome.standardOutput.contains("fit/cv-predictions.csv:4: fold: expected an integer, got 'x'"),
            "\(outcome.standardOutput)")
    }

    @Test func aParameterMovedBeyondItsConditioningFailsEvenWithFreshSums() throws {
        let copy = temporaryDirectory() + "/package"
        try FileManager.default.copyItem(
            atPath: repositoryRoot.appendingPathComponent("results/amd-epyc-2pu/quick").path, toPath: copy)
        let fit = copy + "/fit/alpha.json"
        var object = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fit))) as? [String: Any])
        var fits = try #require(object["fits"] as? [[String: Any]])
        let index = try #require(fits.firstIndex { $0["group"] as? String == "K>1" })
        var parameters = try #require(fits[index]["parameters"] as? [String: Double])
        parameters["final"]! *= 1.001
        fits[index]["parameters"] = parameters
        object["fits"] = fits
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(to: URL(fileURLWithPath: fit))
        try Checksums.write(directory: URL(fileURLWithPath: copy))
        let outcome = try convsweep(["verify-package", copy])
        #expect(outcome.status == 1)
        #expect(outcome.standardOutput.contains("fit/alpha.json: K>1 final"))
    }

    @Test func anEditedModelTableFailsEvenWithFreshSums() throws {
        for (file, edit) in [
            (
                "fit/models.json",
                { (text: String) in
                    text.replacingOccurrences(of: "\"within10Percent\" : ", with: "\"within10Percent\" : 1")
                }
            ),
            (
                "fit/cv-predictions.csv",
                { (text: String) in
                    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                    var fields = lines[1].split(separator: ",").map(String.init)
                    fields[fields.count - 2] = "\((Double(fields[fields.count - 2]) ?? 1) * 1.5)"  // data-movement_ms
                    lines[1] = fields.joined(separator: ",")
                    return lines.joined(separator: "\n")
                }
            ),
        ] {
            let copy = temporaryDirectory() + "/" + file.replacingOccurrences(of: "/", with: "-")
            try FileManager.default.copyItem(
                atPath: repositoryRoot.appendingPathComponent("results/amd-epyc-2pu/quick").path, toPath: copy)
            let path = copy + "/" + file
            try edit(try String(contentsOfFile: path, encoding: .utf8)).write(
                toFile: path, atomically: true, encoding: .utf8)
            try Checksums.write(directory: URL(fileURLWithPath: copy))
            let outcome = try convsweep(["verify-package", copy])
            #expect(outcome.status == 1, "\(file)")
            #expect(outcome.standardOutput.contains("FAIL fit/"), "\(outcome.standardOutput)")
        }
    }

    @Test func forgetRefusesBadInputWith64AndRecordsWhatItRemoves() throws {
        let run = temporaryDirectory() + "/run"
        try FileManager.default.copyItem(
            atPath: repositoryRoot.appendingPathComponent("results/amd-epyc-2pu/quick/run").path, toPath: run)
        let measurements = run + "/measurements.csv"
        let before = try String(contentsOfFile: measurements, encoding: .utf8)
        let unknown = try convsweep(["forget", run, "--config", "no-such-id", "--reason", "test"])
        #expect(unknown.status == 64 && unknown.standardError.contains("no-such-id"))
        let neither = try convsweep(["forget", run, "--reason", "test"])
        #expect(neither.status == 64)
        #expect(try String(contentsOfFile: measurements, encoding: .utf8) == before)

        let rows = try MeasurementsFile.read(path: measurements)
        let victim = try #require(rows.first { $0.status == .ok }).configID
        let forgotten = try convsweep(["forget", run, "--config", victim, "--reason", "a build shared the core"])
        #expect(forgotten.status == 0, "\(forgotten.standardError)")
        #expect(try MeasurementsFile.read(path: measurements).count == rows.count - 1)
        let manifest = try RunManifest.read(path: run + "/manifest.json")
        #expect(manifest.status == .interrupted && manifest.forgotten?.first?.configurations == [victim])
    }

    @Test func ranksPrintsTheFlopsRankingOfAPackageAndRefusesOtherInput() throws {
        let package = repositoryRoot.appendingPathComponent("results/amd-epyc-2pu/quick").path
        let csv = temporaryDirectory() + "/ranks.csv"
        let outcome = try convsweep(["ranks", package, "--csv", csv])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(outcome.standardOutput.contains("regression all"))
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(lines.first?.hasPrefix("experiment,series,n,spearman,kendall") == true && lines.count > 20)
        let empty = try convsweep(["ranks", temporaryDirectory()])
        #expect(empty.status == 65 && empty.standardError.contains("neither a run directory"))
    }

    @Test func compareJudgesTwoRunsAndRefusesRunsWithNothingInCommon() throws {
        let package = repositoryRoot.appendingPathComponent("results/amd-epyc-2pu/quick").path
        let out = temporaryDirectory() + "/cmp"
        let same = try convsweep(["compare", package, package, "--out", out])
        #expect(same.status == 0, "\(same.standardError)")
        let measured = try MeasurementsFile.read(path: package + "/run/measurements.csv").filter { $0.status == .ok }
            .count
        #expect(same.standardOutput.contains("\(measured) configurations in both"))
        let rows = try String(contentsOfFile: out + "/compare.csv", encoding: .utf8).split(separator: "\n")
        #expect(rows.count == measured + 1 && rows.dropFirst().allSatisfy { $0.contains(",no significant change,") })
        #expect(FileManager.default.fileExists(atPath: out + "/compare.json"))

        let other = temporaryDirectory()
        try "name: x\nseries:\n  - label: s\n    H: 4\n    W: 4\n    K: 1\n    Cin: 2\n    Cout: 2\n".write(
            toFile: other + "/x.yaml", atomically: true, encoding: .utf8)
        let ran = try convsweep(["run", other + "/x.yaml", "--out", other + "/run", "--quiet", "--max-seconds", "0.05"])
        #expect(ran.status == 0, "\(ran.standardError)")
        let disjoint = try convsweep(["compare", package, other + "/run", "--out", other + "/cmp"])
        #expect(disjoint.status == 1 && disjoint.standardError.contains("no measured configuration in common"))
        #expect(!FileManager.default.fileExists(atPath: other + "/cmp"))
        // Two packages of the networks: each network's time in both, and rank transfer.
        let networks = repositoryRoot.appendingPathComponent("results/intel-r-xeon-r-processor-2pu/networks").path
        let zoo = try convsweep(["compare", networks, networks, "--out", other + "/zoo"])
        #expect(zoo.status == 0, "\(zoo.standardError)")
        #expect(zoo.standardOutput.contains("networks in both (11)"))
        #expect(zoo.standardOutput.contains("Spearman 1.000  Kendall 1.000  0 of 55 pairs the other way"))
        let zooRows = try String(contentsOfFile: other + "/zoo/compare-networks.csv", encoding: .utf8)
            .split(separator: "\n")
        #expect(zooRows.count == 12 && zooRows.dropFirst().allSatisfy { $0.hasSuffix(",1.0") })
        #expect(!same.standardOutput.contains("networks in both"), "a package without networks has no such section")
        // A --sweeps-dir that holds no sweeps is refused before anything is compared.
        let noSweeps = try convsweep(["compare", networks, networks, "--sweeps-dir", temporaryDirectory()])
        #expect(noSweeps.status == 64 && noSweeps.standardError.contains("holds no sweeps"))
        #expect(noSweeps.standardOutput.isEmpty)
        let unreadable = try convsweep(["compare", package, temporaryDirectory()])
        #expect(unreadable.status == 65)

        // A package whose data were edited is refused, naming the file, and nothing is written.
        let edited = temporaryDirectory() + "/package"
        try FileManager.default.copyItem(atPath: package, toPath: edited)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: edited + "/data/exp-c.csv"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\n".utf8))
        try handle.close()
        let refused = try convsweep(["compare", package, edited, "--out", other + "/edited"])
        #expect(refused.status == 65 && refused.standardError.contains("data/exp-c.csv"))
        #expect(!FileManager.default.fileExists(atPath: other + "/edited"))
    }
}
