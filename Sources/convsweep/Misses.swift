import Analysis
import ArgumentParser
import Basics
import Foundation
import Measurement
import Replication
import Rows
import Runner

/// `convsweep misses PACKAGE`: where a model's held-out errors sit.
struct Misses: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Where a model misses: its held-out errors by tile divisibility, working set against the caches, intensity, kernel, algorithm.",
        discussion: """
            Reads a replication package's held-out predictions (fit/cv-predictions.csv: each \
            regression row predicted by the fit of the folds that did not hold it), its rows \
            (data/) and the caches its run recorded (run/manifest.json), and groups the model's \
            signed errors (predicted ÷ measured − 1) by: output channels, output positions Hₒ·Wₒ \
            and the GEMM's depth Cin/groups·K1·K2 a multiple of 4, 8, 16 or 32 or not (a \
            register tile); the working set (input, weights and output bytes) against each data \
            cache's size; the arithmetic intensity's quartiles; the kernel; the algorithm; the \
            model's group; whether the layer's sgemm calls are small enough (m·n·k ≤ 10⁶) for \
            the small-matrix kernel of OpenBLAS's AVX-512 kernel sets (every call, some, none, no \
            sgemm; the pieces under the run's workspace limit). Per bucket: rows, median error and the share within ±10%. Features come \
            largest spread first (the widest gap between two buckets' median errors, buckets of \
            \(ModelMisses.minimumBucket) rows or more): where the model's error follows something \
            the model does not know. A package built by convsweep 0.10 or later holds every \
            model's table in fit/misses.csv. Exit status 65 for a package that does not read.
            """)

    @Argument(help: ArgumentHelp("A replication package.", valueName: "package"))
    var package: String
    @Option(
        help:
            "The model (a column of fit/cv-predictions.csv: alpha, tensor-bytes, gemm-work …; default: gemm-work, else tensor-bytes, when there)."
    )
    var model: String?
    @Option(help: "How many features to print, largest spread first (default: all).")
    var top: Int?
    @Option(help: ArgumentHelp("Also write the table as CSV.", valueName: "file"))
    var csv: String?

    func run() throws {
        try requireIntactPackage(package)
        let root = URL(fileURLWithPath: package)
        let predictions = try reportingErrors {
            do { return try PackageMisses.heldOutPredictions(of: root) } catch {
                throw InputError(description: "\(package): \(error)")
            }
        }
        let name =
            model ?? ["gemm-work", "tensor-bytes"].first(where: predictions.models.contains) ?? predictions.models[0]
        guard predictions.predictedMs(by: name) != nil else {
            throw fail(
                "\(package) has no held-out predictions of \(name) (it has: \(predictions.models.joined(separator: ", ")))",
                code: ExitStatus.usage)
        }
        let analysis = try reportingErrors {
            do { return try PackageMisses.of(package: root, predictions: predictions, models: [name]) } catch {
                throw InputError(description: "\(package): \(error)")
            }
        }
        let caches = analysis.caches
        let misses = analysis.models[0]
        print(
            String(
                format: "%@ held out: %d rows, %.1f%% within ±10%%; caches %@", name, misses.count,
                100 * misses.withinTenPercent,
                caches.map { "\($0.name) \($0.bytes >> 10) KiB" }.joined(separator: ", ")))
        for feature in misses.features.prefix(top ?? misses.features.count) {
            print(String(format: "\n%@ (spread %.1f points)", feature.name, 100 * feature.spread))
            for bucket in feature.buckets {
                print(
                    "  " + bucket.value.padding(toLength: 28, withPad: " ", startingAt: 0)
                        + String(
                            format: "%5d rows  median error %+6.1f%%  %5.1f%% within ±10%%", bucket.count,
                            100 * bucket.medianError, 100 * bucket.withinTenPercent))
            }
        }
        if let csv { try write(Data(misses.csv.utf8), to: csv) }
    }
}
