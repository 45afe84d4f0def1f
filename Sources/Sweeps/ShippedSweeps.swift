import Foundation

/// The sweep files that ship in `sweeps/`, by profile.
///
/// | profile | files |
/// |---|---|
/// | `quick` | `quick/regression.yaml`, `quick/layers.yaml`, then `quick/exp-*.yaml` |
/// | `paper` | `regression.yaml`, `layers.yaml`, then `paper/exp-*.yaml` (the original study's sampling) |
/// | `full`  | `regression.yaml`, `layers.yaml`, then `full/exp-*.yaml` (every integer of the varying axis) |
///
/// The layer sample (`layers.yaml`: stride 2, depthwise, fully connected, the layers of real
/// networks) is taken where it exists.
public enum ShippedSweeps {
    /// A set of shipped sweeps that a replication runs together.
    public enum Profile: String, CaseIterable, Sendable, CustomStringConvertible {
        /// A small regression sample and every series of A–G with fewer points: minutes on a laptop.
        case quick
        /// The regression sample and A–G at the original study's sampling.
        case paper
        /// The regression sample and A–G at full resolution.
        case full

        /// The profile's name.
        public var description: String { rawValue }
    }

    /// The files of `profile` under `root` (the `sweeps` directory): the regression sweep first,
    /// the layer sample where there is one, then the experiment files in name order.
    ///
    /// - Throws: ``SweepError`` when the regression file or the profile's directory is missing.
    public static func files(profile: Profile, root: String) throws(SweepError) -> [String] {
        let directory = (root as NSString).appendingPathComponent(profile == .quick ? "quick" : profile.rawValue)
        let regression =
            profile == .quick
            ? (directory as NSString).appendingPathComponent("regression.yaml")
            : (root as NSString).appendingPathComponent("regression.yaml")
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw SweepError(file: directory, message: "cannot list the \(profile) sweeps: no such directory")
        }
        guard FileManager.default.fileExists(atPath: regression) else {
            throw SweepError(file: regression, message: "the \(profile) profile's regression sweep is missing")
        }
        let experiments = names.filter { $0.hasPrefix("exp-") && $0.hasSuffix(".yaml") }.sorted()
        let layers = ((profile == .quick ? directory : root) as NSString).appendingPathComponent("layers.yaml")
        return [regression] + (FileManager.default.fileExists(atPath: layers) ? [layers] : [])
            + experiments.map { (directory as NSString).appendingPathComponent($0) }
    }
}
