import AlphaFit
import ArgumentParser
import ConvKernels
import Foundation
import Runner

/// `--caches L2,LLC`: the cache sizes the gemm-work model charges bytes against, when the inputs'
/// manifests do not say them (CSV files) or to override them.
struct CachesOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The measuring machine's level-2 and last-level cache sizes for the gemm-work model (e.g. 512K,32M; bytes, or K, M, G for KiB, MiB, GiB). Default: what the inputs' manifests record (run directories and packages); CSV files need it.",
            valueName: "L2,LLC"))
    var caches: String?

    /// The setting for `inputs`: `--caches` (with the manifests' workspace limit, or the default
    /// one), else the one the inputs' manifests record, else nil.
    func setting(inputs: [String]) throws -> WorkSetting? {
        let recorded = try RunManifest.workSetting(ofInputs: inputs)
        guard let caches else { return recorded }
        let sizes = try caches.split(separator: ",").map { try Self.bytes(String($0)) }
        guard sizes.count == 2 else {
            throw FitInputError(input: "--caches", "expected two sizes, L2,LLC (e.g. 512K,32M), got '\(caches)'")
        }
        let setting = WorkSetting(
            level2Bytes: sizes[0], lastLevelBytes: sizes[1],
            workspaceLimitBytes: recorded?.workspaceLimitBytes ?? Conv2D.defaultWorkspaceLimit)
        if let problem = setting.problem { throw FitInputError(input: "--caches", problem) }
        return setting
    }

    /// `512K`, `32M`, `1G` (binary units, an optional `iB`) or a byte count.
    static func bytes(_ text: String) throws -> Int {
        var digits = text.trimmingCharacters(in: .whitespaces)
        for suffix in ["iB", "B"] where digits.hasSuffix(suffix) { digits.removeLast(suffix.count) }
        var shift = 0
        if let last = digits.last, let unit = ["K": 10, "M": 20, "G": 30][String(last).uppercased()] {
            shift = unit
            digits.removeLast()
        }
        guard let value = Int(digits), value > 0, value <= Int.max >> 31 else {
            throw FitInputError(input: "--caches", "'\(text)' is not a size (bytes, or a number with K, M or G)")
        }
        return value << shift
    }
}
