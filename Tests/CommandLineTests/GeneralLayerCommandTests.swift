import ConvKernels
import Foundation
import Rows
import Runner
import Sweeps
import TestSupport
import Testing

@Suite("measure and check with general layers")
struct GeneralLayerCommandTests {
    @Test("measure takes --stride, --padding, --dilation, --groups and --fc, and says what it measured")
    func measureFlags() throws {
        let outcome = try convsweep([
            "measure", "--h", "12", "--w", "10", "--cin", "6", "--cout", "6", "-k", "3", "--stride", "2", "--padding",
            "1", "--groups", "depthwise", "--runs", "2", "--json",
        ])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as! [String: Any]
        #expect(object["algorithm"] as? String == "depthwise-direct")
        #expect(object["Ho"] as? Int == 6 && object["Wo"] as? Int == 5 && object["groups"] as? Int == 6)
        #expect(
            object["stride_h"] as? Int == 2 && object["pad_top"] as? Int == 1 && object["layer"] as? String == "conv")
        #expect((object["flops"] as? NSNumber)?.doubleValue == Double(2 * 6 * 5 * 6 * 1 * 9))

        let asymmetric = try convsweep([
            "measure", "--h", "9", "--w", "9", "--cin", "4", "--cout", "4", "-k", "3", "--stride", "2,1", "--padding",
            "0,1,2,1", "--dilation", "1,2", "--groups", "2", "--runs", "1",
        ])
        #expect(asymmetric.status == 0, "\(asymmetric.standardError)")
        #expect(asymmetric.standardOutput.contains("stride=2x1 pad=0,1,2,1 dilation=1x2 groups=2"))

        let fc = try convsweep([
            "measure", "--fc", "--batch", "3", "--cin", "64", "--cout", "10", "--runs", "1", "--json",
        ])
        #expect(fc.status == 0, "\(fc.standardError)")
        let fcObject = try JSONSerialization.jsonObject(with: Data(fc.standardOutput.utf8)) as! [String: Any]
        #expect(fcObject["algorithm"] as? String == "fc-gemm" && fcObject["layer"] as? String == "fc")
    }

    @Test("an impossible layer is refused with 64, naming the flag and the rule, nothing measured")
    func refusals() throws {
        let base = ["measure", "--h", "5", "--w", "5", "--cin", "6", "--cout", "4"]
        for (arguments, text) in [
            (["-k", "7", "--padding", "valid"], "no output along its height"),
            (["-k", "3", "--groups", "4"], "--groups: groups = 4 must divide inputChannels = 6"),
            (["-k", "3", "--stride", "2"], "padding 'same' needs stride 1"),
            (["-k", "3", "--stride", "0", "--padding", "1"], "--stride must be integers from 1"),
            (["-k", "3", "--padding", "1,2"], "--padding"),
            (["-k", "3", "--algorithm", "depthwise-direct"], "depthwise-direct needs a depthwise convolution"),
            (["-k", "3", "--fc"], "drop --h"),
            (["--padding", "1"], "-k is needed for a convolution"),
        ] {
            let outcome = try convsweep(base + arguments)
            #expect(outcome.status == 64, "\(arguments): \(outcome.standardError)")
            #expect(outcome.standardError.contains(text), "\(arguments): \(outcome.standardError)")
            #expect(outcome.standardOutput.isEmpty)
        }
        let fc = try convsweep(["measure", "--fc", "--cin", "4", "--cout", "4", "--stride", "2"])
        #expect(fc.status == 64 && fc.standardError.contains("drop --stride"), "\(fc.standardError)")
    }

    @Test("check covers the general layers and every algorithm agrees")
    func check() throws {
        let outcome = try convsweep(["check"])
        #expect(outcome.status == 0, "\(outcome.standardOutput)")
        for name in ["depthwise-direct", "fc-gemm", "gemm-1x1"] {
            #expect(outcome.standardOutput.contains("  \(name) "), "\(name)")
        }
        #expect(outcome.standardOutput.contains("38 shapes against the reference"))
    }

    @Test("networks list shows the zoo with its published MACs; networks cost refuses rows without a network")
    func networks() throws {
        let list = try convsweep(["networks", "list"])
        #expect(list.status == 0, "\(list.standardError)")
        #expect(list.standardOutput.contains("resnet50                 53   1        24   4.089      4.089"))
        #expect(list.standardOutput.split(separator: "\n").count == 13)
        let empty = try writeTemporary(MeasurementsFile.gridHeader, name: "measurements.csv")
        let cost = try convsweep(["networks", "cost", empty])
        #expect(
            cost.status == 65 && cost.standardError.contains("holds the layers of no network"), "\(cost.standardError)")
    }

    @Test(
        "predict --network sums count × the fit's prediction over the file's layers, and names a layer it cannot predict"
    )
    func predictNetwork() throws {
        let squeezenet = repositoryRoot.appendingPathComponent("sweeps/networks/squeezenet1_1.yaml").path
        let rates = ["--model", "flops", "--parameters", "K=1:msPerGflop=10", "--parameters", "K>1:msPerGflop=20"]
        let outcome = try convsweep(["predict", "--network", squeezenet] + rates)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let network = try Network.load(path: squeezenet)
        let expected = network.layers.map { layer in
            Double(layer.count) * Accounting(shape: layer.shape).flops / 1e9 * (layer.shape.kernelSize == 1 ? 10 : 20)
        }.reduce(0, +)
        let total = try #require(
            outcome.standardOutput.split(separator: "\n").last { $0.hasPrefix("squeezenet1_1 predicted") })
        let stated = try #require(Double(total.split(separator: " ")[6]))
        #expect(abs(stated / expected - 1) < 1e-4, "\(total)")
        #expect(outcome.standardOutput.contains("features.0"))

        // ResNet-18's classifier is fully connected: a fit without an FC group cannot predict it.
        let resnet = repositoryRoot.appendingPathComponent("sweeps/networks/resnet18.yaml").path
        let missing = try convsweep(["predict", "--network", resnet] + rates)
        #expect(missing.status == 65)
        #expect(missing.standardError.contains("layer fc"), "\(missing.standardError)")
        let mixed = try convsweep(["predict", "--network", resnet, "--h", "4"] + rates)
        #expect(mixed.status == 64)
    }
}
