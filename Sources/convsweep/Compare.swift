import Analysis
import ArgumentParser
import Basics
import Foundation
import Replication
import Rows
import Runner
import Sweeps

/// `convsweep compare A B`: did B make each configuration faster or slower than A, for real?
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Compare two runs or packages configuration by configuration: ratios with intervals, verdicts, ranks.",
        discussion: """
            Configurations match by id. Per configuration: the ratio of B's time to A's with a 95% \
            interval and a verdict at alpha = 0.05 (faster, slower, no significant change) from \
            Welch's t-test on the logarithms of each run's clean round medians, each side's variance \
            raised by the noise floor squared, the run-to-run noise that the rounds of one run do not \
            see. The floor is estimated from the two runs (how far the configurations' ratios scatter \
            about their median beyond what their rounds explain; at least 1%, at most 5%: a wider \
            scatter is B changing configurations by different amounts, not noise) unless \
            --noise-floor gives it. Where both runs have drift-probe readings, the probe's median rate of B over \
            A's says whether the machine ran at another speed, and the overall ratio is shown \
            normalised by it too (time ∝ rate^-0.75). Per series, per experiment and overall: the geometric mean of the ratios with its \
            95% interval (the spread of the log ratios, plus the noise floor of both runs, which a \
            shift of a whole run shares with every configuration) and the counts. Per experiment and overall: Spearman's rho and Kendall's \
            tau-b of the two runs' times, and the share of each series' k fastest configurations in \
            A that are among its k fastest in B. Networks: for every network of the sweeps directory whose \
            layers both hold (a networks run or package), its time in A and in B (the sum over its \
            layers of count × time, with the rounds' interval), B/A, and how B's network times order \
            the networks against A's (rank transfer: Spearman, Kendall, pairs the other way — of all \
            and of those A's rounds separate —, networks displaced by two places or more). Writes \
            compare.csv, compare.json (and compare-networks.csv) with --out. \
            Exit status: 0, 64 bad options, 65 an input that does not read (a rounds.csv with a \
            round twice among them), 1 no configuration in common or a run holding one twice.
            """)

    @Argument(help: ArgumentHelp("The reference: a run directory or a replication package.", valueName: "A"))
    var a: String
    @Argument(help: ArgumentHelp("The one compared with it.", valueName: "B"))
    var b: String
    @Option(
        help: ArgumentHelp(
            "Where to write compare.csv, compare.json and, when both hold networks, compare-networks.csv.",
            valueName: "dir"))
    var out: String?
    @Option(
        help:
            "Relative run-to-run noise added to each side's variance (0 for rounds alone; default: estimated from the two runs, at least 0.01 and at most 0.05)."
    )
    var noiseFloor: Double?
    @Option(help: ArgumentHelp("The k of the top-k agreement.", valueName: "k"))
    var topK: Int = 5
    @OptionGroup var sweepsDirectory: SweepsDirectoryOption

    func validate() throws {
        if let noiseFloor, !(noiseFloor >= 0 && noiseFloor < 1) {
            throw ValidationError("--noise-floor must be in [0, 1), got \(noiseFloor)")
        }
        guard topK >= 1 else { throw ValidationError("--top-k must be at least 1, got \(topK)") }
    }

    func run() throws {
        try requireIntactPackage(a)
        try requireIntactPackage(b)
        // Networks where the sweeps directory holds them (none where no sweeps directory is found,
        // unless --sweeps-dir named one).
        let shipped =
            sweepsDirectory.path == nil ? try? sweepsDirectory.shippedFiles() : try sweepsDirectory.shippedFiles()
        var networks: [Network] = []
        if let directory = shipped?.networksDirectory,
            FileManager.default.fileExists(atPath: directory)
        {
            networks = try reportingErrors { try Network.loadAll(directory: directory) }
        }
        let (rowsA, roundsA) = try reportingErrors { try read(a) }
        let (rowsB, roundsB) = try reportingErrors { try read(b) }
        let comparison = try reportingErrors {
            try RunComparison(
                a: rowsA, roundsA: roundsA, b: rowsB, roundsB: roundsB, noiseFloor: noiseFloor,
                probeRatesA: try MeasurementSource.probeRates(at: a),
                probeRatesB: try MeasurementSource.probeRates(at: b),
                topK: topK)
        }
        print(comparisonText(comparison))
        let transfer = NetworkTransfer(networks: networks, a: rowsA, b: rowsB)
        if !transfer.rows.isEmpty { print("\n" + networkTransferText(transfer)) }
        if let out {
            do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) } catch {
                throw fail("cannot create \(out): \(error.localizedDescription)", code: ExitStatus.cannotCreate)
            }
            do { try ComparisonFiles.write(comparison, to: URL(fileURLWithPath: out)) } catch {
                throw fail("cannot write into \(out): \(error.localizedDescription)", code: ExitStatus.cannotCreate)
            }
            print("wrote \(out)/compare.csv and \(out)/compare.json")
            if !transfer.rows.isEmpty {
                do { try ComparisonFiles.write(transfer, to: URL(fileURLWithPath: out)) } catch {
                    throw fail("cannot write into \(out): \(error.localizedDescription)", code: ExitStatus.cannotCreate)
                }
                print("wrote \(out)/compare-networks.csv")
            }
            do {
                try FigureScript.drawComparison(URL(fileURLWithPath: out), shippedFiles: ShippedFiles.forFigures())
                print("wrote \(out)/ratio-vs-flops.png and .svg")
            } catch {
                FileHandle.standardError.write(Data("warning: no figure drawn: \(error)\n".utf8))
            }
        }
    }

    private func read(_ path: String) throws -> ([MeasurementRow], [MeasurementRow]) {
        do { return (try MeasurementSource.rows(at: path), try MeasurementSource.rounds(at: path)) } catch {
            throw InputError(description: "\(error)")
        }
    }
}

/// The text `convsweep compare` prints.
func comparisonText(_ c: RunComparison) -> String {
    func f(_ x: Double, _ format: String = "%.3f") -> String { x.isNaN ? "–" : String(format: format, x) }
    func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let clipped = String(text.prefix(width))
        let fill = String(repeating: " ", count: width - clipped.count)
        return right ? fill + clipped : clipped + fill
    }
    var lines: [String] = []
    lines.append(
        "\(c.configurations.count) configurations in both (\(c.onlyInA) only in A, \(c.onlyInB) only in B); "
            + "ratios B/A, 95% intervals, alpha = 0.05, noise floor \(f(100 * c.noiseFloor, "%.1f"))% per run ("
            + (c.noiseFloorSource == "given"
                ? "given"
                : "estimated from the two runs: \(f(100 * (c.estimatedNoiseFloor ?? 0), "%.1f"))% beyond their rounds, at least 1%, at most 5%")
            + ")")
    if c.noiseFloorSource == "estimated, capped" {
        lines.append(
            "the configurations' ratios scatter by more than runs of one build do: B changed them by different amounts")
    }
    if let probe = c.probeRatio, let normalised = c.probeNormalisedGeometricMeanRatio {
        lines.append(
            "the drift probe read the machine at \(f(probe)) × A's speed during B"
                + (abs(probe - 1) > 0.02 ? " (it ran at another speed)" : "")
                + "; overall geomean B/A normalised by it: \(f(normalised))")
    }
    lines.append(
        pad("experiment", 11) + pad("series", 16) + pad("n", 5, right: true) + pad("geomean B/A", 13, right: true)
            + pad("95% interval", 18, right: true) + pad("faster", 8, right: true) + pad("slower", 8, right: true)
            + pad("no change", 10, right: true))
    for g in c.groups {
        lines.append(
            pad(g.experiment, 11) + pad(g.series, 16) + pad("\(g.n)", 5, right: true)
                + pad(f(g.geometricMeanRatio), 13, right: true) + pad("[\(f(g.low)), \(f(g.high))]", 18, right: true)
                + pad("\(g.faster)", 8, right: true) + pad("\(g.slower)", 8, right: true)
                + pad("\(g.unchanged)", 10, right: true))
    }
    lines.append("")
    lines.append(
        pad("ranks", 11) + pad("", 16) + pad("n", 5, right: true) + pad("Spearman", 13, right: true)
            + pad("Kendall", 18, right: true) + pad("top-\(c.rankings.first?.k ?? 0)", 8, right: true))
    for r in c.rankings {
        lines.append(
            pad(r.experiment, 11) + pad("", 16) + pad("\(r.n)", 5, right: true) + pad(f(r.spearman), 13, right: true)
                + pad(f(r.kendall), 18, right: true) + pad(f(100 * r.topKAgreement, "%.0f%%"), 8, right: true))
    }
    return lines.joined(separator: "\n")
}

/// The networks part of `convsweep compare`: each network's time in A and B, and rank transfer.
func networkTransferText(_ t: NetworkTransfer) -> String {
    let width = max(12, (t.rows.map(\.network.count).max() ?? 0) + 2)
    var lines = ["networks in both (\(t.rows.count)): time in ms with the rounds' interval, B/A"]
    for r in t.rows {
        lines.append(
            "  " + r.network.padding(toLength: width, withPad: " ", startingAt: 0)
                + String(
                    format: "A %10.3f [%.3f–%.3f]   B %10.3f [%.3f–%.3f]   %.3f", r.a.milliseconds,
                    r.a.lowMilliseconds, r.a.highMilliseconds, r.b.milliseconds, r.b.lowMilliseconds,
                    r.b.highMilliseconds, r.ratio))
    }
    if let r = t.ranking {
        lines.append(
            String(
                format:
                    "how B's times order the networks against A's: Spearman %.3f  Kendall %.3f  %d of %d pairs the other way (%d of the %d that A's rounds separate)",
                r.spearman, r.kendall, r.discordantPairs, r.pairs, r.resolvedDiscordantPairs ?? 0, r.resolvedPairs ?? 0)
                + "  displaced by 2 or more: " + (r.displaced.isEmpty ? "none" : r.displaced.joined(separator: ", ")))
    }
    return lines.joined(separator: "\n")
}
