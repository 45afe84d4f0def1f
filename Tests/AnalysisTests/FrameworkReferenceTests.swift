import Foundation
import TestSupport
import Testing

@testable import Analysis

@Suite("A framework's end-to-end reference, read back")
struct FrameworkReferenceTests {
    private let entry = FrameworkReference.Entry(
        network: "resnet18", modelSHA256: String(repeating: "a", count: 64), framework: "onnxruntime",
        frameworkVersion: "1.32.0", threads: 1, pu: 1, optimization: "ORT_ENABLE_ALL", roundMediansMs: [21, 20, 23],
        runsPerRound: [10, 10, 9])

    @Test("what is written reads back; the median and interval are the rounds'")
    func roundTrip() throws {
        let reference = FrameworkReference(
            convsweep: "0.9.0", cpuModel: "AMD EPYC", host: "lab", date: "2026-12-06T20:00:00Z", networks: [entry])
        let path = temporaryDirectory() + "/reference.json"
        try reference.encoded().write(to: URL(fileURLWithPath: path))
        let read = try FrameworkReference.load(path: (path as NSString).deletingLastPathComponent)
        #expect(read == reference)
        #expect(read.entry("resnet18")?.milliseconds == 21 && read.entry("resnet18")?.interval == 20...23)
        #expect(read.entry("vgg16") == nil)
    }

    @Test("a bad file names the file and the field")
    func badFiles() throws {
        let directory = temporaryDirectory()
        let good =
            try JSONSerialization.jsonObject(
                with: FrameworkReference(convsweep: "x", cpuModel: "c", host: "h", date: "d", networks: [entry])
                    .encoded())
            as! [String: Any]
        func variant(_ change: (inout [String: Any]) -> Void) throws -> Data {
            var copy = good
            change(&copy)
            return try JSONSerialization.data(withJSONObject: copy)
        }
        for (data, field, message) in [
            (Data("not json".utf8), nil, ""),
            (try variant { $0["version"] = 2 }, "format", "is not convsweep-framework-reference version 1"),
            (try variant { $0.removeValue(forKey: "host") }, "host", "missing"),
            (
                try variant { root in
                    var networks = root["networks"] as! [[String: Any]]
                    networks[0]["round_medians_ms"] = [1.0, -2.0, 3.0]
                    root["networks"] = networks
                }, "networks[0].round_medians_ms", "positive"
            ),
            (
                try variant { root in
                    var networks = root["networks"] as! [[String: Any]]
                    networks[0]["runs_per_round"] = [1]
                    root["networks"] = networks
                }, "networks[0]", "do not fit"
            ),
            (
                try variant { root in
                    var networks = root["networks"] as! [[String: Any]]
                    networks[0]["threads"] = "one"
                    root["networks"] = networks
                }, "networks[0].threads", ""
            ),
        ] {
            let path = directory + "/reference.json"
            try data.write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: FrameworkReferenceError.self) { try FrameworkReference.load(path: path) }
            #expect(error?.file == path && error?.field == field, "\(String(describing: error))")
            #expect(message.isEmpty || error?.message.contains(message) == true, "\(String(describing: error))")
        }
    }
}
