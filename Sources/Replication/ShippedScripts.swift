import Basics
import Foundation
import Sweeps

/// What a replication package runs of the shipped files: the figure and ceiling scripts, the
/// README template, and the virtualenv's Python, each run only from a trusted place. Beside the
/// package code that uses them; the sweeps' lookup stays in Sweeps (``ShippedFiles``).
extension ShippedFiles {
    /// The figure script, `plot_figures.py`.
    public var figureScript: String {
        path("python/plot_figures.py")
    }

    /// The figure script of `convsweep compare`, `plot_compare.py`.
    public var compareFigureScript: String {
        path("python/plot_compare.py")
    }

    /// The model table's non-parametric ceiling, `ceiling.py` (gradient-boosted trees).
    public var ceilingScript: String {
        path("python/ceiling.py")
    }

    /// The Mustache template of a replication package's README.
    public var readmeTemplate: String { path("templates/package-readme.mustache") }

    /// The Python interpreter of the virtualenv that holds matplotlib for the figure script.
    public var python: String { path(layout == .sourceTree ? ".venv/bin/python" : "venv/bin/python") }

    /// Why convsweep will not run `files` (``python`` and a script of its), nil when it will:
    /// code is run only from a path that root and this user alone control (``PathTrust``), so
    /// that another user's planted interpreter or script never runs as this user.
    public func refusalToRun(_ files: [String]) -> String? {
        for file in files {
            if let problem = PathTrust.problem(at: file) { return "refusing to run \(file): \(problem)" }
        }
        return nil
    }

    /// The command that creates ``python`` when it is missing.
    public var pythonSetUpCommand: String {
        let prefix = ((root as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        return layout == .sourceTree ? "scripts/ensure-deps --python" : "scripts/install \(prefix)"
    }

    /// The installation or source tree that holds the figure script (for commands that draw
    /// figures but read no sweeps); the first candidate when none does, so that the error of a
    /// later step names where the script was expected.
    public static func forFigures(
        executable: String = BuildInfo.executablePath(), sourceFile: String = #filePath
    ) -> ShippedFiles {
        let all = candidates(executable: executable, sourceFile: sourceFile)
        return usable(all).first { FileManager.default.fileExists(atPath: $0.figureScript) } ?? all[0]
    }

    /// `name` inside ``root``.
    private func path(_ name: String) -> String { (root as NSString).appendingPathComponent(name) }
}
