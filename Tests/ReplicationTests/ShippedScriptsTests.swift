import Replication
import Sweeps
import Testing

/// Where a package finds the scripts and Python it runs, in an installation and in a clone.
@Suite struct ShippedScriptsTests {
    @Test func anInstallationRunsItsOwnVirtualenvAndACloneItsDotVenv() {
        let installed = ShippedFiles(root: "/opt/cs/share/convsweep", layout: .installed)
        #expect(installed.python == "/opt/cs/share/convsweep/venv/bin/python")
        #expect(installed.figureScript == "/opt/cs/share/convsweep/python/plot_figures.py")
        #expect(installed.pythonSetUpCommand == "scripts/install /opt/cs")
        let clone = ShippedFiles(root: "/src/convsweep", layout: .sourceTree)
        #expect(clone.python == "/src/convsweep/.venv/bin/python")
        #expect(clone.readmeTemplate == "/src/convsweep/templates/package-readme.mustache")
        #expect(clone.pythonSetUpCommand == "scripts/ensure-deps --python")
    }
}
