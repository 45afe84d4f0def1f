import Foundation

/// The sweep files that ship in `sweeps/`, by profile.
///
/// | profile | files |
/// |---|---|
/// | `quick` | `quick/regression.yaml`, `quick/layers.yaml`, `quick/exp-*.yaml`, then four small networks |
/// | `threads` | the quick profile's files, every configuration at 1, 2, 4, … threads up to every PU |
/// | `networks` | `quick/regression.yaml`, `quick/layers.yaml`, every network of `networks/`, `networks-batch8.yaml` |
/// | `paper` | `regression.yaml`, `layers.yaml`, `paper/exp-*.yaml` (the original study's sampling), every network, `networks-batch8.yaml` |
/// | `full`  | `regression.yaml`, `layers.yaml`, `full/exp-*.yaml` (every integer of the varying axis), every network, `networks-batch8.yaml` |
///
/// `networks-batch8.yaml` measures every network at batch 8: its throughput.
///
/// The layer sample (`layers.yaml`: stride 2, depthwise, fully connected, the layers of real
/// networks, none of the zoo's) is taken where it exists; the networks (`networks/*.yaml`) are
/// measured after it, so that the package predicts them from a fit that never saw their layers.
public enum ShippedSweeps {
    /// A set of shipped sweeps that a replication runs together.
    public enum Profile: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
        /// A small regression sample and every series of A–G with fewer points: minutes on a laptop.
        case quick
        /// The regression sample and A–G at the original study's sampling.
        case paper
        /// The regression sample and A–G at full resolution.
        case full
        /// The quick regression and layer samples and every network of the zoo: what each network
        /// costs here, and how well each model fitted on the samples predicts it.
        case networks
        /// The quick profile's sweeps at every thread count from one to all PUs, doubling: how
        /// each configuration scales with threads.
        case threads

        /// The profile's name.
        public var description: String { rawValue }
    }

    /// The files of `profile` under `root` (the `sweeps` directory): the regression sweep first,
    /// the layer sample where there is one, then the experiment files in name order.
    ///
    /// - Throws: ``SweepError`` when the regression file or the profile's directory is missing.
    public static func files(profile: Profile, root: String) throws(SweepError) -> [String] {
        let small = profile == .quick || profile == .networks || profile == .threads
        let directory = (root as NSString).appendingPathComponent(small ? "quick" : profile.rawValue)
        let quickNetworksOnly = profile == .quick || profile == .threads
        let regression =
            small
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
        let experiments =
            profile == .networks ? [] : names.filter { $0.hasPrefix("exp-") && $0.hasSuffix(".yaml") }.sorted()
        let layers = ((small ? directory : root) as NSString).appendingPathComponent("layers.yaml")
        let zoo = (root as NSString).appendingPathComponent("networks")
        let networks = ((try? FileManager.default.contentsOfDirectory(atPath: zoo)) ?? [])
            .filter { $0.hasSuffix(".yaml") && (!quickNetworksOnly || quickNetworks.contains($0)) }.sorted()
        // Throughput: every network at batch 8, where the profile measures every network.
        let throughput = (root as NSString).appendingPathComponent("networks-batch8.yaml")
        let atBatch = !quickNetworksOnly && FileManager.default.fileExists(atPath: throughput) ? [throughput] : []
        return [regression] + (FileManager.default.fileExists(atPath: layers) ? [layers] : [])
            + experiments.map { (directory as NSString).appendingPathComponent($0) }
            + networks.map { (zoo as NSString).appendingPathComponent($0) } + atBatch
    }

    /// The networks of the quick profile: four small ones, about half a minute on one core, so
    /// that the first package already answers what a network costs.
    public static let quickNetworks: Set<String> = [
        "mobilenet_v2.yaml", "resnet18.yaml", "shufflenet_v2_x1_0.yaml", "squeezenet1_1.yaml",
    ]
}
