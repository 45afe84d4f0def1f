import Basics
import ConvKernels
import Foundation
import TestSupport
import Testing

@testable import Sweeps

/// The committed ONNX fixtures (`Tests/Fixtures/onnx/make_fixtures.py` says what each holds).
private func fixture(_ name: String) -> String {
    repositoryRoot.appendingPathComponent("Tests/Fixtures/onnx/\(name)").path
}

/// A convolution of the fixtures, padding in numbers.
private func conv(
    _ h: Int, _ w: Int, _ cin: Int, _ cout: Int, k: Int, stride: Int = 1, pads: (Int, Int, Int, Int),
    dilation: Int = 1, groups: Int = 1, batch: Int = 1
) -> ConvShape {
    ConvShape(
        batch: batch, height: h, width: w, inputChannels: cin, outputChannels: cout, kernel: k, stride: stride,
        padding: .explicit(top: pads.0, left: pads.1, bottom: pads.2, right: pads.3), dilation: dilation,
        groups: groups)
}

@Suite("ONNX import: a user's own network")
struct ONNXImportTests {
    @Test(
        "every Conv, Gemm and MatMul with constant weights, with strides, asymmetric pads, auto_pad, groups, dilation and repeats"
    )
    func layersOfTheModel() throws {
        let network = try ONNXImport.network(at: fixture("layers.onnx"))
        let expected: [(String, ConvShape, Int)] = [
            ("stem", conv(32, 32, 3, 8, k: 3, stride: 2, pads: (1, 0, 2, 1)), 1),
            // auto_pad SAME_UPPER on 17×16 at stride 2: 1 row above and below, 1 column on the right.
            ("block.dw", conv(17, 16, 8, 8, k: 3, stride: 2, pads: (1, 0, 1, 1), groups: 8), 1),
            ("block.pw", conv(9, 8, 8, 16, k: 1, pads: (0, 0, 0, 0), groups: 2), 1),
            ("dilated", conv(9, 8, 16, 16, k: 3, pads: (2, 2, 2, 2), dilation: 2), 1),
            ("layer.0", conv(9, 8, 16, 16, k: 3, pads: (1, 1, 1, 1)), 2),
            ("fc", .fullyConnected(rows: 1, inputs: 16, outputs: 10), 1),
            ("proj", .fullyConnected(rows: 1, inputs: 16, outputs: 4), 1),
        ]
        #expect(network.layers.map(\.name) == expected.map(\.0))
        #expect(network.layers.map(\.shape) == expected.map(\.1))
        #expect(network.layers.map(\.count) == expected.map(\.2))
        // The MACs the model implies, output by output: 17·16·8·27 + 9·8·8·9 + 9·8·16·4 + 3 × 9·8·16·144 + 160 + 64.
        #expect(network.macs == Double(17 * 16 * 8 * 27 + 9 * 8 * 8 * 9 + 9 * 8 * 16 * 4 + 3 * 9 * 8 * 16 * 144 + 224))
        let uncounted = Dictionary(uniqueKeysWithValues: network.uncounted.map { ($0.op, $0.count) })
        #expect(
            uncounted == [
                "Relu": 1, "Add": 1, "GlobalAveragePool": 1, "Flatten": 1, "Transpose": 1,
                "MatMul (between activations)": 1,
            ])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: fixture("layers.onnx")))
        #expect(
            network.model
                == .init(sha256: SHA256Hex.of(bytes), opset: 17, input: [1, 3, 32, 32], producer: "make_fixtures"))
        #expect(network.name == "layers" && network.publishedGMACs == nil)
    }

    @Test("the network file it writes reads back to the same network, model and uncounted operators")
    func fileRoundTrip() throws {
        var network = try ONNXImport.network(at: fixture("layers.onnx"), name: "my:net")
        network.uncounted.append(.init(op: "com.example: odd {op}, #1", count: 3))
        network.layers[0].name = "true"
        let read = try Network(contents: Data(network.fileText().utf8), path: "n.yaml")
        #expect(read.name == "my:net" && read.source == network.source && read.model == network.model)
        #expect(read.uncounted == network.uncounted)
        #expect(read.layers.map(\.name) == network.layers.map(\.name))
        #expect(read.layers.map(\.shape) == network.layers.map(\.shape))
        #expect(read.layers.map(\.count) == network.layers.map(\.count))
        // A zoo file written by hand reads back unchanged through the writer too.
        let zoo = try Network.load(
            path: repositoryRoot.appendingPathComponent("sweeps/networks/mobilenet_v2.yaml").path)
        let again = try Network(contents: Data(zoo.fileText().utf8), path: "z.yaml")
        #expect(again.layers.map(\.shape) == zoo.layers.map(\.shape) && again.publishedGMACs == zoo.publishedGMACs)
    }

    @Test("a dynamic batch needs --input-shape, and takes it")
    func dynamicBatch() throws {
        let error = #expect(throws: SweepError.self) { try ONNXImport.network(at: fixture("dynamic_batch.onnx")) }
        #expect(error?.message.contains("--input-shape") == true && error?.file == fixture("dynamic_batch.onnx"))
        let network = try ONNXImport.network(at: fixture("dynamic_batch.onnx"), inputShape: [2, 3, 16, 16])
        #expect(
            network.layers.map(\.shape) == [
                conv(16, 16, 3, 4, k: 3, pads: (1, 1, 1, 1), batch: 2),
                .fullyConnected(rows: 2, inputs: 1024, outputs: 5),
            ])
        #expect(network.model?.input == [2, 3, 16, 16] && network.model?.opset == 13)
    }

    @Test("a model that cannot be imported names the file and the node")
    func badModels() throws {
        let directory = temporaryDirectoryURL("onnx-bad")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = directory.appendingPathComponent("text.onnx")
        try "network: not onnx\n".write(to: text, atomically: true, encoding: .utf8)
        let whole = try Data(contentsOf: URL(fileURLWithPath: fixture("layers.onnx")))
        let truncated = directory.appendingPathComponent("truncated.onnx")
        try whole.prefix(whole.count / 2).write(to: truncated)
        let empty = directory.appendingPathComponent("empty.onnx")
        try Data().write(to: empty)
        for (path, expected) in [
            (text.path, "not an ONNX model"), (truncated.path, "not an ONNX model"), (empty.path, "empty"),
            (fixture("opset99.onnx"), "opset 99 is not supported"),
            (fixture("computed_weights.onnx"), "'conv_w': its weights 'w' are not constant"),
            (fixture("data_dependent.onnx"), "'conv_dd': the shape of its input 'r' depends on the data"),
            (directory.appendingPathComponent("missing.onnx").path, "cannot read"),
        ] {
            let error = #expect(throws: SweepError.self) { try ONNXImport.network(at: path) }
            #expect(error?.file == path && error?.message.contains(expected) == true, "\(String(describing: error))")
        }
        #expect(throws: SweepError.self) {
            try ONNXImport.network(at: fixture("layers.onnx"), inputShape: [1, 3, 0, 8])
        }
    }

    @Test("an ONNX model is a sweep and a network file wherever one goes, its bytes hashed")
    func everywhere() throws {
        let sweep = try Sweep.load(path: fixture("layers.onnx"))
        #expect(sweep.configurations.count == 7 && sweep.configurations.allSatisfy { $0.experiment == "layers" })
        #expect(SHA256Hex.of(sweep.contents) == (try Network.load(path: fixture("layers.onnx"))).model?.sha256)
        // A directory of networks reads models beside network files; two of one name are refused.
        let directory = temporaryDirectoryURL("onnx-dir")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(
            atPath: fixture("layers.onnx"), toPath: directory.appendingPathComponent("layers.onnx").path)
        let imported = try ONNXImport.network(at: fixture("layers.onnx"))
        try imported.fileText().write(
            to: directory.appendingPathComponent("copy.yaml"), atomically: true, encoding: .utf8)
        let error = #expect(throws: SweepError.self) { try Network.loadAll(directory: directory.path) }
        #expect(error?.message.contains("is network layers too") == true)
        try FileManager.default.removeItem(at: directory.appendingPathComponent("copy.yaml"))
        #expect(try Network.loadAll(directory: directory.path).map(\.name) == ["layers"])
    }
}
