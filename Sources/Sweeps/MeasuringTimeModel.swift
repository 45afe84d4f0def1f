import ConvKernels

/// How long measuring configurations takes under the round rule, for planning: `sweeps list` and
/// `sweeps estimate`, the progress line's remaining time and the time limits of a Slurm
/// submission all use this one model.
///
/// - **One run** of a layer takes `t = FLOPs / (min(rate, bandwidth · intensity) · efficiency)`:
///   the roofline of this machine (its sgemm rate and streaming bandwidth, the session's roofs)
///   at the layer's arithmetic intensity (FLOPs per byte moved, ``Accounting``), at the share of
///   the roofline layers attain (``efficiency``).
/// - **One round** takes `t` (the run that verifies the output and warms the round), then its
///   timed runs, then a fixed cost (``roundOverheadSeconds``: allocating and filling the tensors,
///   the verification's reference, the drift probe, writing the round). Timed runs: a fixed
///   count, or under the adaptive rule about ``typicalRuns`` (the CI target stops most rounds of
///   small layers there), never fewer than the rule's fewest nor more than its most, and stopping
///   at the first run past the round's time limit.
/// - **A configuration** takes ``expectedRounds`` rounds: the planned rounds and a share
///   (``extraRoundShare``) of the extra rounds the limit allows, which the drift probe and
///   disagreeing rounds ask for on a shared host.
/// - **A session** adds ``sessionSeconds`` (timer, probe calibration, roofs, topology).
///
/// The constants are calibrated on the committed runs (docs/benchmarks-history.md, "Measuring-time
/// estimates"); a running session corrects the remaining time by what it has measured.
public struct MeasuringTimeModel: Hashable, Sendable {
    /// A machine's single-core rates, and where they come from.
    public struct MachineRates: Hashable, Sendable {
        /// Sustained sgemm rate, GFLOP/s.
        public var gflops: Double
        /// Streaming bandwidth, GB/s.
        public var gigabytesPerSecond: Double
        /// Where the rates come from, in words (`assumed …`, `measured now`, a run's roofs).
        public var source: String

        /// Rates with their source.
        public init(gflops: Double, gigabytesPerSecond: Double, source: String) {
            self.gflops = gflops
            self.gigabytesPerSecond = gigabytesPerSecond
            self.source = source
        }

        /// What the model assumes when the machine is not known: a lab workstation core.
        public static let assumed = MachineRates(
            gflops: 50, gigabytesPerSecond: 10, source: "assumed (this machine's rates not measured)")
    }

    /// The machine's rates.
    public var rates: MachineRates
    /// The share of the roofline a layer attains (0.93–0.95 time-weighted in the committed runs;
    /// lower for small layers, which dominate the rounds' count).
    public var efficiency: Double = 0.85
    /// Rounds planned per configuration.
    public var rounds: Int
    /// The most rounds of one configuration.
    public var maxRounds: Int
    /// The share of the extra rounds (``maxRounds`` − ``rounds``) a configuration takes on average.
    public var extraRoundShare: Double = 0.5
    /// The fewest timed runs of a round.
    public var roundMinRuns: Int
    /// The most timed runs of a round.
    public var roundMaxRuns: Int
    /// The round's time limit for timed runs, seconds.
    public var roundMaxSeconds: Double
    /// A fixed count of timed runs per round (`--runs`), or nil for the adaptive rule.
    public var fixedRunsPerRound: Int?
    /// Warm-up seconds of a round (a single-window run's warm-up; 0 with rounds).
    public var roundWarmUpSeconds: Double = 0
    /// Timed runs of a round the adaptive rule typically takes before its CI target stops it.
    public var typicalRuns: Int = 20
    /// Fixed seconds per round outside the runs.
    public var roundOverheadSeconds: Double = 0.04
    /// Fixed seconds per session.
    public var sessionSeconds: Double = 2

    /// A model of the round rule with these limits on a machine of `rates`.
    public init(
        rates: MachineRates = .assumed, rounds: Int = 3, maxRounds: Int = 6, roundMinRuns: Int = 2,
        roundMaxRuns: Int = 666, roundMaxSeconds: Double = 2.0 / 3, fixedRunsPerRound: Int? = nil
    ) {
        self.rates = rates
        self.rounds = rounds
        self.maxRounds = max(rounds, maxRounds)
        self.roundMinRuns = roundMinRuns
        self.roundMaxRuns = max(roundMinRuns, roundMaxRuns)
        self.roundMaxSeconds = roundMaxSeconds
        self.fixedRunsPerRound = fixedRunsPerRound
    }

    /// Rounds a configuration takes on average.
    public var expectedRounds: Double { Double(rounds) + extraRoundShare * Double(maxRounds - rounds) }

    /// Seconds of one run of a layer of `flops` FLOPs at `intensity` FLOPs per byte moved.
    public func secondsPerRun(flops: Double, intensity: Double) -> Double {
        let roof = min(rates.gflops, rates.gigabytesPerSecond * max(intensity, 1e-9)) * 1e9
        return flops / (roof * efficiency)
    }

    /// Seconds of one round of a layer whose run takes `run` seconds.
    public func roundSeconds(run: Double) -> Double {
        let timed: Double
        if let fixedRunsPerRound {
            timed = Double(fixedRunsPerRound) * run
        } else {
            let typical = Double(max(roundMinRuns, min(typicalRuns, roundMaxRuns))) * run
            timed = max(Double(roundMinRuns) * run, min(typical, roundMaxSeconds + run))
        }
        return roundWarmUpSeconds + run + timed + roundOverheadSeconds
    }

    /// Seconds to measure one layer of `flops` FLOPs at `intensity` FLOPs per byte, all rounds; on
    /// `threads` threads a run takes 1/`threads` of its one-thread time (the ideal: an estimate
    /// that errs short for the layers that scale worse).
    public func seconds(flops: Double, intensity: Double, threads: Int = 1) -> Double {
        expectedRounds * roundSeconds(run: secondsPerRun(flops: flops, intensity: intensity) / Double(max(1, threads)))
    }

    /// Seconds to measure `configuration`, all rounds, at its thread count
    /// (``SweepConfiguration/threads``); 0 for one that is not measured.
    public func seconds(_ configuration: SweepConfiguration) -> Double {
        guard configuration.isMeasured else { return 0 }
        let accounting = Accounting(shape: configuration.shape)
        return seconds(
            flops: accounting.flops, intensity: accounting.arithmeticIntensity, threads: configuration.threads ?? 1)
    }

    /// Seconds of a session that measures `configurations`, the session's fixed cost included.
    public func sessionSeconds(_ configurations: [SweepConfiguration]) -> Double {
        sessionSeconds + configurations.reduce(0) { $0 + seconds($1) }
    }

    /// The assumptions in one sentence, for the commands that print an estimate.
    public var summary: String {
        let rule =
            fixedRunsPerRound.map { "\($0) timed runs" }
            ?? "adaptive, about \(typicalRuns) timed runs (\(roundMinRuns) to \(roundMaxRuns)), at most \(Self.number(roundMaxSeconds)) s"
        return
            "\(Self.number(expectedRounds)) round(s) a configuration (\(rounds) planned, at most \(maxRounds)) of \(rule) each "
            + "+ \(Self.number(roundOverheadSeconds * 1000)) ms; runs at \(Self.number(efficiency * 100))% of the roofline of "
            + "\(Self.number(rates.gflops)) GFLOP/s and \(Self.number(rates.gigabytesPerSecond)) GB/s, \(rates.source)"
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: value < 1 ? "%.3g" : "%.1f", value)
    }
}
