import AlphaFit
import Analysis
import Basics
import Foundation
import Measurement
import Mustache
import Rows
import Runner

/// The generated README.md of a replication package: `templates/package-readme.mustache`
/// (a shipped file, edited as text) rendered with swift-mustache from the package's typed
/// statement, manifest and fit. The values are numbers, flags and names; the template formats
/// them with the transforms of ``ReadmeNumber`` (`{{sig(value)}}`, `{{percent1(share)}}`).
struct PackageReadme {
    var statement: PackageStatement
    var manifest: RunManifest
    var runCount: Int
    var fit: FitReport
    var errors: [PackagePredictions.SeriesError]
    var figureIndex: Data
    var measurements: [MeasurementRow] = []
    var comparison: RunComparison?
    var comparedWith: String?
    /// What the package holds of the compared run (nil: none, or a package written before 0.20.0).
    var comparedRun: ComparedRun?
    var models: ModelTable?
    var backendFits: [BackendFit] = []
    var networks: NetworkTable?
    /// Where each model of the table misses (`fit/misses.csv`); nil in a package without it.
    var misses: PackageMisses?
    /// The models fitted across thread counts (`threads/across-counts.json`); empty for one count.
    var acrossCounts: [ThreadCountJudgement] = []
    /// Each network at every thread count (`threads/networks.csv`); empty for one count.
    var networkScaling: [NetworkScaling.Row] = []
    /// A framework's end-to-end times beside the networks' sums (`networks/framework.csv`); nil
    /// without a reference.
    var framework: FrameworkSection?

    /// Renders the template at `templatePath`.
    func render(templatePath: String) throws -> String {
        guard let text = try? String(contentsOfFile: templatePath, encoding: .utf8) else {
            throw PackageError("cannot read the package README template \(templatePath)")
        }
        let template: MustacheTemplate
        do { template = try MustacheTemplate(string: text) } catch {
            throw PackageError("\(templatePath): not a valid Mustache template (\(error))")
        }
        return template.render(model())
    }

    /// The template's values.
    func model() -> Model {
        let s = manifest.settings
        struct Entry: Decodable {
            var files: [String]
            var replication_figure: String
            var original_figure: String
        }
        let entries = (try? StrictJSON.decode([Entry].self, from: figureIndex)) ?? []
        var warnings = Array(manifest.warnings.prefix(30))
        if manifest.warnings.count > 30 {
            warnings.append("… and \(manifest.warnings.count - 30) more in `manifest.json`")
        }
        return Model(
            machineLabel: statement.machineLabel, profile: statement.profile.description,
            kernels: Self.kernelDescription(
                of: measurements, workspaceMiB: s.workspaceLimit >> 20,
                channelBlocked: manifest.machine.ownKernels != nil), cpuset: s.cpuset,
            cpusetChosenBy: s.cpusetChosenBy,
            bindingMethod: manifest.binding.method,
            memoryBinding: manifest.binding.memory.map { memory in
                CPUSet.format(memory.nodes) + " (\(memory.policy)" + (memory.problem.map { ": \($0)" } ?? "") + ")"
            }, threads: s.threads, stopRule: s.stopRuleDescription,
            order: s.order.rawValue, seed: s.seed, rounds: Model.Rounds(manifest, rows: measurements),
            cache: s.cache.rawValue, timer: manifest.timer, verificationSamples: s.verificationSamples,
            verificationSeed: s.verificationSeed, dataSeed: s.dataSeed, runCount: runCount, oneRun: runCount == 1,
            sweeps: manifest.sweeps.map { Model.Sweep(path: $0.path, shortHash: String($0.sha256.prefix(16))) },
            dataFiles: statement.data, machine: Model.machineRows(manifest),
            model: fit.model.rawValue, grouping: fit.grouping.rawValue, flopsConvention: fit.flopsConvention.rawValue,
            formula: Self.formula(fit.model),
            loss: fit.options?.loss.rawValue ?? "given", parameters: Model.Parameter.rows(of: fit),
            diagnostics: fit.fits.compactMap { group in
                group.diagnostics.map {
                    Model.Diagnostic(
                        group: group.group, fit: $0,
                        fitWarnings: $0.warnings.isEmpty ? nil : $0.warnings.joined(separator: "; "))
                }
            },
            errors: errors, ranks: FlopsRanking.rankings(of: measurements),
            comparison: comparison.map {
                Model.Comparison($0, other: comparedWith ?? "the other run", held: comparedRun)
            },
            models: models.map { Model.Models($0, misses: misses) }, networks: networks.map(Model.Networks.init),
            framework: framework.map(Model.Framework.init),
            scaling: Model.Scaling(
                rows: measurements, judgements: acrossCounts, networks: networkScaling,
                expected: fit.options.map(PackageBuilder.acrossCountsModels) ?? []),
            backends: backendFits.flatMap { Model.Parameter.rows(of: $0.fit, algorithm: $0.algorithm) },
            figures: entries.map {
                Model.Figure(
                    png: $0.files.first ?? "", svg: $0.files.last ?? "", replication: $0.replication_figure,
                    original: $0.original_figure)
            },
            starts: fit.options.map { "\($0.starts)" } ?? "the",
            startAndBounds: Model.StartAndBounds(fit.options, model: fit.model), sessions: Model.Sessions(manifest),
            writtenBy: statement.writtenBy.map { "\($0.version), commit \($0.gitCommit ?? "unknown")" },
            warnings: warnings,
            commit: (statement.writtenBy ?? manifest.tool).gitCommit ?? "unknown",
            rebuildCommand: statement.rebuildCommand)
    }
}

extension PackageReadme {
    /// The model's formula as the README states it (``FitModel/formula``, the one text of it).
    static func formula(_ model: FitModel) -> String {
        model == .alpha || model == .alphaChannels ? "\(model.formula), \(FitModel.definitions)" : model.formula
    }
}

/// The number formats the package README's template names, as transforms of a `Double`:
/// `sig` (six significant digits, `n/a` when not finite), `g3` and `g4` (that many significant
/// digits), `f0` … `f4` (that many decimals), `percent0` … `percent2` (a share as a percentage,
/// `%` included; `–` when not a number), `signed0` (`%+.0f`), `short` (the shortest text of the
/// value) and `finite` (a flag, for a section).
enum ReadmeNumber {
    static func format(_ x: Double, _ name: String) -> Any? {
        switch name {
        case "sig": return x.isFinite ? String(format: "%.6g", x) : "n/a"
        case "g3": return String(format: "%.3g", x)
        case "g4": return String(format: "%.4g", x)
        case "signed0": return String(format: "%+.0f", x)
        case "short": return x.formatted()
        case "finite": return x.isFinite
        default: break
        }
        guard name.count >= 2, let digits = Int(name.suffix(1)) else { return nil }
        if x.isNaN { return "–" }
        switch name.dropLast() {
        case "f": return String(format: "%.\(digits)f", x)
        case "percent": return String(format: "%.\(digits)f%%", 100 * x)
        default: return nil
        }
    }
}

extension Double: @retroactive MustacheTransformable {
    /// The package README's number formats (``ReadmeNumber``).
    public func transform(_ name: String) -> Any? { ReadmeNumber.format(self, name) }
}

extension PackageReadme {
    /// What the package's rows computed, from the rows themselves: their batches, whether every
    /// layer is the alpha-FLOPs grid's (stride 1, 'same', dense) or layers of any stride, padding
    /// and groups, and each algorithm the rows name, with what it does. `channelBlocked`: the
    /// run's depthwise-direct was the channel-blocked kernel of 0.12.0 and later (whose manifests
    /// record `machine.ownKernels`), not the per-channel one before it.
    static func kernelDescription(of rows: [MeasurementRow], workspaceMiB: Int, channelBlocked: Bool = true) -> String {
        let measured = rows.filter { $0.status == .ok }
        // A fully-connected layer's batch is its M rows, stated with the layers below.
        let batches = Set(measured.filter { $0.shape.kind == .convolution }.map(\.shape.batch)).sorted().map(
            String.init)
        let batch = batches.isEmpty ? "" : ", batch \(batches.joined(separator: ", ")) (as each row states)"
        let gridOnly = measured.allSatisfy {
            $0.shape.kind == .convolution && $0.shape.groups == 1 && $0.shape.padding == .same
                && $0.shape.strideHeight == 1 && $0.shape.strideWidth == 1
        }
        let layers =
            gridOnly
            ? "stride 1, 'same' output size (padding (K−1)/2 before and K/2 after, as PyTorch's padding='same')"
            : "each row's stride, padding, dilation and groups as its columns of `data/` state them "
                + "(the regression grid's layers at stride 1 with 'same' output size, as PyTorch's padding='same'; "
                + "fully-connected layers as M rows times an in × out matrix)"
        let algorithms = Set(measured.map(\.algorithm)).sorted { $0.rawValue < $1.rawValue }.map {
            algorithm -> String in
            switch algorithm {
            case .gemm1x1: return "`gemm-1x1` (one OpenBLAS `cblas_sgemm` on the input as it is) for pointwise layers"
            case .im2colGemm:
                return "`im2col-gemm` (im2col lowering, then `cblas_sgemm`, lowering tiled under a "
                    + "\(workspaceMiB) MiB workspace) for the other dense layers"
            case .depthwiseDirect:
                return channelBlocked
                    ? "`depthwise-direct` (channel-blocked: blocks of 8 output channels packed [row][column][channel], "
                        + "no lowering) for depthwise layers"
                    : "`depthwise-direct` (each output row accumulated tap by tap from the input in place, "
                        + "no lowering) for depthwise layers"
            case .fullyConnectedGemm:
                return "`fc-gemm` (one `cblas_sgemm`, `cblas_sgemv` when M = 1) for fully-connected layers"
            case .dnnlDirect: return "`dnnl-direct` (oneDNN's direct convolution in the layouts it prefers)"
            case .dnnlDirectNCHW: return "`dnnl-direct-nchw` (oneDNN's convolution on NCHW and OIHW as they are)"
            case .dnnlWinograd: return "`dnnl-winograd` (oneDNN's Winograd convolution)"
            case .reference: return "`reference` (a direct loop with double accumulation)"
            case .auto: return "`auto`"
            }
        }
        return "conv2d forward, float32, NCHW\(batch); \(layers); "
            + (algorithms.isEmpty ? "no row measured" : algorithms.joined(separator: "; "))
            + ". The `algorithm` column of `data/` names the one used."
    }
}
