import Basics
import ConvKernels
import Foundation

/// A network imported from an ONNX model (`convsweep networks import`): every 2-D `Conv`, and
/// every `Gemm` and `MatMul` with a constant weight operand, in the graph's order, with the shapes
/// ONNX's own shape inference gives (`python/onnx_network.py`, the `onnx` package in the
/// virtualenv), consecutive repeats counted; the other operators counted by type.
///
/// ```swift
/// let network = try ONNXImport.network(at: "resnet18.onnx", shippedFiles: files)
/// try network.fileText().write(toFile: "resnet18.yaml", atomically: true, encoding: .utf8)
/// ```
///
/// A model that cannot be imported is a ``SweepError`` naming the file and, where there is one,
/// the node (`field`): not an ONNX model, a truncated one, an opset the installed onnx does not
/// know, a dynamic input dimension without `inputShape`, a layer whose shape depends on the data,
/// a `Conv` whose weights are computed.
public enum ONNXImport {
    /// Whether `path` names an ONNX model (by its extension, `.onnx`).
    public static func isModel(_ path: String) -> Bool {
        (path as NSString).pathExtension.lowercased() == "onnx"
    }

    /// The network of the ONNX model at `path`.
    ///
    /// - Parameters:
    ///   - inputShape: N, C, H, W for the model's first input (needed when it has a dynamic
    ///     dimension; replaces the model's own sizes when given).
    ///   - name: the network's name (default: the file's name without `.onnx`, made id-safe).
    ///   - shippedFiles: where the virtualenv's Python and the importer script are (default: the
    ///     installation or source tree that holds the script).
    /// - Throws: ``SweepError`` naming the file and the node.
    public static func network(
        at path: String, inputShape: [Int]? = nil, name: String? = nil, shippedFiles: ShippedFiles? = nil
    ) throws(SweepError) -> Network {
        let files = shippedFiles ?? ShippedFiles.holding(\.onnxScript)
        let output = try run(path: path, inputShape: inputShape, files: files)
        let reply: Reply
        do { reply = try JSONDecoder().decode(Reply.self, from: Data(output.utf8)) } catch {
            throw SweepError(
                file: path, message: "the importer \(files.onnxScript) wrote no network: \(output.prefix(300))")
        }
        if let problem = reply.error {
            // The node is named in the message or, when it is not, as the field.
            let node = reply.node.flatMap { problem.contains("'\($0)'") ? nil : "node \($0)" }
            throw SweepError(file: path, field: node, message: problem)
        }
        guard let layers = reply.layers, let sha256 = reply.sha256, let opset = reply.opset,
            let input = reply.inputs?.first
        else {
            throw SweepError(file: path, message: "the importer \(files.onnxScript) wrote an incomplete reply")
        }
        guard !layers.isEmpty else {
            throw SweepError(
                file: path, message: "the model has no Conv, Gemm or MatMul with constant weights to measure")
        }
        var network = Network(
            name: name ?? defaultName(of: path),
            source: "ONNX model \((path as NSString).lastPathComponent)"
                + (reply.producer.map { $0.isEmpty ? "" : " (\($0))" } ?? "")
                + ", input \(input.shape.map(String.init).joined(separator: "x"))",
            publishedGMACs: nil,
            model: Network.ImportedModel(
                sha256: sha256, opset: opset, input: input.shape, producer: reply.producer ?? ""),
            uncounted: (reply.uncounted ?? [:]).map { Network.UncountedOperator(op: $0.key, count: $0.value) }
                .sorted { $0.count != $1.count ? $0.count > $1.count : $0.op < $1.op },
            layers: [])
        for layer in layers {
            let shape = try layer.shape(file: path)
            if let last = network.layers.last, last.shape == shape {
                network.layers[network.layers.count - 1].count += 1
            } else {
                network.layers.append(Network.Layer(name: layer.name, shape: shape, count: 1))
            }
        }
        guard Network.isValidName(network.name) else {
            throw SweepError(
                file: path, field: "name", message: "'\(network.name)' must be letters, digits and . _ : = + -")
        }
        return network
    }

    /// The file's name without `.onnx`, every character a configuration id cannot hold as `_`.
    public static func defaultName(of path: String) -> String {
        let base = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let safe = String(
            String.UnicodeScalarView(base.unicodeScalars.map { SweepFileReader.isIdentifierSafe($0) ? $0 : "_" }))
        return safe.isEmpty ? "network" : safe
    }

    /// Runs the importer on `path`; its standard output.
    private static func run(path: String, inputShape: [Int]?, files: ShippedFiles) throws(SweepError) -> String {
        let python = files.python
        let script = files.onnxScript
        if let problem = files.problemRunning(script) {
            throw SweepError(file: path, message: "cannot import ONNX: \(problem)")
        }
        if let shape = inputShape, shape.count != 4 || shape.contains(where: { $0 <= 0 }) {
            throw SweepError(
                file: path, field: "--input-shape",
                message: "\(shape.map(String.init).joined(separator: ",")) is not N,C,H,W in positive integers")
        }
        // The path is an argument of its own (no shell); `--` is not needed: the script takes no options.
        let arguments = [script, path] + (inputShape.map { [$0.map(String.init).joined(separator: ",")] } ?? [])
        let result: (status: Int32, output: String)
        do { result = try Subprocess.run(python, arguments, discardingErrors: true) } catch {
            throw SweepError(file: path, message: "cannot run \(python): \(error)")
        }
        switch result.status {
        case 0, 65: return result.output
        case 3:
            throw SweepError(
                file: path, message: "the onnx package is not installed in \(python): run \(files.pythonSetUpCommand)")
        default:
            throw SweepError(
                file: path,
                message: "the importer \(script) failed (exit \(result.status))"
                    + (result.output.isEmpty ? "" : ": \(result.output.prefix(300))"))
        }
    }

    /// What `onnx_network.py` prints.
    private struct Reply: Decodable {
        struct Input: Decodable {
            var name: String
            var shape: [Int]
        }
        var error: String?
        var node: String?
        var sha256: String?
        var opset: Int?
        var producer: String?
        var inputs: [Input]?
        var layers: [ImportedLayer]?
        var uncounted: [String: Int]?
    }

    /// One layer as the importer prints it.
    private struct ImportedLayer: Decodable {
        var name: String
        var kind: String
        var batch: Int?
        var rows: Int?
        var H: Int?
        var W: Int?
        var Cin: Int
        var Cout: Int
        var K1: Int?
        var K2: Int?
        var stride: [Int]?
        var pads: [Int]?
        var dilation: [Int]?
        var groups: Int?

        /// The layer as a shape, checked as a network file's layer is.
        func shape(file: String) throws(SweepError) -> ConvShape {
            let limit = ConvShape.maximumDimension
            func bad(_ what: String) -> SweepError {
                SweepError(file: file, field: "layer \(name)", message: what)
            }
            let shape: ConvShape
            switch kind {
            case "fc":
                guard let rows, rows > 0, Cin > 0, Cout > 0, max(rows, Cin, Cout) <= limit else {
                    throw bad("a fully-connected layer of \(rows ?? 0) rows, \(Cin) inputs and \(Cout) outputs")
                }
                shape = .fullyConnected(rows: rows, inputs: Cin, outputs: Cout)
            case "conv":
                guard let batch, let H, let W, let K1, let K2, let stride, stride.count == 2, let pads, pads.count == 4,
                    let dilation, dilation.count == 2, let groups,
                    [batch, H, W, Cin, Cout, K1, K2, groups].allSatisfy({ $0 > 0 && $0 <= limit }),
                    (stride + dilation).allSatisfy({ $0 > 0 && $0 <= limit }),
                    pads.allSatisfy({ $0 >= 0 && $0 <= limit })
                else { throw bad("a convolution with a size out of range") }
                shape = ConvShape(
                    batch: batch, height: H, width: W, inputChannels: Cin, outputChannels: Cout, kernelHeight: K1,
                    kernelWidth: K2, stride: (stride[0], stride[1]),
                    padding: .explicit(top: pads[0], left: pads[1], bottom: pads[2], right: pads[3]),
                    dilation: (dilation[0], dilation[1]), groups: groups)
            default:
                throw bad("a layer of kind '\(kind)'")
            }
            do { try shape.validateGeometry() } catch { throw bad("\(shape): \(error)") }
            return shape
        }
    }
}
