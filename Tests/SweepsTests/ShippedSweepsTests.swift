import ConvKernels
import Foundation
import Testing

@testable import Sweeps

/// The repository's `sweeps` directory.
private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("sweeps").path

private func shipped(_ relative: String) throws -> Sweep {
    try Sweep.load(path: (root as NSString).appendingPathComponent(relative))
}

/// One expected configuration: series label and (H, W, Cin, Cout, K1, K2, batch).
private struct Point: Hashable, CustomStringConvertible {
    var series: String
    var values: [Int]
    init(_ series: String, h: Int, w: Int, cin: Int, cout: Int, k: Int) {
        self.series = series
        values = [h, w, cin, cout, k, k, 1]
    }
    init(_ configuration: SweepConfiguration) {
        let s = configuration.shape
        series = configuration.series
        values = [s.height, s.width, s.inputChannels, s.outputChannels, s.kernelHeight, s.kernelWidth, s.batch]
    }
    var description: String { "\(series) \(values)" }
}

/// Round half away from zero of a / b for positive integers, in integer arithmetic.
private func roundedQuotient(_ a: Int, _ b: Int) -> Int { (2 * a + b) / (2 * b) }

// Table 1 of the replication, computed here independently of the sweep files.
private func expectedA(exponents: [Int]) -> [Point] {
    exponents.flatMap { x in
        [
            Point("HxW=1x2", h: 1, w: 2, cin: 100 << x, cout: 50 << x, k: 1),
            Point("HxW=2x2", h: 2, w: 2, cin: 50 << x, cout: 50 << x, k: 1),
            Point("HxW=4x4", h: 4, w: 4, cin: 25 << x, cout: 25 << x, k: 1),
        ]
    }
}
private func expectedB(kernels: [Int]) -> [Point] {
    [150, 100, 70, 50].flatMap { c in
        kernels.map { k in
            let side = roundedQuotient(300, k)
            return Point("Cin=\(c)", h: side, w: side, cin: c, cout: c, k: k)
        }
    }
}
private func expectedC(kernels: [Int]) -> [Point] {
    [4500, 3000, 2100, 1500].flatMap { r in
        kernels.map { k in Point("R=\(r)", h: 10, w: 10, cin: roundedQuotient(r, k), cout: roundedQuotient(r, k), k: k)
        }
    }
}
private func expectedD(_ widths: [Int]) -> [Point] {
    [50, 100, 150].flatMap { c in widths.map { Point("Cin=\(c)", h: 100, w: $0, cin: c, cout: 100, k: 3) } }
}
private func expectedE(_ outputs: [Int]) -> [Point] {
    [50, 100, 150].flatMap { c in outputs.map { Point("Cin=\(c)", h: 100, w: 100, cin: c, cout: $0, k: 3) } }
}
private func expectedF(_ outputs: [Int]) -> [Point] {
    [100, 200, 300].flatMap { h in outputs.map { Point("H=\(h)", h: h, w: 100, cin: 50, cout: $0, k: 1) } }
}
private func expectedG(_ inputs: [Int]) -> [Point] {
    [1, 3, 5].flatMap { k in inputs.map { Point("K=\(k)", h: 10, w: 100, cin: $0, cout: 100, k: k) } }
}

/// The original study's 33 points of D, E, F: 10, then 20 to 640 by 20.
private let originalLine = [10] + Array(stride(from: 20, through: 640, by: 20))
private let quickLine = [10, 220, 430, 640]

private let cases: [(file: String, expected: [Point])] = [
    ("paper/exp-a.yaml", expectedA(exponents: Array(0...9))),
    ("paper/exp-b.yaml", expectedB(kernels: Array(1...30))),
    ("paper/exp-c.yaml", expectedC(kernels: Array(1...30))),
    ("paper/exp-d.yaml", expectedD(originalLine)),
    ("paper/exp-e.yaml", expectedE(originalLine)),
    ("paper/exp-f.yaml", expectedF(originalLine)),
    ("paper/exp-g.yaml", expectedG(Array(stride(from: 100, through: 1000, by: 100)))),
    ("full/exp-a.yaml", expectedA(exponents: Array(0...9))),
    ("full/exp-b.yaml", expectedB(kernels: Array(1...30))),
    ("full/exp-c.yaml", expectedC(kernels: Array(1...30))),
    ("full/exp-d.yaml", expectedD(Array(1...650))),
    ("full/exp-e.yaml", expectedE(Array(1...650))),
    ("full/exp-f.yaml", expectedF(Array(1...650))),
    ("full/exp-g.yaml", expectedG(Array(1...1000))),
    ("quick/exp-a.yaml", expectedA(exponents: [0, 2, 4, 6])),
    ("quick/exp-b.yaml", expectedB(kernels: Array(stride(from: 1, through: 30, by: 7)))),
    ("quick/exp-c.yaml", expectedC(kernels: Array(stride(from: 1, through: 30, by: 7)))),
    ("quick/exp-d.yaml", expectedD(quickLine)),
    ("quick/exp-e.yaml", expectedE(quickLine)),
    ("quick/exp-f.yaml", expectedF(quickLine)),
    ("quick/exp-g.yaml", expectedG([100, 400, 700, 1000])),
]

/// The replication's regression grid (Section 4.1).
private let gridSizes = [1, 2, 4, 8, 16, 32, 64, 96, 128, 256]
private let gridChannels =
    Array(stride(from: 10, through: 90, by: 10)) + Array(stride(from: 100, through: 1100, by: 50)) + [1600, 3200]

@Suite("Shipped sweeps")
struct ShippedSweepsTests {
    @Test(
        "each experiment file expands to exactly Table 1 at its resolution, all measured", arguments: cases.map(\.file))
    func experimentMatchesTable(file: String) throws {
        let sweep = try shipped(file)
        let expected = cases.first { $0.file == file }!.expected
        let got = sweep.configurations.map(Point.init)
        #expect(got.count == expected.count)
        #expect(
            Set(got) == Set(expected),
            "missing: \(Set(expected).subtracting(got).sorted { $0.description < $1.description }.prefix(5)); extra: \(Set(got).subtracting(expected).sorted { $0.description < $1.description }.prefix(5))"
        )
        let letter = String(file.split(separator: "-").last!.prefix(1)).uppercased()
        #expect(sweep.name == letter)
        #expect(sweep.configurations.allSatisfy { $0.experiment == letter && $0.isMeasured })
        #expect(Set(sweep.configurations.map(\.id)).count == sweep.configurations.count)
        #expect(!sweep.description.isEmpty)
    }

    @Test("the counts of Table 1: 30, 120, 120, 99, 99, 99, 30 points at the original sampling; 1950 and 3000 at full")
    func tableCounts() throws {
        let paper = try "abcdefg".map { try shipped("paper/exp-\($0).yaml").configurations.count }
        #expect(paper == [30, 120, 120, 99, 99, 99, 30])
        let full = try "abcdefg".map { try shipped("full/exp-\($0).yaml").configurations.count }
        #expect(full == [30, 120, 120, 1950, 1950, 1950, 3000])
    }

    @Test("the points of one column of A and of one line of B and C have about equal FLOPs")
    func constantFLOPs() throws {
        let a = try shipped("paper/exp-a.yaml").configurations
        let lines = Dictionary(grouping: a, by: \.series).values.map { $0.sorted { $0.flops < $1.flops } }
        #expect(lines.count == 3)
        for x in 0...9 {
            #expect(Set(lines.map { $0[x].flops }) == [20_000 * pow(4, Double(x))])
        }
        for file in ["paper/exp-b.yaml", "paper/exp-c.yaml"] {
            let sweep = try shipped(file)
            for series in sweep.series {
                let flops = sweep.configurations.filter { $0.series == series.label }.map(\.flops)
                #expect(flops.max()! / flops.min()! < 1.25, "\(file) \(series.label)")
            }
        }
    }

    @Test("quick files keep every series of the paper files")
    func quickKeepsSeries() throws {
        for letter in "abcdefg" {
            let quick = try shipped("quick/exp-\(letter).yaml")
            let paper = try shipped("paper/exp-\(letter).yaml")
            #expect(quick.series.map(\.label) == paper.series.map(\.label))
            #expect(quick.configurations.count < paper.configurations.count || letter == "g" || letter == "a")
        }
    }

    @Test(
        "the regression sweeps draw from the grid, in grid order, and drop exactly what their limits say",
        arguments: [("regression.yaml", 14_000, 10.0, 1024.0)])
    func regression(file: String, count: Int, maxGFLOP: Double, maxMiB: Double) throws {
        let sweep = try shipped(file)
        #expect(sweep.name == "regression")
        #expect(sweep.expansionCount == 100 * 32 * 32 * 14)
        #expect(sweep.sample?.count == count)
        #expect(sweep.configurations.count == count)
        // Decode the drawn indices by hand: H, W, Cin, Cout, K with K fastest.
        let indices = sweep.sample!.indices(population: 1_433_600)
        for (index, configuration) in zip(indices, sweep.configurations) {
            var rest = index
            let k = rest % 14 + 1
            rest /= 14
            let cout = gridChannels[rest % 32]
            rest /= 32
            let cin = gridChannels[rest % 32]
            rest /= 32
            let w = gridSizes[rest % 10]
            rest /= 10
            let h = gridSizes[rest]
            #expect(Point(configuration) == Point("grid", h: h, w: w, cin: cin, cout: cout, k: k))
            let shape = configuration.shape
            let flops = 2.0 * Double(k * k * cin * cout * h * w)
            let workspace = k == 1 ? 0 : min(h, (256 << 20) / (cin * k * k * w * 4)) * cin * k * k * w
            let bytes = 4 * (cin * h * w + cout * h * w + cout * cin * k * k + workspace)
            let tooBig = flops > maxGFLOP * 1e9 || Double(bytes) > maxMiB * 1_048_576
            #expect(configuration.isMeasured == !tooBig, "\(shape)")
            if tooBig {
                #expect(configuration.status.text.hasPrefix("dropped: "))
                #expect(configuration.status.text.contains("max_gflop") == (flops > maxGFLOP * 1e9))
            }
        }
        #expect(gridChannels.count == 32)
    }

    @Test("the quick regression sample is a stratified draw from the paper's: both groups, every FLOPs bin")
    func quickRegressionIsStratified() throws {
        let paper = try shipped("regression.yaml")
        let quick = try shipped("quick/regression.yaml")
        let design = try #require(quick.sample?.stratified)
        #expect(quick.sample?.seed == paper.sample?.seed && design.pool == paper.sample?.count)
        #expect(quick.limits == paper.limits)
        // Every quick configuration is one of the paper's measured ones, in the paper's order.
        let measured = paper.configurations.filter(\.isMeasured)
        let position = Dictionary(uniqueKeysWithValues: measured.enumerated().map { ($1.id, $0) })
        let positions = quick.configurations.map { position[$0.id] }
        #expect(positions.allSatisfy { $0 != nil } && positions == positions.sorted { $0! < $1! })
        #expect(quick.configurations.count == 160 && quick.configurations.allSatisfy(\.isMeasured))
        // 40 with K = 1 and 120 with K > 1, each group 5 or 4 in every eighth of its FLOPs.
        for (isOne, count) in [(true, 40), (false, 120)] {
            let pool = measured.filter { ($0.shape.kernelSize == 1) == isOne }.map(\.flops).sorted()
            let drawn = quick.configurations.filter { ($0.shape.kernelSize == 1) == isOne }
            #expect(drawn.count == count)
            for bin in 0..<8 {
                let low = pool[pool.count * bin / 8]
                let high = pool[pool.count * (bin + 1) / 8 - 1]
                let inBin = drawn.filter { $0.flops >= low && $0.flops <= high }.count
                #expect(inBin >= count / 8, "K=1 \(isOne), bin \(bin): \(inBin)")
            }
        }
    }

    @Test("ids are unique in every file and in every profile")
    func uniqueIdentifiers() throws {
        for profile in ShippedSweeps.Profile.allCases {
            let files = try ShippedSweeps.files(profile: profile, root: root)
            var seen: Set<String> = []
            var total = 0
            for file in files {
                let ids = try Sweep.load(path: file).configurations.map(\.id)
                total += ids.count
                seen.formUnion(ids)
                let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:=+/-")
                #expect(ids.allSatisfy { $0.allSatisfy(allowed.contains) })
            }
            #expect(seen.count == total, "\(profile)")
        }
    }

    @Test("profiles list the regression sweep first, then the layer sample, A to G, then the networks")
    func profiles() throws {
        let zoo = try FileManager.default.contentsOfDirectory(atPath: root + "/networks")
            .filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(zoo.count == 11)
        let paper = try ShippedSweeps.files(profile: .paper, root: root)
        #expect(
            paper.map { ($0 as NSString).lastPathComponent }
                == ["regression.yaml", "layers.yaml"] + "abcdefg".map { "exp-\($0).yaml" } + zoo
                + ["networks-batch8.yaml"]
        )
        #expect(paper.first == (root as NSString).appendingPathComponent("regression.yaml"))
        #expect(paper[1] == (root as NSString).appendingPathComponent("layers.yaml"))
        #expect(paper.dropFirst(2).prefix(7).allSatisfy { $0.contains("/paper/") })
        #expect(paper.dropLast().suffix(11).allSatisfy { $0.contains("/networks/") })
        let full = try ShippedSweeps.files(profile: .full, root: root)
        #expect(
            full.prefix(2) == paper.prefix(2) && full.dropFirst(2).prefix(7).allSatisfy { $0.contains("/full/") }
                && full.count == 21)
        // quick: four small networks; networks: the quick samples and the whole zoo, no experiment.
        let quick = try ShippedSweeps.files(profile: .quick, root: root)
        #expect(quick.first == (root as NSString).appendingPathComponent("quick/regression.yaml") && quick.count == 13)
        #expect(quick[1] == (root as NSString).appendingPathComponent("quick/layers.yaml"))
        #expect(Set(quick.suffix(4).map { ($0 as NSString).lastPathComponent }) == ShippedSweeps.quickNetworks)
        let networks = try ShippedSweeps.files(profile: .networks, root: root)
        #expect(networks.prefix(2) == quick.prefix(2) && networks.count == 14)
        #expect(networks.dropLast().suffix(11).map { ($0 as NSString).lastPathComponent } == zoo)
        #expect(networks.last == (root as NSString).appendingPathComponent("networks-batch8.yaml"))
        // Throughput: every network's distinct layers at batch 8, experiment NAME-batch8.
        let throughput = try Sweep.load(path: networks.last!)
        let oneImage = try zoo.map { try Network.load(path: root + "/networks/" + $0) }
        #expect(throughput.configurations.count == oneImage.map(\.distinctShapes.count).reduce(0, +))
        #expect(throughput.configurations.allSatisfy { $0.shape.batch % 8 == 0 && $0.experiment.hasSuffix("-batch8") })
        #expect(Network.batchOf(experiment: "resnet50-batch8")! == ("resnet50", 8))
        #expect(Network.batchOf(experiment: "resnet50") == nil)
        // Every network's layers are left out of both layer samples: a fit never sees them.
        for file in [paper[1], quick[1]] {
            let dropped = try Sweep.load(path: file).configurations.filter {
                if case .dropped(let reason) = $0.status { return reason.contains("exclude_networks") }
                return false
            }
            #expect(!dropped.isEmpty, "\(file)")
        }
        #expect(throws: SweepError.self) { try ShippedSweeps.files(profile: .paper, root: root + "/nowhere") }
    }
}
