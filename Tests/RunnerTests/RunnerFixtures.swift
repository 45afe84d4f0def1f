import ConvKernels
import Foundation
import Sweeps
import TestSupport

@testable import Runner

/// A small sweep: five measured configurations (3×3 and 1×1 kernels, one with a batch of 2)
/// and one dropped by a limit, plus the file they nominally come from.
func smallSweep(in directory: String) throws -> (path: String, configurations: [SweepConfiguration]) {
    let path = directory + "/small.yaml"
    try "experiment: small\n# configurations built in code by the tests\n".write(
        toFile: path, atomically: true, encoding: .utf8)
    var configurations: [SweepConfiguration] = []
    for (i, cin) in [4, 8, 16].enumerated() {
        configurations.append(
            SweepConfiguration(
                id: "small-k3-cin\(cin)", experiment: "small", series: "K=3, H=W=8",
                shape: ConvShape(height: 8, width: 8, inputChannels: cin, outputChannels: 8 + i, kernel: 3)))
    }
    configurations.append(
        SweepConfiguration(
            id: "small-k1", experiment: "small", series: "K=1, \"quoted\"",
            shape: ConvShape(height: 6, width: 5, inputChannels: 8, outputChannels: 4, kernel: 1)))
    configurations.append(
        SweepConfiguration(
            id: "small-batch2", experiment: "small", series: "batch",
            shape: ConvShape(
                batch: 2, height: 5, width: 7, inputChannels: 3, outputChannels: 5, kernelHeight: 3, kernelWidth: 2)))
    configurations.append(
        SweepConfiguration(
            id: "small-dropped", experiment: "small", series: "K=3, H=W=8",
            shape: ConvShape(height: 4096, width: 4096, inputChannels: 512, outputChannels: 512, kernel: 3),
            status: .dropped("over the FLOPs limit")))
    return (path, configurations)
}

/// Quick settings for tests: few runs, short time budget, no progress output.
func quickOptions() -> RunOptions {
    var options = RunOptions()
    options.minRuns = 3
    options.maxRuns = 50
    options.maxSeconds = 0.05
    options.probeCalibrationSeconds = 0.05
    options.standIns.quickRoofs = true
    options.showProgress = false
    // Every session of a test records the same reference rate: a 50 ms calibration on a shared
    // machine running other suites in parallel moves by more than the 10% the identity check
    // allows. Tests of the rate check scale it with `probeRateScale`.
    options.standIns.referenceRate = 50
    // A resume does not read the probe on when its rate differs (tests of that set it back).
    options.probeRecheckSeconds = 0
    // No waiting for a fast state (tests of waiting set it).
    options.slowPhaseWait = 0
    return options
}

func fileBytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }
