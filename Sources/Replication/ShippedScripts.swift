import Basics
import Foundation
import Sweeps

/// What a replication package runs of the shipped files: the figure and ceiling scripts and the
/// README template. Beside the package code that uses them; the sweeps' lookup and the
/// virtualenv's Python stay in Sweeps (``ShippedFiles``).
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

    /// The installation or source tree that holds the figure script (for commands that draw
    /// figures but read no sweeps); the first candidate when none does.
    public static func forFigures(
        executable: String = BuildInfo.executablePath(), sourceFile: String = #filePath
    ) -> ShippedFiles {
        holding(\.figureScript, executable: executable, sourceFile: sourceFile)
    }

    /// The Mustache template of a replication package's README.
    public var readmeTemplate: String { path("templates/package-readme.mustache") }

    /// `name` inside ``root``.
    private func path(_ name: String) -> String { (root as NSString).appendingPathComponent(name) }
}
