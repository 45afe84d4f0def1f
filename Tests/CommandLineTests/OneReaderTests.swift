import Foundation
import TestSupport
import Testing

/// Every Python script of the tool and of benchmarks/ reads runs, packages and their CSVs through
/// `python/convsweep_rows.py`, the Python twin of the Swift resolver (`RowSource`): no script opens
/// a CSV with a reader of its own. The only exceptions read what convsweep did not write: the
/// original study's data (`compare-scipy.py`) and a fuzzer's mutated bytes (`fuzz_inputs.py`).
@Suite struct OneReaderTests {
    static let outsiders: Set<String> = ["benchmarks/compare-scipy.py", "benchmarks/fuzz_inputs.py"]

    @Test func noScriptReadsACSVOfItsOwn() throws {
        let root = repositoryRoot.path
        let manager = FileManager.default
        var scripts = try manager.contentsOfDirectory(atPath: root + "/python").filter { $0.hasSuffix(".py") }
            .map { "python/" + $0 }
        scripts += try manager.contentsOfDirectory(atPath: root + "/benchmarks").map { "benchmarks/" + $0 }
        scripts += try manager.contentsOfDirectory(atPath: root + "/scripts/slurm").map { "scripts/slurm/" + $0 }
        var offenders: [String] = []
        for script in scripts where script != "python/convsweep_rows.py" && !Self.outsiders.contains(script) {
            guard let text = try? String(contentsOfFile: root + "/" + script, encoding: .utf8) else { continue }
            for pattern in ["csv.DictReader", "csv.reader(", "read_csv(open", "open(f\"{run}/rounds.csv\""]
            where text.contains(pattern) {
                offenders.append("\(script): \(pattern)")
            }
        }
        #expect(offenders.isEmpty, "read through python/convsweep_rows.py instead: \(offenders)")
        let reader = try String(contentsOfFile: root + "/python/convsweep_rows.py", encoding: .utf8)
        for function in ["def read(", "def rounds(", "def probes(", "def manifest(", "def table("] {
            #expect(reader.contains(function), "convsweep_rows.py lacks \(function)")
        }
    }
}
