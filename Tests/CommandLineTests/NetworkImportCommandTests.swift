import Foundation
import TestSupport
import Testing

/// A committed ONNX fixture (`Tests/Fixtures/onnx/make_fixtures.py`).
private func fixture(_ name: String) -> String {
    repositoryRoot.appendingPathComponent("Tests/Fixtures/onnx/\(name)").path
}

@Suite("convsweep networks import, and a model wherever a network goes")
struct NetworkImportCommandTests {
    @Test("import writes a network file that list, predict and cost read; a bad model exits 65 and writes nothing")
    func importAndUse() throws {
        let directory = temporaryDirectory()
        let file = directory + "/mine.yaml"
        let imported = try convsweep([
            "networks", "import", fixture("dynamic_batch.onnx"), "--input-shape", "1,3,16,16", "--name", "mine",
            "--out", file,
        ])
        #expect(imported.status == 0, "\(imported.standardError)")
        #expect(imported.standardOutput.contains("mine: 1 convolutions, 1 fully connected"))
        #expect(imported.standardOutput.contains("not counted (not measured, not summed): Flatten × 1"))
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("network: mine") && text.contains("input: 1x3x16x16"))

        // Without --out the file goes to standard output, the summary to standard error.
        let printed = try convsweep(["networks", "import", fixture("layers.onnx")])
        #expect(printed.status == 0 && printed.standardOutput.hasPrefix("# layers:"))
        #expect(printed.standardError.contains("MatMul (between activations) × 1"))

        let listed = try convsweep(["networks", "list", file, fixture("layers.onnx")])
        #expect(listed.status == 0, "\(listed.standardError)")
        #expect(listed.standardOutput.contains("mine ") && listed.standardOutput.contains("layers "))

        // predict --network takes the model itself (imported on the fly) and the file alike.
        let fit = directory + "/fit.json"
        #expect(
            try convsweep(["fit", originalDataPath, "--exclude-plot", "increasing_batch", "--out", fit]).status == 0)
        // (The original study's fit has no grouped layers: the model's depthwise layer is named.)
        let predicted = try convsweep(["predict", "--fit", fit, "--network", fixture("layers.onnx")])
        #expect(predicted.status == 65, "\(predicted.standardError)")
        #expect(predicted.standardError.contains("layers.onnx: layer block.dw"), "\(predicted.standardError)")
        #expect(predicted.standardError.contains("no fitted group grouped"))

        for (model, expected) in [
            (fixture("computed_weights.onnx"), "conv_w"), (fixture("dynamic_batch.onnx"), "--input-shape"),
            (fixture("opset99.onnx"), "opset 99"),
        ] {
            let out = directory + "/refused.yaml"
            let refused = try convsweep(["networks", "import", model, "--out", out])
            #expect(refused.status == 65 && refused.standardError.contains(model), "\(refused.standardError)")
            #expect(refused.standardError.contains(expected), "\(refused.standardError)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
        let usage = try convsweep(["networks", "import", fixture("layers.onnx"), "--input-shape", "1,3,x,8"])
        #expect(usage.status == 64 && usage.standardError.contains("N,C,H,W"))
        // --compare holds the import against a file: a difference exits 1 and writes nothing.
        let out = directory + "/compared.yaml"
        let differs = try convsweep([
            "networks", "import", fixture("layers.onnx"), "--compare", file, "--out", out,
        ])
        #expect(differs.status == 1 && differs.standardError.contains("differs from"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("a model is run, timed in ONNX Runtime and costed: the framework's time beside the layers' sum")
    func runReferenceAndCost() throws {
        let directory = temporaryDirectory()
        let model = fixture("layers.onnx")
        let ran = try convsweep(["run", model, "--out", directory + "/run", "--quiet", "--max-seconds", "0.05"])
        #expect(ran.status == 0, "\(ran.standardError)")
        let referenced = try convsweep(["networks", "reference", model, "--out", directory + "/ref", "--rounds", "2"])
        #expect(referenced.status == 0, "\(referenced.standardError)")
        #expect(referenced.standardOutput.contains("layers: ") && referenced.standardOutput.contains("onnxruntime"))
        let json = try String(contentsOfFile: directory + "/ref/reference.json", encoding: .utf8)
        #expect(
            json.contains("\"format\" : \"convsweep-framework-reference\"") && json.contains("\"network\" : \"layers\"")
        )
        let cost = try convsweep([
            "networks", "cost", directory + "/run", "--network", model, "--reference", directory + "/ref",
        ])
        #expect(cost.status == 0, "\(cost.standardError)")
        #expect(cost.standardOutput.contains("layers: ") && cost.standardOutput.contains("framework (onnxruntime"))
        #expect(cost.standardOutput.contains("the layers' sum is"))
        // Two runs of the model are compared like any runs: each configuration by its id.
        let again = try convsweep(["run", model, "--out", directory + "/again", "--quiet", "--max-seconds", "0.05"])
        #expect(again.status == 0, "\(again.standardError)")
        let compared = try convsweep(["compare", directory + "/run", directory + "/again"])
        #expect(compared.status == 0, "\(compared.standardError)")
        #expect(compared.standardOutput.contains("layers") && compared.standardOutput.contains("Spearman"))
        // A reference that is not one is refused with the file and the field (exit 65).
        try "{\"format\": \"convsweep-framework-reference\", \"version\": 1}".write(
            toFile: directory + "/ref/reference.json", atomically: true, encoding: .utf8)
        let bad = try convsweep([
            "networks", "cost", directory + "/run", "--network", model, "--reference", directory + "/ref",
        ])
        #expect(
            bad.status == 65 && bad.standardError.contains("reference.json: convsweep: missing"), "\(bad.standardError)"
        )
    }
}
