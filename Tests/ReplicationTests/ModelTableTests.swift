import Basics
import ConvKernels
import Foundation
import Sweeps
import TestSupport
import Testing

@testable import AlphaFit
@testable import Replication

/// Shipped files whose "virtualenv" is a Python without site-packages: no numpy, no scikit-learn.
private func filesWithoutScikitLearn() throws -> ShippedFiles {
    let root = temporaryDirectory("noSklearn")
    try FileManager.default.createDirectory(atPath: root + "/python", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: root + "/.venv/bin", withIntermediateDirectories: true)
    // The script and the reader it imports, as an installation ships them.
    for script in ["ceiling.py", "convsweep_rows.py"] {
        try FileManager.default.copyItem(
            atPath: repositoryRoot.appendingPathComponent("python/" + script).path, toPath: root + "/python/" + script)
    }
    let python = root + "/.venv/bin/python"
    try "#!/bin/sh\nexec /usr/bin/env python3 -S \"$@\"\n".write(toFile: python, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: python)
    return ShippedFiles(root: root, layout: .sourceTree)
}

/// Rows of a data-movement world with 2% noise, and their file.
private func movementRows(count: Int) -> [FitRow] {
    var generator = SplitMix64(seed: 5)
    let sizes = [2, 4, 8, 16, 32, 64]
    let channels = [8, 16, 32, 64, 128]
    return (0..<count).map { i in
        let k = [1, 3, 5][i % 3]
        let shape = ConvShape(
            height: sizes.randomElement(using: &generator)!, width: sizes.randomElement(using: &generator)!,
            inputChannels: channels.randomElement(using: &generator)!,
            outputChannels: channels.randomElement(using: &generator)!, kernel: k)
        let a = Accounting(shape: shape)
        let exact = 20 * a.flops / 1e9 + 50 * Double(a.movedBytes) / 1e9 + 0.01
        let noise = 1 + 0.02 * (Double(generator.next() % 2001) / 1000 - 1)
        return FitRow(shape: shape, timeMs: exact * noise, carried: ["config_id": "c\(i)"], row: i + 2)
    }
}

private func dataset(_ rows: [FitRow]) -> FitDataset {
    FitDataset(
        inputs: [FitInput(path: "rows", file: "rows", kind: "csv", sha256: "", rowsUsed: rows.count, rowsExcluded: 0)],
        rows: rows, carriedColumns: ["config_id"])
}

struct PackageModelTableTests {
    /// A model the networks' sample cannot fit is said (the README states why) with the files'
    /// names, not the directory the package was built in: a package verifies wherever it is.
    @Test func aModelTheSampleCannotFitIsSaidWithoutWhereThePackageWas() throws {
        // Three pointwise layers: too few for alpha-channels' five parameters in their group.
        var rows = movementRows(count: 90).filter { $0.shape.kernelSize > 1 }
        rows += movementRows(count: 9).filter { $0.shape.kernelSize == 1 }
        let files = ["/built/here/package/data/regression.csv", "/built/here/package/data/layers.csv"]
        let data = FitDataset(
            inputs: files.map {
                FitInput(path: $0, file: $0, kind: "csv", sha256: "", rowsUsed: rows.count, rowsExcluded: 0)
            }, rows: rows, carriedColumns: ["config_id"])
        let (fits, notFitted) = NetworkTable.fitting(
            [.flops, .alphaChannels], on: data, options: FitOptions(loss: .relative))
        #expect(fits.map(\.model) == [.flops])
        let reason = try #require(notFitted["alpha-channels"])
        #expect(reason.hasPrefix("regression.csv, layers.csv") && !reason.contains("/built"), "\(reason)")
    }

    @Test func withoutScikitLearnTheCeilingIsUnavailableAndSaysWhy() throws {
        let rows = movementRows(count: 60)
        let outcome = TreeCeiling.predict(
            rows: rows, folds: rows.indices.map { $0 % 5 }, shippedFiles: try filesWithoutScikitLearn())
        guard case .unavailable(let reason) = outcome else {
            Issue.record("the ceiling ran without scikit-learn")
            return
        }
        #expect(reason.contains("scikit-learn is not installed"), "\(reason)")
        // The table still holds every parametric model and states the ceiling as unavailable.
        let built = try ModelTable.build(
            dataset: dataset(rows), options: FitOptions(loss: .relative), shippedFiles: try filesWithoutScikitLearn())
        #expect(
            built.table.entries.map(\.model) == ["alpha", "alpha-channels", "data-movement", "tensor-bytes", "flops"])
        #expect(!built.table.hasCeiling && built.table.ceiling.hasPrefix("unavailable: "))
        #expect(built.table.text.contains("ceiling: unavailable"))
        #expect(
            built.predictions.table.header.suffix(5) == [
                "alpha_ms", "alpha-channels_ms", "data-movement_ms", "tensor-bytes_ms", "flops_ms",
            ])
        #expect(built.predictions.rows.count == 60)
        // cv-predictions.csv reads back as the values it was written from.
        let file = temporaryDirectoryURL().appendingPathComponent("cv-predictions.csv")
        defer { try? FileManager.default.removeItem(at: file) }
        try built.predictions.table.write(to: file)
        #expect(try HeldOutPredictions.read(from: file, name: "cv-predictions.csv") == built.predictions)
    }

    @Test func theTreesLearnTheTimesWhenScikitLearnIsThere() throws {
        let files = ShippedFiles(root: repositoryRoot.path, layout: .sourceTree)
        let rows = movementRows(count: 300)
        let folds = rows.indices.map { $0 % 5 }
        switch TreeCeiling.predict(rows: rows, folds: folds, shippedFiles: files) {
        case .unavailable(let reason):
            // scripts/test creates the virtualenv with scikit-learn: its absence is a failure there.
            Issue.record("the ceiling is unavailable: \(reason)")
        case .predictions(let predicted, let model):
            #expect(model.contains("scikit-learn"))
            let metrics = PredictionMetrics(measured: rows.map(\.timeMs), predicted: predicted)
            #expect(metrics.n == 300 && metrics.within25Percent > 50, "\(metrics)")
        }
    }
}
