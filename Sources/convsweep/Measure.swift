import ArgumentParser
import ConvKernels

struct Measure: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Time one conv2d configuration.")
    @Option(name: .customLong("h")) var height: Int
    @Option(name: .customLong("w")) var width: Int
    @Option var cin: Int
    @Option var cout: Int
    @Option(name: .customShort("k")) var kernel: Int
    func run() throws {
        let conv = try Conv2D(shape: ConvShape(height: height, width: width, inputChannels: cin, outputChannels: cout, kernel: kernel))
        conv.fillRandom(seed: 1)
        conv.run()
        let t0 = MonotonicClock.now(); let p = conv.run(); let t = MonotonicClock.now() - t0
        print(t * 1e3, conv.accounting.flops / t / 1e9, p)
    }
}
