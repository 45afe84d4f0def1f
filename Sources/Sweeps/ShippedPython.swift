import Basics
import Foundation

/// The virtualenv's Python and the scripts convsweep runs below the package stages: the ONNX
/// importer (`networks import`, and a network given as an `.onnx` file wherever a network file
/// goes). Each is run only from a place that root and this user alone control.
extension ShippedFiles {
    /// The Python interpreter of the virtualenv that holds matplotlib for the figure script and the importer.
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

    /// Why `script` cannot be run with ``python``, nil when it can: no interpreter (with the
    /// command that makes it), no script, or a path that another user controls (``refusalToRun(_:)``).
    public func problemRunning(_ script: String) -> String? {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            return "no \(python): run \(pythonSetUpCommand)"
        }
        guard FileManager.default.fileExists(atPath: script) else { return "no \(script)" }
        return refusalToRun([python, script])
    }

    /// The command that creates ``python`` when it is missing.
    public var pythonSetUpCommand: String {
        let prefix = ((root as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        return layout == .sourceTree ? "scripts/ensure-deps --python" : "scripts/install \(prefix)"
    }

    /// The installation or source tree that holds `script` (for commands that run a shipped
    /// script but read no sweeps); the first candidate when none does, so that the error of a
    /// later step names where the script was expected.
    public static func holding(
        _ script: (ShippedFiles) -> String, executable: String = BuildInfo.executablePath(),
        sourceFile: String = #filePath
    ) -> ShippedFiles {
        let all = candidates(executable: executable, sourceFile: sourceFile)
        return usable(all).first { FileManager.default.fileExists(atPath: script($0)) } ?? all[0]
    }

    /// The ONNX importer, `onnx_network.py` (the onnx package in ``python``'s virtualenv).
    public var onnxScript: String { path("python/onnx_network.py") }

    /// The framework reference, `ort_reference.py` (onnxruntime in ``python``'s virtualenv).
    public var frameworkReferenceScript: String { path("python/ort_reference.py") }

    /// `name` inside ``root``.
    private func path(_ name: String) -> String { (root as NSString).appendingPathComponent(name) }
}
