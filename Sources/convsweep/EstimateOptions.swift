import ArgumentParser
import Measurement
import Runner
import Sweeps

/// The machine rates of a measuring-time estimate: given, measured now, or assumed.
struct MachineRateOptions: ParsableArguments {
    @Option(
        help:
            "This machine's single-core sgemm rate, GFLOP/s (default: its drift probe's rate from earlier runs here, else assumed 50; or measured with --measure-machine)."
    )
    var gflops: Double?

    @Option(help: "This machine's single-core streaming bandwidth, GB/s (default: assumed 10, or measured).")
    var bandwidth: Double?

    @Flag(
        name: .customLong("measure-machine"),
        help: "Measure this machine's rates first (a 1024³ sgemm and a stream, about 2 s) instead of assuming them.")
    var measureMachine = false

    func validate() throws {
        if let gflops, !(gflops > 0) { throw ValidationError("--gflops must be positive (got \(gflops))") }
        if let bandwidth, !(bandwidth > 0) { throw ValidationError("--bandwidth must be positive (got \(bandwidth))") }
    }

    /// The rates, with where they come from: measured now, else this machine's sgemm rate from
    /// the machine reference cache (the drift probe's fast-state rate of earlier sessions, one
    /// thread), else assumed; a given rate replaces either.
    func rates() -> MeasuringTimeModel.MachineRates {
        var rates = MeasuringTimeModel.MachineRates.assumed
        if !measureMachine, let topology = try? Topology() {
            let identity = MachineIdentity.capture(cpuModel: topology.cpuModel, referenceGflops: 0)
            if let known = MachineReferenceCache().reference(
                for: MachineReferenceCache.Kind(identity, threads: DriftProbe.threads))
            {
                rates.gflops = known.gflops
                rates.source =
                    "this machine's sgemm rate from \(known.sessions) earlier session(s) (\(known.file)), bandwidth assumed"
            }
        }
        if measureMachine {
            let roofs = Roofs.measure()
            rates = .init(
                gflops: roofs.computeGflops, gigabytesPerSecond: roofs.bandwidthGBps,
                source: "measured now (a 1024³ sgemm and a stream, unpinned)")
        }
        if gflops != nil || bandwidth != nil {
            rates.gflops = gflops ?? rates.gflops
            rates.gigabytesPerSecond = bandwidth ?? rates.gigabytesPerSecond
            rates.source = "given" + (measureMachine ? " and measured now" : "")
        }
        return rates
    }
}
