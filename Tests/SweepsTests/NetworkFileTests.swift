import ConvKernels
import Foundation
import TestSupport
import Testing

@testable import Sweeps

/// The published figures the network files must match: torchvision's model table (the weights'
/// `meta["_ops"]`, GMACs to three decimals: https://pytorch.org/vision/stable/models.html), and
/// the layer counts of torchvision's definitions (ResNet-50: 53 convolutions and one classifier;
/// MobileNetV2: 52 and one).
private let published: [(name: String, gmacs: Double, convolutions: Int, fullyConnected: Int)] = [
    ("resnet18", 1.814, 20, 1), ("resnet50", 4.089, 53, 1), ("vgg16", 15.47, 13, 3),
    ("mobilenet_v2", 0.301, 52, 1), ("mobilenet_v3_large", 0.217, 62, 2), ("squeezenet1_1", 0.349, 26, 0),
    ("efficientnet_b0", 0.386, 81, 1), ("shufflenet_v2_x1_0", 0.145, 56, 1), ("densenet121", 2.834, 120, 1),
    ("googlenet", 1.498, 57, 1), ("convnext_tiny", 4.456, 22, 37),
]

private let networks = repositoryRoot.appendingPathComponent("sweeps/networks")

/// A fresh directory holding `nets/tiny.yaml`: a 3×3 layer run twice and a fully-connected layer.
private func directoryWithTinyNetwork() throws -> URL {
    let directory = temporaryDirectoryURL("nets")
    try FileManager.default.createDirectory(
        at: directory.appendingPathComponent("nets"), withIntermediateDirectories: true)
    try """
    network: tiny
    source: test
    published_gmacs: 0
    layers:
      - {name: a, H: 8, W: 8, Cin: 4, Cout: 4, K: 3, padding: 1, count: 2}
      - {name: fc, layer: fc, Cin: 4, Cout: 10}
    """.write(to: directory.appendingPathComponent("nets/tiny.yaml"), atomically: true, encoding: .utf8)
    return directory
}

@Suite("Network files: the zoo as data")
struct NetworkFileTests {
    @Test(
        "each network has its published layer count and MAC total (within 1%, or torchvision's rounding)",
        arguments: published.map(\.name))
    func publishedFigures(name: String) throws {
        let expected = published.first { $0.name == name }!
        let network = try Network.load(path: networks.appendingPathComponent("\(name).yaml").path)
        #expect(network.name == name && network.publishedGMACs == expected.gmacs)
        #expect(
            network.convolutionCount == expected.convolutions && network.fullyConnectedCount == expected.fullyConnected)
        let gmacs = network.macs / 1e9
        #expect(abs(gmacs - expected.gmacs) <= max(0.01 * expected.gmacs, 0.0005), "\(name): \(gmacs) GMACs")
    }

    @Test("the zoo is exactly the eleven networks, each read as the sweep of its distinct layers")
    func zooAsSweeps() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: networks.path).filter { $0.hasSuffix(".yaml") }
        #expect(Set(files) == Set(published.map { "\($0.name).yaml" }))
        let sweep = try Sweep.load(path: networks.appendingPathComponent("mobilenet_v2.yaml").path)
        let network = try Network.load(path: networks.appendingPathComponent("mobilenet_v2.yaml").path)
        #expect(sweep.name == "mobilenet_v2" && sweep.configurations.count == network.distinctShapes.count)
        #expect(Set(sweep.configurations.map(\.id)).count == sweep.configurations.count)
        #expect(sweep.configurations.filter { $0.shape.isDepthwise }.count == 10)
        #expect(sweep.configurations.contains { $0.id == "mobilenet_v2/fully_connected/FC-M1-In1280-Out1000" })
        let convnext = try Network.load(path: networks.appendingPathComponent("convnext_tiny.yaml").path)
        #expect(convnext.layers.contains { $0.shape == .fullyConnected(rows: 56 * 56, inputs: 96, outputs: 384) })
    }

    @Test("a bad network file is refused with file, line and field")
    func badFiles() throws {
        let head = "network: n\nsource: s\npublished_gmacs: 1\nlayers:\n"
        for (body, line, field, text) in [
            ("  - {name: a, H: 8, W: 8, Cin: 4, Cout: 6, K: 3, groups: 4}\n", 5, "layers[0].groups", "must divide"),
            ("  - {name: a, H: 8, W: 8, Cin: 4, Cout: 4, K: 3, count: 0}\n", 5, "layers[0].count", "positive integer"),
            ("  - {name: a, H: 8, W: 8, Cin: 4, Cout: 4, K: [1, 3]}\n", 5, "layers[0].K", "single numbers"),
            ("  - {name: a, layer: fc, Cin: 4, Cout: 4, K: 1}\n", 5, "layers[0].K", "fully-connected layer has no"),
            ("  - {H: 8, W: 8, Cin: 4, Cout: 4, K: 3}\n", 5, "layers[0].name", "missing"),
        ] {
            let error = #expect(throws: SweepError.self) {
                try Network(contents: Data((head + body).utf8), path: "n.yaml")
            }
            #expect(
                error?.line == line && error?.field == field && error?.message.contains(text) == true,
                "\(String(describing: error))")
        }
        let missing = #expect(throws: SweepError.self) {
            try Network(contents: Data("network: n\npublished_gmacs: 1\nlayers: []\n".utf8), path: "n.yaml")
        }
        #expect(missing?.field == "source")
        // published_gmacs is optional (an imported model has none); onnx and uncounted are checked.
        let body = "  - {name: a, H: 8, W: 8, Cin: 4, Cout: 4, K: 3}\n"
        #expect(
            try Network(contents: Data(("network: n\nsource: s\nlayers:\n" + body).utf8), path: "n.yaml").publishedGMACs
                == nil)
        for (extra, field) in [
            ("onnx: {sha256: abc, opset: 17, input: 1x3x8x8}\n", "onnx.sha256"),
            ("onnx: {sha256: \"\(String(repeating: "a", count: 64))\", opset: 17, input: 1x3x0x8}\n", "onnx.input"),
            ("uncounted:\n  - {op: Relu, count: 0}\n", "uncounted[0].count"),
        ] {
            let error = #expect(throws: SweepError.self) {
                try Network(
                    contents: Data(("network: n\nsource: s\n" + extra + "layers:\n" + body).utf8), path: "n.yaml")
            }
            #expect(error?.field == field, "\(String(describing: error))")
        }
    }

    @Test("a network-batch sweep measures every network of its directory at a batch; bad ones name the field")
    func networkBatchSweep() throws {
        let directory = try directoryWithTinyNetwork()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sweep = directory.appendingPathComponent("b.yaml")
        try "name: b4\nnetworks: nets\nbatch: 4\n".write(to: sweep, atomically: true, encoding: .utf8)
        let loaded = try Sweep.load(path: sweep.path)
        #expect(loaded.configurations.map(\.experiment) == ["tiny-batch4", "tiny-batch4"])
        #expect(loaded.configurations.map(\.shape.batch) == [4, 4])
        #expect(loaded.configurations[1].shape.kind == .fullyConnected)
        for (text, line, field, message) in [
            ("name: b\nnetworks: nets\nbatch: 1\n", 3, "batch", "2 or more"),
            ("name: b\nnetworks: nowhere\nbatch: 2\n", nil, "networks", "no network files"),
            ("name: b\nbatch: 2\nnetworks: nets\nlimits: {}\n", 4, "limits", "unknown"),
        ] as [(String, Int?, String, String)] {
            try text.write(to: sweep, atomically: true, encoding: .utf8)
            let error = #expect(throws: SweepError.self) { try Sweep.load(path: sweep.path) }
            #expect(
                (line == nil || error?.line == line) && error?.field == field
                    && error?.message.contains(message) == true, "\(String(describing: error))")
        }
    }

    @Test("exclude_networks drops the layers a network has, naming it; the shipped layer samples exclude the zoo")
    func excludeNetworks() throws {
        let directory = try directoryWithTinyNetwork()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sweep = directory.appendingPathComponent("s.yaml")
        try """
        name: E
        series:
          - label: s
            H: 8
            W: 8
            Cin: [4, 8]
            Cout: 4
            K: 3
          - label: f
            layer: fc
            Cin: 4
            Cout: [10, 20]
        exclude_networks: nets
        """.write(to: sweep, atomically: true, encoding: .utf8)
        let loaded = try Sweep.load(path: sweep.path)
        #expect(
            loaded.configurations.map(\.status.text) == [
                "dropped: a layer of tiny (exclude_networks)", "ok", "dropped: a layer of tiny (exclude_networks)",
                "ok",
            ])
        try "name: E\nseries:\n  - {label: s, H: 8, W: 8, Cin: 4, Cout: 4, K: 3}\nexclude_networks: none\n"
            .write(to: sweep, atomically: true, encoding: .utf8)
        let error = #expect(throws: SweepError.self) { try Sweep.load(path: sweep.path) }
        #expect(error?.field == "exclude_networks" && error?.message.contains("holds no network files") == true)

        // The shipped layer samples: no layer of the zoo is measured.
        for file in ["sweeps/layers.yaml", "sweeps/quick/layers.yaml"] {
            let sample = try Sweep.load(path: repositoryRoot.appendingPathComponent(file).path)
            let zoo = try FileManager.default.contentsOfDirectory(atPath: networks.path).filter {
                $0.hasSuffix(".yaml")
            }
            .flatMap { try Network.load(path: networks.appendingPathComponent($0).path).layers.map(\.shape) }
            let measured = sample.configurations.filter(\.isMeasured).map(\.shape)
            #expect(!measured.contains(where: Set(zoo).contains), "\(file)")
            #expect(sample.configurations.contains { $0.status.text.hasSuffix("(exclude_networks)") }, "\(file)")
        }
    }
}
