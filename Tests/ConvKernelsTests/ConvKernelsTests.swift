import Basics
import PropertyBased
import TestSupport
import Testing

@testable import ConvKernels

/// Runs `shape` with `algorithm` (and optional tiling) and the reference on the same seeded
/// tensors; returns the normwise relative error and its tolerance.
func errorAgainstReference(
    _ shape: ConvShape, algorithm: ConvAlgorithm, workspaceLimit: Int = Conv2D.defaultWorkspaceLimit,
    tiling: ConvTiling? = nil, seed: UInt64 = 7
) throws -> (error: Double, tolerance: Double) {
    let reference = try Conv2D(shape: shape, algorithm: .reference)
    reference.fillRandom(seed: seed)
    reference.run()
    let conv = try Conv2D(shape: shape, algorithm: algorithm, workspaceLimit: workspaceLimit, tiling: tiling)
    conv.fillRandom(seed: seed)
    conv.run()
    let error = Verification.relativeError(
        UnsafeBufferPointer(conv.output), reference: UnsafeBufferPointer(reference.output))
    return (error, Verification.tolerance(for: shape))
}

/// 40 random shapes drawn from a fixed seed: the same on every run.
let seededShapes: [(shape: ConvShape, tiling: ConvTiling)] = {
    var generator = SplitMix64(seed: 2021)
    return (0..<40).map { _ in
        let shape = ConvShape(
            batch: Int.random(in: 1...2, using: &generator),
            height: Int.random(in: 1...12, using: &generator),
            width: Int.random(in: 1...12, using: &generator),
            inputChannels: Int.random(in: 1...6, using: &generator),
            outputChannels: Int.random(in: 1...5, using: &generator),
            kernelHeight: Int.random(in: 1...7, using: &generator),
            kernelWidth: Int.random(in: 1...7, using: &generator))
        let tiling = ConvTiling(
            rowsPerTile: Int.random(in: 1...shape.height, using: &generator),
            channelsPerChunk: Int.random(in: 1...shape.inputChannels, using: &generator),
            orientation: GemmOrientation.allCases.randomElement(using: &generator)!)
        return (shape, tiling)
    }
}()

@Suite struct AlgorithmsAgainstReference {
    @Test(
        "im2col-gemm on 40 seeded random shapes, planned and random tilings",
        arguments: seededShapes.indices)
    func im2colGemmOnSeededShapes(index: Int) throws {
        let (shape, tiling) = seededShapes[index]
        for candidate in [nil, tiling] {
            let result = try errorAgainstReference(
                shape, algorithm: .im2colGemm, tiling: candidate, seed: UInt64(index))
            #expect(result.error <= result.tolerance, "\(shape) tiling \(String(describing: candidate))")
        }
    }

    @Test("gemm-1x1 (as 1x1) and auto on the same 40 seeded shapes", arguments: seededShapes.indices)
    func gemm1x1AndAutoOnSeededShapes(index: Int) throws {
        var oneByOne = seededShapes[index].shape
        oneByOne.kernelHeight = 1
        oneByOne.kernelWidth = 1
        let cases = [(oneByOne, ConvAlgorithm.gemm1x1), (seededShapes[index].shape, .auto)]
        for (shape, algorithm) in cases {
            let result = try errorAgainstReference(shape, algorithm: algorithm, seed: UInt64(index))
            #expect(result.error <= result.tolerance, "\(algorithm) on \(shape)")
        }
    }

    @Test(
        "the reference agrees with a convolution over an explicitly zero-padded input",
        arguments: [(2, 5, 4, 3, 2, 4, 3), (1, 3, 6, 2, 3, 6, 1), (1, 1, 1, 2, 2, 5, 5)])
    func referenceMatchesPaddedConvolution(dims: (Int, Int, Int, Int, Int, Int, Int)) throws {
        let (batch, h, w, cin, cout, k1, k2) = dims
        let shape = ConvShape(
            batch: batch, height: h, width: w, inputChannels: cin, outputChannels: cout,
            kernelHeight: k1, kernelWidth: k2)
        let conv = try Conv2D(shape: shape, algorithm: .reference)
        conv.fillRandom(seed: 5)
        conv.run()
        // Pad explicitly: (K-1)/2 zeros before, K/2 after, then slide without bounds checks.
        let ph = h + k1 - 1
        let pw = w + k2 - 1
        var padded = [Double](repeating: 0, count: batch * cin * ph * pw)
        for n in 0..<batch {
            for c in 0..<cin {
                for y in 0..<h {
                    for x in 0..<w {
                        padded[((n * cin + c) * ph + y + (k1 - 1) / 2) * pw + x + (k2 - 1) / 2] =
                            Double(conv.input[((n * cin + c) * h + y) * w + x])
                    }
                }
            }
        }
        for n in 0..<batch {
            for co in 0..<cout {
                for y in 0..<h {
                    for x in 0..<w {
                        var sum = 0.0
                        for c in 0..<cin {
                            for i in 0..<k1 {
                                for j in 0..<k2 {
                                    sum +=
                                        padded[((n * cin + c) * ph + y + i) * pw + x + j]
                                        * Double(conv.weights[((co * cin + c) * k1 + i) * k2 + j])
                                }
                            }
                        }
                        let got = conv.output[((n * cout + co) * h + y) * w + x]
                        #expect(abs(Double(got) - sum) <= 1e-6 * max(1, abs(sum)))
                    }
                }
            }
        }
    }

    // Unseeded: new shapes on every run; a failure reports the seed that reproduces it.
    @Test func im2colGemmOnRandomShapes() async throws {
        await propertyCheck(
            count: 30, input: Gen.int(in: 1...12), Gen.int(in: 1...12), Gen.int(in: 1...7),
            Gen.int(in: 1...7), Gen.int(in: 0...Int(Int32.max))
        ) { height, width, k1, k2, seed in
            var generator = SplitMix64(seed: UInt64(seed))
            let shape = ConvShape(
                batch: Int.random(in: 1...2, using: &generator), height: height, width: width,
                inputChannels: Int.random(in: 1...6, using: &generator),
                outputChannels: Int.random(in: 1...5, using: &generator),
                kernelHeight: k1, kernelWidth: k2)
            let tiling = ConvTiling(
                rowsPerTile: Int.random(in: 1...height, using: &generator),
                channelsPerChunk: Int.random(in: 1...shape.inputChannels, using: &generator),
                orientation: GemmOrientation.allCases.randomElement(using: &generator)!)
            let result = try errorAgainstReference(shape, algorithm: .im2colGemm, tiling: tiling)
            #expect(result.error <= result.tolerance, "\(shape) tiling \(tiling)")
        }
    }

    @Test func gemm1x1AndAutoOnRandomShapes() async throws {
        await propertyCheck(
            count: 30, input: Gen.int(in: 1...16), Gen.int(in: 1...16), Gen.int(in: 1...9),
            Gen.int(in: 1...9), Gen.int(in: 1...3)
        ) { height, width, cin, cout, batch in
            let shape = ConvShape(
                batch: batch, height: height, width: width, inputChannels: cin, outputChannels: cout,
                kernel: 1)
            for algorithm in [ConvAlgorithm.gemm1x1, .auto, .im2colGemm] {
                let result = try errorAgainstReference(shape, algorithm: algorithm)
                #expect(result.error <= result.tolerance, "\(algorithm) on \(shape)")
            }
        }
    }

    @Test(
        "even kernels pad (K-1)/2 before and K/2 after, as PyTorch padding='same'",
        arguments: ConvAlgorithm.allCases)
    func evenKernelMatchesHandComputedValues(algorithm: ConvAlgorithm) throws {
        let shape = ConvShape(height: 2, width: 2, inputChannels: 1, outputChannels: 1, kernel: 2)
        guard algorithm.supports(shape), algorithm.backend != .onednn || OneDNN.isAvailable else { return }
        let conv: Conv2D
        do { conv = try Conv2D(shape: shape, algorithm: algorithm) } catch {
            // oneDNN may have no such implementation on this CPU (Winograd): refused, never replaced.
            guard case .notProvided = error else { throw error }
            return
        }
        for (i, v) in [Float(1), 2, 3, 4].enumerated() { conv.input[i] = v }
        for (i, v) in [Float(1), 10, 100, 1000].enumerated() { conv.weights[i] = v }
        conv.reloadWeights()  // the weights changed: a oneDNN primitive copies them into its layout
        conv.run()
        // No padding before, one zero row and column after.
        let expected: [Float] = [4321, 402, 43, 4]
        #expect(Array(conv.output) == expected)
    }

    @Test("K = 3 on a 1-row input: zero rows above and below")
    func oddKernelOnOneRow() throws {
        let shape = ConvShape(height: 1, width: 3, inputChannels: 1, outputChannels: 1, kernel: 3)
        for algorithm in [ConvAlgorithm.im2colGemm, .reference] {
            let conv = try Conv2D(shape: shape, algorithm: algorithm)
            for (i, v) in [Float(1), 2, 3].enumerated() { conv.input[i] = v }
            for i in 0..<9 { conv.weights[i] = Float(i + 1) }  // middle row 4 5 6
            conv.run()
            let expected: [Float] = [17, 32, 23]  // 5·1 + 6·2, 4·1 + 5·2 + 6·3, 4·2 + 5·3
            #expect(Array(conv.output) == expected)
        }
    }

    static let tiledShapes: [ConvShape] = [
        ConvShape(batch: 2, height: 9, width: 7, inputChannels: 5, outputChannels: 3, kernel: 4),
        ConvShape(batch: 3, height: 6, width: 11, inputChannels: 4, outputChannels: 6, kernelHeight: 5, kernelWidth: 2),
        ConvShape(batch: 1, height: 5, width: 3, inputChannels: 3, outputChannels: 2, kernel: 7),
    ]

    @Test(
        "forced tiling: several tile sizes, 1 row included, every orientation",
        arguments: tiledShapes, GemmOrientation.allCases)
    func forcedTiling(shape: ConvShape, orientation: GemmOrientation) throws {
        for (rows, channels) in [
            (1, 1), (1, shape.inputChannels), (2, 3), (4, 2), (shape.height, 1),
            (shape.height, shape.inputChannels),
        ] {
            let tiling = ConvTiling(rowsPerTile: rows, channelsPerChunk: channels, orientation: orientation)
            let result = try errorAgainstReference(shape, algorithm: .im2colGemm, tiling: tiling)
            #expect(result.error <= result.tolerance, "\(shape) rows \(rows) channels \(channels)")
        }
    }

    @Test(
        "a tiny workspace limit tiles down to one row of one channel and stays correct",
        arguments: tiledShapes)
    func tinyWorkspaceLimit(shape: ConvShape) throws {
        let conv = try Conv2D(shape: shape, algorithm: .im2colGemm, workspaceLimit: 4)
        #expect(conv.tiling.rowsPerTile == 1 && conv.tiling.channelsPerChunk == 1)
        #expect(conv.workspace.count == shape.kernelSize * shape.width * conv.workspaceCopies)
        let phases = conv.run()
        #expect(phases.tiles == shape.batch * shape.height * shape.inputChannels)
        let result = try errorAgainstReference(shape, algorithm: .im2colGemm, workspaceLimit: 4)
        #expect(result.error <= result.tolerance)
    }

    @Test("channels are chunked when the depth is large, and the result is unchanged")
    func channelChunking() throws {
        let shape = ConvShape(height: 12, width: 10, inputChannels: 300, outputChannels: 8, kernel: 3)
        let conv = try Conv2D(shape: shape, algorithm: .im2colGemm)
        #expect(conv.tiling.channelsPerChunk < shape.inputChannels)
        let result = try errorAgainstReference(shape, algorithm: .im2colGemm)
        #expect(result.error <= result.tolerance)
    }

    @Test("the comparison catches a single wrong output element")
    func verificationDetectsOneWrongElement() throws {
        let shape = ConvShape(height: 16, width: 16, inputChannels: 8, outputChannels: 8, kernel: 3)
        let reference = try Conv2D(shape: shape, algorithm: .reference)
        reference.fillRandom(seed: 3)
        reference.run()
        let conv = try Conv2D(shape: shape, algorithm: .im2colGemm)
        conv.fillRandom(seed: 3)
        conv.run()
        let reader = UnsafeBufferPointer(reference.output)
        #expect(
            Verification.relativeError(UnsafeBufferPointer(conv.output), reference: reader)
                <= Verification.tolerance(for: shape))
        conv.output[37] += 0.5  // one element of 2048, each of magnitude about 2.8
        #expect(
            Verification.relativeError(UnsafeBufferPointer(conv.output), reference: reader)
                > Verification.tolerance(for: shape))
    }
}

@Suite struct Planning {
    @Test("the planned piece fits the workspace limit whenever one row of one channel does")
    func plannedTilingRespectsLimit() {
        var generator = SplitMix64(seed: 11)
        for _ in 0..<500 {
            let shape = ConvShape(
                batch: 1, height: Int.random(in: 1...300, using: &generator),
                width: Int.random(in: 1...300, using: &generator),
                inputChannels: Int.random(in: 1...3200, using: &generator),
                outputChannels: 4, kernel: Int.random(in: 1...14, using: &generator))
            let limit = Int.random(in: 1...(64 << 20), using: &generator)
            let tiling = ConvTiling.planned(for: shape, workspaceLimit: limit)
            #expect((1...shape.height).contains(tiling.rowsPerTile))
            #expect((1...shape.inputChannels).contains(tiling.channelsPerChunk))
            let minimum = shape.kernelSize * shape.width * 4
            let bytes = tiling.workspaceElements(for: shape) * 4
            #expect(bytes <= max(limit, minimum), "\(shape) limit \(limit)")
        }
    }

    @Test("the memory-bar configuration plans a bounded workspace")
    func memoryBarShape() {
        let shape = ConvShape(height: 256, width: 256, inputChannels: 64, outputChannels: 1, kernel: 14)
        let plan = Conv2D.plan(shape: shape, algorithm: .auto)
        #expect(plan.workspaceElements * 4 <= Conv2D.defaultWorkspaceLimit)
        #expect(
            plan.rowsPerTile < shape.height
                || ConvTiling.planned(for: shape, workspaceLimit: Conv2D.defaultWorkspaceLimit).channelsPerChunk < 64)
    }

    @Test func autoResolution() {
        let one = ConvShape(height: 4, width: 4, inputChannels: 2, outputChannels: 2, kernel: 1)
        let three = ConvShape(height: 4, width: 4, inputChannels: 2, outputChannels: 2, kernel: 3)
        let wide = ConvShape(height: 4, width: 4, inputChannels: 2, outputChannels: 2, kernelHeight: 1, kernelWidth: 3)
        #expect(ConvAlgorithm.auto.resolved(for: one) == .gemm1x1)
        #expect(ConvAlgorithm.auto.resolved(for: three) == .im2colGemm)
        #expect(ConvAlgorithm.auto.resolved(for: wide) == .im2colGemm)
        #expect(ConvAlgorithm.reference.resolved(for: one) == .reference)
        #expect(Conv2D.plan(shape: one, algorithm: .auto).workspaceElements == 0)
    }
}

@Suite struct AccountingFormulas {
    @Test func knownShape() {
        let shape = ConvShape(
            batch: 2, height: 3, width: 5, inputChannels: 4, outputChannels: 6,
            kernelHeight: 3, kernelWidth: 2)
        let a = Accounting(shape: shape, workspaceBytes: 100)
        #expect(a.flops == 8640)  // 2·3·2·4·6·3·5·2
        #expect(a.macs == 4320)
        #expect(a.parameters == 144)  // 6·4·3·2
        #expect(a.inputBytes == 480)  // 2·4·3·5 floats
        #expect(a.weightBytes == 576)
        #expect(a.outputBytes == 720)  // 2·6·3·5 floats
        #expect(a.workspaceBytes == 100)
        #expect(a.totalBytes == 480 + 576 + 720 + 100)
        #expect(a.arithmeticIntensity == 8640.0 / 1776.0)
    }

    @Test func formulasOnRandomShapes() async {
        await propertyCheck(
            count: 100, input: Gen.int(in: 1...512), Gen.int(in: 1...512), Gen.int(in: 1...3200),
            Gen.int(in: 1...3200), Gen.int(in: 1...30)
        ) { h, w, cin, cout, k in
            let shape = ConvShape(batch: 1, height: h, width: w, inputChannels: cin, outputChannels: cout, kernel: k)
            let a = Accounting(shape: shape)
            #expect(a.flops == 2 * Double(k * k * cin * cout * h * w))
            #expect(a.macs * 2 == a.flops)
            #expect(a.parameters == cout * cin * k * k)
            #expect(a.inputBytes == 4 * cin * h * w)
            #expect(a.outputBytes == 4 * cout * h * w)
            #expect(a.weightBytes == 4 * a.parameters)
        }
    }

    @Test func conv2DReportsItsWorkspace() throws {
        let shape = ConvShape(height: 20, width: 30, inputChannels: 3, outputChannels: 4, kernel: 5)
        let conv = try Conv2D(shape: shape, algorithm: .im2colGemm)
        // One workspace per thread of the team (the suites that set a team of two run beside this
        // one): the accounting reports one copy's bytes, whatever the team.
        #expect(conv.workspace.count == conv.tiling.workspaceElements(for: shape) * conv.workspaceCopies)
        #expect(conv.accounting.workspaceBytes == conv.tiling.workspaceElements(for: shape) * 4)
        let direct = try Conv2D(shape: shape, algorithm: .reference)
        #expect(direct.accounting.workspaceBytes == 0)
    }

    @Test("padding: (K-1)/2 before, K/2 after", arguments: 1...14)
    func paddingRule(k: Int) {
        let shape = ConvShape(height: 8, width: 8, inputChannels: 1, outputChannels: 1, kernel: k)
        #expect(shape.padTop == (k - 1) / 2 && shape.padLeft == (k - 1) / 2)
        #expect(shape.padBottom == k / 2 && shape.padRight == k / 2)
        #expect(shape.padTop + shape.padBottom == k - 1)
    }
}

@Suite struct BadInput {
    @Test(arguments: [
        (ConvShape(height: 0, width: 4, inputChannels: 1, outputChannels: 1, kernel: 1), "height"),
        (ConvShape(height: 4, width: -2, inputChannels: 1, outputChannels: 1, kernel: 1), "width"),
        (ConvShape(height: 4, width: 4, inputChannels: 0, outputChannels: 1, kernel: 1), "inputChannels"),
        (ConvShape(height: 4, width: 4, inputChannels: 1, outputChannels: 0, kernel: 1), "outputChannels"),
        (ConvShape(height: 4, width: 4, inputChannels: 1, outputChannels: 1, kernel: 0), "kernelHeight"),
        (ConvShape(batch: 0, height: 4, width: 4, inputChannels: 1, outputChannels: 1, kernel: 1), "batch"),
    ])
    func nonPositiveDimension(shape: ConvShape, field: String) {
        #expect(throws: Conv2DError.invalidShape(.nonPositive(field: field, value: shape.validateFieldValue(field)))) {
            try Conv2D(shape: shape)
        }
    }

    @Test func absurdSizes() {
        let huge = ConvShape(height: 1 << 21, width: 4, inputChannels: 1, outputChannels: 1, kernel: 1)
        #expect(throws: Conv2DError.invalidShape(.tooLarge(field: "height", value: 1 << 21, limit: 1 << 20))) {
            try Conv2D(shape: huge)
        }
        // Every dimension handed to BLAS is a 32-bit integer: H·W and Cin·K1·K2 are checked.
        let wide = ConvShape(height: 1 << 20, width: 1 << 20, inputChannels: 1 << 20, outputChannels: 1, kernel: 1)
        #expect(
            throws: Conv2DError.invalidShape(
                .tooLarge(field: "height·width", value: 1 << 40, limit: ConvShape.maximumBLASDimension))
        ) { try Conv2D(shape: wide) }
        let deep = ConvShape(height: 1, width: 1, inputChannels: 1 << 20, outputChannels: 1, kernel: 46)
        #expect(
            throws: Conv2DError.invalidShape(
                .tooLarge(
                    field: "inputChannels·kernelHeight·kernelWidth", value: (1 << 20) * 46 * 46,
                    limit: ConvShape.maximumBLASDimension))
        ) { try Conv2D(shape: deep) }
        let overflowing = ConvShape(
            batch: 1 << 20, height: 1 << 15, width: 1 << 15, inputChannels: 1 << 20, outputChannels: 1,
            kernelHeight: 1, kernelWidth: 1)
        #expect(throws: Conv2DError.invalidShape(.overflow)) { try Conv2D(shape: overflowing) }
    }

    @Test func gemm1x1RefusesLargerKernels() {
        let shape = ConvShape(height: 4, width: 4, inputChannels: 2, outputChannels: 2, kernel: 3)
        #expect(throws: Conv2DError.unsupported(algorithm: .gemm1x1, shape: shape)) {
            try Conv2D(shape: shape, algorithm: .gemm1x1)
        }
    }

    @Test func nonPositiveWorkspaceLimit() {
        let shape = ConvShape(height: 4, width: 4, inputChannels: 2, outputChannels: 2, kernel: 3)
        #expect(throws: Conv2DError.invalidWorkspaceLimit(0)) {
            try Conv2D(shape: shape, workspaceLimit: 0)
        }
    }
}

@Suite(.computeThreadsExclusive) struct LibraryFacts {
    @Test func openBLASFactsAndThreads() {
        #expect(!OpenBLAS.config.isEmpty && OpenBLAS.config != "unknown")
        #expect(OpenBLAS.version.first?.isNumber == true)
        #expect(!OpenBLAS.coreName.isEmpty)
        OpenBLAS.setThreadCount(1)
        #expect(OpenBLAS.threadCount == 1)
    }

    @Test func physicalMemoryIsPlausible() {
        #expect(SystemMemory.physicalBytes > 64 << 20)
    }
}

extension ConvShape {
    func validateFieldValue(_ field: String) -> Int {
        switch field {
        case "height": return height
        case "width": return width
        case "inputChannels": return inputChannels
        case "outputChannels": return outputChannels
        case "kernelHeight": return kernelHeight
        case "kernelWidth": return kernelWidth
        default: return batch
        }
    }
}
