import AlphaFit
import Foundation
import Measurement
import Runner

/// The generated README.md of a replication package.
struct PackageReadme {
    var statement: PackageStatement
    var manifest: RunManifest
    var runCount: Int
    var fit: FitReport
    var errors: Table
    var figureIndex: Data

    func render() -> String {
        var out: [String] = []
        let m = manifest.machine
        let s = manifest.settings
        out.append("# convsweep replication package: \(statement.machineLabel), profile `\(statement.profile)`")
        out.append("")
        out.append(
            "Measured conv2d forward times on a CPU and the alpha-FLOPs model (Asperti et al. 2021) refitted to them, "
                + "following the replication of Barba Roque and Cruz (2026). Everything below is generated from the "
                + "files of this directory; `convsweep verify-package` checks them (SHA256SUMS) and refits the model "
                + "from `data/regression.csv` to confirm the parameters and errors stated here.")
        out.append("")
        out.append("## What was measured and how")
        out.append(
            "- **Kernel**: conv2d forward, float32, NCHW, batch as in the data (1 for every shipped sweep), stride 1, "
                + "'same' output size (padding (K−1)/2 before and K/2 after, as PyTorch's padding='same'); "
                + "`gemm-1x1` (one OpenBLAS `cblas_sgemm`) for K = 1, `im2col-gemm` (im2col lowering, then `cblas_sgemm`, "
                + "lowering tiled under a \(s.workspaceLimit >> 20) MiB workspace) for K > 1. The `algorithm` column of `data/` names the one used."
        )
        out.append(
            "- **Binding**: cpuset \(s.cpuset) (\(s.cpusetChosenBy)), the whole process bound with hwloc and checked "
                + "per thread (\(manifest.binding.method)); \(s.threads) OpenBLAS thread(s).")
        out.append(
            "- **Stop rule**: \(s.stopRuleDescription). Order: \(s.order.rawValue), seed \(s.seed); cache \(s.cache.rawValue)."
        )
        out.append(
            "- **Timer**: \(manifest.timer.timer), measured resolution \(String(format: "%.0f", manifest.timer.measuredResolutionNs)) ns, "
                + "overhead \(String(format: "%.0f", manifest.timer.overheadNs)) ns.")
        out.append(
            "- **Verification**: \(s.verificationSamples) output elements of each configuration's first run checked "
                + "against a direct double-precision computation (seed \(s.verificationSeed)); tensor values from seed \(s.dataSeed)."
        )
        out.append("- **Runs**: \(runCount) run director\(runCount == 1 ? "y" : "ies"); sweeps:")
        for sweep in manifest.sweeps {
            out.append("  - `\(sweep.path)` (SHA-256 `\(sweep.sha256.prefix(16))…`)")
        }
        out.append("")
        out.append("| data file | experiment | configurations | measured |")
        out.append("|---|---|---:|---:|")
        for file in statement.data {
            out.append("| `\(file.path)` | \(file.experiment) | \(file.configurations) | \(file.measured) |")
        }
        out.append("")
        out.append(
            "Configurations not measured keep their row, with the reason in `status` (a limit of the sweep, memory, a failed verification)."
        )
        out.append("")

        out.append("## Machine and software")
        out.append("| what | value |")
        out.append("|---|---|")
        let caches = m.caches.map { "L\($0.level) \($0.kind) \($0.sizeBytes >> 10) KiB" }.joined(separator: ", ")
        let rows: [(String, String)] = [
            ("CPU", "\(m.cpuModel): \(m.packages) package(s), \(m.cores) core(s), \(m.processingUnits) PU(s)"),
            ("caches (hwloc)", caches.isEmpty ? "not reported" : caches),
            ("OS kernel", m.kernel),
            ("operating system", m.operatingSystem ?? "unknown"),
            ("Swift", m.swiftCompiler),
            ("build", m.buildConfiguration),
            (
                "OpenBLAS",
                "\(m.openBLASVersion), core \(m.openBLASCore), \(m.openBLASParallelism); config `\(m.openBLASConfig)`"
            ),
            ("hwloc", m.hwlocVersion),
            (
                "frequency governor",
                m.governors.isEmpty
                    ? "not readable (virtual machine)" : Set(m.governors).sorted().joined(separator: ", ")
            ),
            ("load average at start", m.loadAverage.map { String(format: "%.2f", $0) }.joined(separator: " ")),
            ("convsweep", "\(manifest.tool.version), commit \(manifest.tool.gitCommit ?? "unknown")"),
            ("sessions", Self.sessionsSummary(manifest)),
        ]
        for (what, value) in rows { out.append("| \(what) | \(value.replacingOccurrences(of: "|", with: "\\|")) |") }
        out.append("")
        out.append(
            "The full record is `manifest.json` (every setting, session and warning) and `topology.xml` (hwloc).")
        out.append("")

        out.append("## Fitted parameters")
        out.append(
            "Model `\(fit.model.rawValue)`, groups `\(fit.grouping.rawValue)`, FLOPs convention `\(fit.flopsConvention.rawValue)` "
                + "(T in ms = final · ((S_K + beta·(S − S_K)) / S)^gamma · FLOPs, S = H·W, S_K = ln(K) + 1, K = K1·K2), "
                + "loss `\(fit.options?.loss.rawValue ?? "given")`, fitted on `data/regression.csv` (`fit/alpha.json`)."
        )
        out.append("")
        out.append("| group | n | parameter | value | std. error | 95% interval |")
        out.append("|---|---:|---|---:|---:|---|")
        for group in fit.fits {
            for name in fit.model.parameterNames {
                let value = group.parameters[name] ?? .nan
                let se = group.diagnostics?.standardErrors?[name]
                let ci = group.diagnostics?.confidence95?[name]
                out.append(
                    "| \(group.group) | \(group.n.map(String.init) ?? "") | \(name) | \(sig(value)) | "
                        + "\(se.map(sig) ?? "n/a") | \(ci.map { "[\(sig($0[0])), \(sig($0[1]))]" } ?? "n/a") |")
            }
        }
        out.append("")
        for group in fit.fits {
            guard let d = group.diagnostics else { continue }
            var line =
                "- \(group.group): SSE \(sig(d.sse)), RMSE \(sig(d.rmseMs)) ms, R² \(String(format: "%.4f", d.rSquared)), "
                + "MAPE \(String(format: "%.1f", d.mapePercent))%, \(d.iterations) iterations (\(d.stopReason)), "
                + "\(d.startsReachingBest) of \(d.startsTried) starts reached the best SSE."
            if !d.warnings.isEmpty { line += " Warnings: " + d.warnings.joined(separator: "; ") }
            out.append(line)
        }
        out.append("")

        out.append("## Errors per experiment and series")
        out.append(
            "RMSE of the prediction, and nRMSE = RMSE / (max − min of the measured times of the series), as the replication reports (`fit/errors.csv`)."
        )
        out.append("")
        out.append("| experiment | series | n | RMSE (ms) | nRMSE |")
        out.append("|---|---|---:|---:|---:|")
        for row in errors.rows {
            out.append(
                "| \(row[0]) | \(row[1]) | \(row[2]) | \(sig(Double(row[3]) ?? .nan)) | \(Double(row[5]).map { String(format: "%.1f%%", $0 * 100) } ?? "n/a") |"
            )
        }
        out.append("")

        out.append("## Figures")
        out.append(
            "Drawn by `scripts/plot_figures.py` from `data/*.csv` and `fit/predictions.csv` alone; "
                + "`figures/index.json` names the CSVs (with SHA-256) each figure was drawn from. "
                + "Measured: solid lines; alpha-FLOPs prediction: dashed, same colour.")
        out.append("")
        out.append("| figure | replication (2026) | original (2021) |")
        out.append("|---|---|---|")
        struct Entry: Decodable {
            var files: [String]
            var replication_figure: String
            var original_figure: String
        }
        let entries = (try? JSONDecoder().decode([Entry].self, from: figureIndex)) ?? []
        for entry in entries {
            let png = entry.files.first ?? ""
            out.append(
                "| [\(png)](\(png)) ([svg](\(entry.files.last ?? ""))) | \(entry.replication_figure) | \(entry.original_figure) |"
            )
        }
        out.append("")
        for entry in entries { out.append("![\(entry.files.first ?? "")](\(entry.files.first ?? ""))") }
        out.append("")

        out.append("## Assumptions")
        out.append(
            "The replication had to make four assumptions for want of the original's material. This package answers each:"
        )
        out.append(
            "1. **Regression ranges and sampling.** The grid of the replication's Section 4.1 (H, W ∈ {1 … 256}, Cin, Cout ∈ 32 values, "
                + "K = 1…14) is far too large for a CPU, so a seeded uniform sample of it is measured, bounded by FLOPs and memory. "
                + "The sweep files, their SHA-256 and seeds are in `manifest.json`; every drawn point is in `data/regression.csv`, "
                + "with the reason for any point not measured.")
        out.append(
            "2. **Regression method.** Bounded nonlinear least squares: Levenberg–Marquardt with box bounds, analytic Jacobian, "
                + "LAPACK (OpenBLAS) for the linear algebra, \(fit.options.map { "\($0.starts)" } ?? "the") seeded starts plus the "
                + "replication's start (beta 0.01, gamma 0.8, final 0.3), bounds [0, 2]; the lowest SSE is kept and the number of starts "
                + "reaching it reported above, so a different local minimum would show. All settings are in `fit/alpha.json`."
        )
        out.append(
            "3. **The `final` factor.** Fitted per group as a third parameter, as the replication did; the original's hard-coded "
                + "0.0375 is reproduced exactly by `convsweep predict` with the `asperti` FLOPs convention (a test on their data)."
        )
        out.append(
            "4. **Library versions.** Stated above and in `manifest.json`: OpenBLAS version, build configuration and the kernel set it "
                + "chose, Swift compiler, OS kernel, hwloc.")
        out.append("")
        if !manifest.warnings.isEmpty {
            out.append("## Warnings raised while measuring")
            for w in manifest.warnings.prefix(30) { out.append("- \(w)") }
            if manifest.warnings.count > 30 {
                out.append("- … and \(manifest.warnings.count - 30) more in `manifest.json`")
            }
            out.append("")
        }
        out.append("## Rebuilding this package")
        out.append("From a clone of convsweep at commit `\(manifest.tool.gitCommit ?? "unknown")`:")
        out.append("")
        out.append("```")
        out.append(statement.rebuildCommand)
        out.append("```")
        out.append("")
        out.append(
            "`convsweep verify-package DIR` checks a package; `convsweep package RUN_DIR … --out DIR` rebuilds one from runs without measuring."
        )
        out.append("")
        out.append("## Files")
        out.append(
            "`manifest.json`, `topology.xml`, `package.json` (what this README states, machine-readable), `data/` (measurements, "
                + "columns in docs/run-directory.md), `fit/alpha.json`, `fit/predictions.csv`, `fit/errors.csv`, `figures/`, `SHA256SUMS`; "
                + "`run/`, when present, is the run directory the package was measured into (resumable).")
        return out.joined(separator: "\n") + "\n"
    }

    private func sig(_ value: Double) -> String {
        guard value.isFinite else { return "n/a" }
        return String(format: "%.6g", value)
    }

    /// `N session(s), STARTED to ENDED` and, when the sessions ran other commits than the first,
    /// those commits: a run resumed across days or builds says so.
    static func sessionsSummary(_ manifest: RunManifest) -> String {
        let sessions = manifest.sessions
        guard let first = sessions.first else { return "none recorded" }
        var text = "\(sessions.count), started \(first.startedAt)"
        if let ended = sessions.last?.endedAt { text += ", last ended \(ended)" }
        let killed = sessions.filter { $0.endedAt == nil }.count
        if killed > 0 { text += "; \(killed) interrupted and resumed" }
        var commits: [String] = []
        for commit in sessions.compactMap(\.gitCommit)
        where commit != manifest.tool.gitCommit && !commits.contains(commit) {
            commits.append(commit)
        }
        if !commits.isEmpty { text += "; later sessions ran commit(s) " + commits.joined(separator: ", ") }
        return text
    }
}
