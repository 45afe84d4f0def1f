import ConvKernels
import Foundation

extension Network {
    /// The network as a network file (sweeps/networks/README.md), in the form the zoo's files
    /// have: one flow mapping per layer, only the fields that differ from a layer's defaults,
    /// consecutive repeats as `count`. ``init(contents:path:)`` reads it back to an equal network.
    public func fileText() -> String {
        let convolutions = convolutionCount
        var lines = [
            "# \(name): every convolution and fully-connected layer in execution order (\(convolutions)",
            "# convolutions, \(fullyConnectedCount) fully connected), consecutive repeats written once with their count.",
        ]
        if model != nil {
            lines.append("# Written by `convsweep networks import` from the ONNX model; `uncounted` lists the")
            lines.append("# operators it does not count (not measured, not summed by `networks cost`).")
        }
        lines.append("network: \(Network.scalar(name))")
        lines.append("source: \(Network.scalar(source))")
        if let publishedGMACs { lines.append("published_gmacs: \(publishedGMACs)") }
        if let model {
            var fields = [
                "sha256: \(Network.scalar(model.sha256, quoted: true))", "opset: \(model.opset)",
                "input: \(model.input.map(String.init).joined(separator: "x"))",
            ]
            if !model.producer.isEmpty { fields.append("producer: \(Network.scalar(model.producer))") }
            lines.append("onnx: {" + fields.joined(separator: ", ") + "}")
        }
        if !uncounted.isEmpty {
            lines.append("uncounted:")
            for op in uncounted { lines.append("  - {op: \(Network.scalar(op.op)), count: \(op.count)}") }
        }
        lines.append("layers:")
        for layer in layers {
            var fields = ["name: \(Network.scalar(layer.name))"] + Network.fields(of: layer.shape)
            if layer.count > 1 { fields.append("count: \(layer.count)") }
            lines.append("  - {" + fields.joined(separator: ", ") + "}")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A layer's axes as `name: value` texts: a fully-connected layer's `layer`, `batch`, `Cin`,
    /// `Cout`; a convolution's sizes, kernel, and the stride, padding, dilation and groups (the
    /// padding always, in numbers).
    static func fields(of shape: ConvShape) -> [String] {
        if shape.kind == .fullyConnected {
            return [
                "layer: fc", "batch: \(shape.batch)", "Cin: \(shape.inputChannels)", "Cout: \(shape.outputChannels)",
            ]
        }
        var fields = shape.batch == 1 ? [] : ["batch: \(shape.batch)"]
        fields += [
            "H: \(shape.height)", "W: \(shape.width)", "Cin: \(shape.inputChannels)", "Cout: \(shape.outputChannels)",
        ]
        fields += pair("K", "K1", "K2", shape.kernelHeight, shape.kernelWidth, skipping: nil)
        fields += pair("stride", "stride_h", "stride_w", shape.strideHeight, shape.strideWidth, skipping: 1)
        let p = shape.resolvedPadding
        fields +=
            p.top == p.left && p.left == p.bottom && p.bottom == p.right
            ? ["padding: \(p.top)"]
            : ["pad_top: \(p.top)", "pad_left: \(p.left)", "pad_bottom: \(p.bottom)", "pad_right: \(p.right)"]
        fields += pair("dilation", "dilation_h", "dilation_w", shape.dilationHeight, shape.dilationWidth, skipping: 1)
        if shape.groups != 1 { fields.append("groups: \(shape.groups)") }
        return fields
    }

    /// `both: a` when the two are equal, else `first: a, second: b`; nothing when both are `skipping`.
    private static func pair(_ both: String, _ first: String, _ second: String, _ a: Int, _ b: Int, skipping: Int?)
        -> [String]
    {
        if a == b { return a == skipping ? [] : ["\(both): \(a)"] }
        return ["\(first): \(a)", "\(second): \(b)"]
    }

    /// `text` as a YAML scalar: plain when it is a plain word that YAML reads back as the same
    /// text (letters, digits, `. _ - / + = :`, starting with a letter or `_`), else double-quoted
    /// (JSON's quoting, which YAML reads).
    static func scalar(_ text: String, quoted: Bool = false) -> String {
        let plain =
            !quoted && !text.isEmpty
            && text.unicodeScalars.allSatisfy {
                CharacterSet.alphanumerics.contains($0) && $0.isASCII || "._-/+=".unicodeScalars.contains($0)
            }
            && (text.first!.isLetter || text.first == "_")
            && !["true", "false", "yes", "no", "on", "off", "null", "y", "n"].contains(text.lowercased())
        if plain { return text }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let data = (try? encoder.encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
