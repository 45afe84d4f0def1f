import Foundation
import Synchronization
import TestSupport
import Testing

/// Not serialized with the other command tests: its verifications are independent processes, run
/// two at a time, the longest single test of the suite.
@Suite("The committed packages verify")
struct CommittedPackagesTests {
    @Test func everyCommittedPackageVerifiesWithEveryOpenBLASKernelSetThisCPUAllows() throws {
        // Other kernels round differently: the refit lands elsewhere in the flat valley of an
        // ill-conditioned group, and the package must still verify, its errors included (the
        // oneDNN package's dnnl-direct fit sits at a bound: its errors moved 1.4e-6 with SkylakeX).
        let manager = FileManager.default
        let results = repositoryRoot.appendingPathComponent("results")
        var packages: [String] = []
        for machine in try manager.contentsOfDirectory(atPath: results.path).sorted() {
            let folder = results.appendingPathComponent(machine)
            for name in (try? manager.contentsOfDirectory(atPath: folder.path).sorted()) ?? []
            where manager.fileExists(atPath: folder.appendingPathComponent("\(name)/package.json").path) {
                packages.append(folder.appendingPathComponent(name).path)
            }
        }
        #expect(packages.count >= 4, "\(packages)")
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        var cores = ["", "Haswell", "Nehalem"]
        if flags.contains(" avx512f ") && flags.contains(" avx512bw ") { cores.append("SkylakeX") }
        let pairs = packages.flatMap { path in cores.map { (path, $0) } }
        let failures = Mutex<[String]>([])
        // Two at a time: each is one process, mostly one core.
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            for (path, core) in pairs.enumerated().filter({ $0.offset % 2 == worker }).map(\.element) {
                let outcome = try? convsweep(
                    ["verify-package", path], environment: core.isEmpty ? [:] : ["OPENBLAS_CORETYPE": core])
                if outcome?.status != 0 {
                    let kernels = core.isEmpty ? "the default kernels" : core
                    failures.withLock { $0.append("\(path) with \(kernels): \(outcome?.standardOutput ?? "not run")") }
                }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
    }

    @Test func missesGroupsACommittedPackagesHeldOutErrorsAndRefusesAModelItLacks() throws {
        let package = repositoryRoot.appendingPathComponent("results/amd-epyc-2pu/quick").path
        let csv = temporaryDirectory() + "/misses.csv"
        let shown = try convsweep(["misses", package, "--model", "alpha", "--csv", csv])
        #expect(shown.status == 0, "\(shown.standardError)")
        #expect(shown.standardOutput.hasPrefix("alpha held out: "))
        for feature in [
            "Cout mod 8", "Ho·Wo mod 16", "Cin·K² mod 32", "working set", "arithmetic intensity", "algorithm",
        ] {
            #expect(shown.standardOutput.contains("\n\(feature)"), "\(feature)")
        }
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "model,feature,spread,bucket,rows,median_error,within_10pct" && lines.count > 20)
        let unknown = try convsweep(["misses", package, "--model", "nope"])
        #expect(unknown.status == 64 && unknown.standardError.contains("no held-out predictions of nope"))
        let notAPackage = try convsweep(["misses", temporaryDirectory()])
        #expect(notAPackage.status == 65)
    }
}
