import ConvKernels
import Foundation
import Rows

extension RunManifest {
    /// The cache sizes and workspace limit the run measured under, which the gemm-work model's
    /// work depends on; nil when the manifest records no level-2 cache.
    public var workSetting: WorkSetting? {
        WorkSetting(
            caches: machine.caches.filter { $0.kind != "instruction" }.map { (level: $0.level, bytes: $0.sizeBytes) },
            workspaceLimitBytes: settings.workspaceLimit)
    }

    /// The one setting the run directories and packages among `inputs` measured under (CSV files
    /// carry none); nil when no input has a manifest that records one.
    ///
    /// - Throws: `RunError.format` naming the manifests when two inputs were measured under
    ///   different settings (their rows cannot share one gemm-work fit), or a manifest that
    ///   cannot be read.
    public static func workSetting(ofInputs inputs: [String]) throws -> WorkSetting? {
        var found: (setting: WorkSetting, file: String)?
        for input in inputs {
            guard let source = try? RowSource(path: input), let file = source.manifestFile else { continue }
            guard let setting = try read(path: file).workSetting else { continue }
            if let found, found.setting != setting {
                throw RunError.format(
                    "\(found.file) records \(found.setting), \(file) records \(setting): one gemm-work fit needs rows measured under one setting (fit them apart, or give --caches)"
                )
            }
            found = (setting, file)
        }
        return found?.setting
    }
}
