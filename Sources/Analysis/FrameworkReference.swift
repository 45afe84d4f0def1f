import Basics
import Foundation
import Sweeps

/// A framework's end-to-end time of whole networks (`convsweep networks reference … --out DIR`,
/// `DIR/reference.json`): what a deployment on one core takes, beside which convsweep's sum of a
/// network's convolution and fully-connected layers is read. Format: docs/analysis.md.
///
/// ```json
/// {"format": "convsweep-framework-reference", "version": 1, "convsweep": "0.9.0",
///  "cpu_model": "AMD EPYC 7B13", "host": "lab-3", "date": "2026-12-06T20:30:00Z",
///  "networks": [{"network": "resnet18", "model_sha256": "…", "framework": "onnxruntime",
///                "framework_version": "1.32.0", "threads": 1, "pu": 1, "optimization": "ORT_ENABLE_ALL",
///                "round_medians_ms": [21.3, 21.1, 21.4], "runs_per_round": [10, 10, 10]}]}
/// ```
public struct FrameworkReference: Codable, Equatable, Sendable {
    /// One network's end-to-end time in the framework.
    public struct Entry: Codable, Equatable, Sendable {
        /// The network's name (the model's, as `networks import` names it).
        public var network: String
        /// Hex SHA-256 of the ONNX file timed.
        public var modelSHA256: String
        /// The framework (`onnxruntime`).
        public var framework: String
        /// Its version.
        public var frameworkVersion: String
        /// Intra-op threads.
        public var threads: Int
        /// The PU it ran on.
        public var pu: Int
        /// The framework's graph optimisation level.
        public var optimization: String
        /// Each round's median end-to-end time, in ms.
        public var roundMediansMs: [Double]
        /// How many times each round ran the model.
        public var runsPerRound: [Int]

        /// The median of the rounds' medians, in ms.
        public var milliseconds: Double { Statistics.median(roundMediansMs) }
        /// The fastest and slowest round's median, in ms: the interval of the rounds.
        public var interval: ClosedRange<Double> { roundMediansMs.min()!...roundMediansMs.max()! }
        /// `onnxruntime 1.32.0, 1 thread`.
        public var label: String { "\(framework) \(frameworkVersion), \(threads) thread\(threads == 1 ? "" : "s")" }

        enum CodingKeys: String, CodingKey {
            case network, framework, threads, pu, optimization
            case modelSHA256 = "model_sha256"
            case frameworkVersion = "framework_version"
            case roundMediansMs = "round_medians_ms"
            case runsPerRound = "runs_per_round"
        }

        /// An entry; see the properties.
        public init(
            network: String, modelSHA256: String, framework: String, frameworkVersion: String, threads: Int, pu: Int,
            optimization: String, roundMediansMs: [Double], runsPerRound: [Int]
        ) {
            self.network = network
            self.modelSHA256 = modelSHA256
            self.framework = framework
            self.frameworkVersion = frameworkVersion
            self.threads = threads
            self.pu = pu
            self.optimization = optimization
            self.roundMediansMs = roundMediansMs
            self.runsPerRound = runsPerRound
        }
    }

    /// The file's format name.
    public static let formatName = "convsweep-framework-reference"
    /// The one version this convsweep reads and writes.
    public static let formatVersion = 1
    /// The file's name in its directory.
    public static let fileName = "reference.json"

    /// ``formatName``.
    public var format: String
    /// ``formatVersion``.
    public var version: Int
    /// The convsweep that measured.
    public var convsweep: String
    /// The CPU, as hwloc names it.
    public var cpuModel: String
    /// The host's name.
    public var host: String
    /// When it was measured (ISO 8601).
    public var date: String
    /// The networks, in the order measured.
    public var networks: [Entry]

    enum CodingKeys: String, CodingKey {
        case format, version, convsweep, host, date, networks
        case cpuModel = "cpu_model"
    }

    /// A reference of `networks`, measured by `convsweep` on `cpuModel` of `host` at `date`.
    public init(convsweep: String, cpuModel: String, host: String, date: String, networks: [Entry]) {
        format = Self.formatName
        version = Self.formatVersion
        self.convsweep = convsweep
        self.cpuModel = cpuModel
        self.host = host
        self.date = date
        self.networks = networks
    }

    /// The entry of `network`, if measured.
    public func entry(_ network: String) -> Entry? { networks.first { $0.network == network } }

    /// The file's bytes (sorted keys, one per line).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self) + Data("\n".utf8)
    }

    /// Reads `path` (a `reference.json`, or a directory holding one).
    ///
    /// - Throws: ``FrameworkReferenceError`` naming the file and the field: not JSON, another
    ///   format or version, a network without rounds, a time that is not a positive number.
    public static func load(path: String) throws(FrameworkReferenceError) -> FrameworkReference {
        var isDirectory: ObjCBool = false
        let file =
            FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
            ? (path as NSString).appendingPathComponent(fileName) : path
        guard let data = FileManager.default.contents(atPath: file) else {
            throw FrameworkReferenceError(file: file, field: nil, message: "cannot read the file")
        }
        let reference: FrameworkReference
        do { reference = try StrictJSON.decode(FrameworkReference.self, from: data) } catch let error
            as DecodingError
        {
            throw FrameworkReferenceError(file: file, decoding: error)
        } catch {
            throw FrameworkReferenceError(file: file, field: nil, message: "\(error)")
        }
        guard reference.format == formatName, reference.version == formatVersion else {
            throw FrameworkReferenceError(
                file: file, field: "format",
                message:
                    "\(reference.format) version \(reference.version) is not \(formatName) version \(formatVersion)")
        }
        for (index, entry) in reference.networks.enumerated() {
            let field = "networks[\(index)]"
            guard !entry.roundMediansMs.isEmpty, entry.roundMediansMs.allSatisfy({ $0.isFinite && $0 > 0 }) else {
                throw FrameworkReferenceError(
                    file: file, field: field + ".round_medians_ms", message: "must be positive times, one per round")
            }
            guard entry.runsPerRound.count == entry.roundMediansMs.count, entry.runsPerRound.allSatisfy({ $0 > 0 }),
                entry.threads > 0, entry.pu >= 0
            else {
                throw FrameworkReferenceError(
                    file: file, field: field, message: "runs_per_round, threads or pu do not fit the rounds")
            }
        }
        return reference
    }
}

extension FrameworkReference {
    /// `entry` in place of its network's earlier one (or after the others), the file dated now and
    /// stamped with the `convsweep` that measured it.
    public mutating func record(_ entry: Entry, convsweep: String) {
        networks.removeAll { $0.network == entry.network }
        networks.append(entry)
        date = Timestamp.now()
        self.convsweep = convsweep
    }
}

extension FrameworkReference.Entry {
    /// Times the ONNX model at `path` (imported as `network`) in ONNX Runtime on PU `pu`, `rounds`
    /// rounds (`python/ort_reference.py` in `shippedFiles`' virtualenv, which pins itself to `pu`;
    /// the caller holds the PU's lock).
    ///
    /// - Throws: ``FrameworkReferenceError`` naming the model: one ONNX Runtime refuses
    ///   (``FrameworkReferenceError/isInputProblem``), or a framework that cannot be run.
    public static func measure(
        model path: String, network: Network, rounds: Int, pu: Int, shippedFiles: ShippedFiles
    ) throws(FrameworkReferenceError) -> FrameworkReference.Entry {
        guard let model = network.model else {
            throw FrameworkReferenceError(file: path, field: nil, message: "not an imported ONNX model")
        }
        let arguments = [
            shippedFiles.frameworkReferenceScript, path, model.input.map(String.init).joined(separator: ","),
            "\(rounds)", "\(pu)",
        ]
        let status: Int32
        let output: String
        do { (status, output) = try Subprocess.run(shippedFiles.python, arguments, discardingErrors: true) } catch {
            throw FrameworkReferenceError(
                file: path, field: nil, message: "cannot run \(shippedFiles.python): \(error)", isInputProblem: false)
        }
        let reply = try? JSONDecoder().decode(Reply.self, from: Data(output.utf8))
        guard status == 0, let reply, let medians = reply.round_medians_ms, let runs = reply.runs_per_round else {
            throw FrameworkReferenceError(
                file: path, field: nil, message: reply?.error ?? "exit \(status): \(output.prefix(300))",
                isInputProblem: status == 65)
        }
        return FrameworkReference.Entry(
            network: network.name, modelSHA256: model.sha256, framework: reply.framework ?? "onnxruntime",
            frameworkVersion: reply.version ?? "", threads: 1, pu: pu, optimization: reply.optimization ?? "",
            roundMediansMs: medians, runsPerRound: runs)
    }

    /// What `ort_reference.py` prints.
    private struct Reply: Decodable {
        var error: String?
        var framework: String?
        var version: String?
        var optimization: String?
        var round_medians_ms: [Double]?
        var runs_per_round: [Int]?
    }
}

/// Why a framework reference cannot be read: the file, the field and what is wrong.
public struct FrameworkReferenceError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file.
    public var file: String
    /// The field, as a path (`networks[2].round_medians_ms`), when there is one.
    public var field: String?
    /// What is wrong.
    public var message: String
    /// Whether the file is at fault (a reference that does not read, a model the framework
    /// refuses), not the set-up (a framework that cannot be started).
    public var isInputProblem: Bool

    /// An error in `file` at `field`.
    public init(file: String, field: String?, message: String, isInputProblem: Bool = true) {
        self.file = file
        self.field = field
        self.message = message
        self.isInputProblem = isInputProblem
    }

    /// The error a decoder gave, with its coding path as the field (``DecodingProblem``).
    init(file: String, decoding error: DecodingError) {
        let (field, message) = DecodingProblem.parts(error)
        self.init(file: file, field: field, message: message)
    }

    /// `FILE: FIELD: MESSAGE`.
    public var description: String { "\(file): " + (field.map { "\($0): " } ?? "") + message }
}
