import Basics
import Foundation
import Measurement
import Rows

/// The drift probe of one session and its journal: the reference rate it calibrated, its latest
/// reading, which readings are written to probes.csv, and how many read slow and how many rounds
/// they disturbed. Made by calibrating, so its reference and a reading exist from the start.
final class ProbeJournal {
    /// The probe.
    let probe = DriftProbe()
    /// The share below the reference rate at which a reading is slow.
    let slowdown: Double
    /// The reference rate the session started with: its calibration's (or a test's stand-in),
    /// the re-read rate once a resume re-read it.
    private(set) var startReference: Double
    /// The latest reading.
    private(set) var last: DriftProbe.Reading
    /// Readings written to probes.csv.
    private var written = 0
    /// Readings written that read slow.
    private(set) var slowReadings = 0
    /// Rounds a slow reading disturbed.
    private(set) var disturbedRounds = 0
    /// The shortest time between two readings while measuring, seconds.
    static let interval = 0.1

    /// Calibrates the probe for `options.probeCalibrationSeconds` (scaled and stood in for as the
    /// options' stand-ins say).
    init(options: RunOptions) {
        slowdown = options.probeSlowdown
        probe.rateScale = options.standIns.probeRateScale
        let calibrated = probe.calibrate(seconds: options.probeCalibrationSeconds)
        startReference = options.standIns.referenceRate.map { $0 * options.standIns.probeRateScale } ?? calibrated
        last = probe.readings.last ?? probe.read()
    }

    /// Whether `reading` reads the machine slow.
    func readsSlow(_ reading: DriftProbe.Reading) -> Bool { probe.ratio(reading) < 1 - slowdown }

    /// Takes a reading now.
    @discardableResult
    func read() -> DriftProbe.Reading {
        last = probe.read()
        return last
    }

    /// Reads the probe on (``DriftProbe/recalibrate(forUpTo:window:until:)``) until `accept`s the
    /// rate or `seconds` pass, or takes `standIn`; the rate becomes the session's start reference.
    func reread(forUpTo seconds: Double, standIn: Double?, until accept: (Double) -> Bool) -> Double {
        startReference = standIn ?? probe.recalibrate(forUpTo: seconds, until: accept)
        if let reading = probe.readings.last { last = reading }
        return startReference
    }

    /// Makes the probe read at `scale` of its rate from now on (a test's machine that turns slow)
    /// and takes a reading.
    func scaleRate(_ scale: Double) -> DriftProbe.Reading {
        probe.rateScale = scale
        return read()
    }

    /// Judges a round by the probe: reads it (at most every ``interval`` seconds; a round shorter
    /// than that shares the reading after the previous one), writes the reading, and marks the
    /// round disturbed when the slower of the readings around it (`before` and the one returned)
    /// reads slow.
    func judge(
        _ round: inout MeasurementRow, since before: DriftProbe.Reading, file: AppendOnlyFile, session: Int,
        progress: ProgressReporter
    ) throws -> DriftProbe.Reading {
        let after = probe.secondsSinceLastReading >= Self.interval ? read() : before
        if after != before {
            try write(to: file, session: session)
            let now = probe.ratio(after)
            progress.note = readsSlow(after) ? String(format: "machine reads slow: %.2f of its reference", now) : nil
        }
        let ratio = min(probe.ratio(before), probe.ratio(after))
        round.probeRatio = ratio
        round.window = ratio < 1 - slowdown ? .disturbed : .clean
        if round.window == .disturbed { disturbedRounds += 1 }
        return after
    }

    /// Reads the probe until it reads the machine fast or `seconds` pass (a reading every 0.2 s
    /// or at the wait's end, each written), showing the wait on the progress line; returns the
    /// seconds waited and whether the machine read fast at the end.
    func waitForFastState(
        atMost seconds: Double, progress: ProgressReporter, file: AppendOnlyFile, session: Int
    ) throws -> (seconds: Double, endedFast: Bool) {
        let started = MonotonicClock.now()
        var fast = false
        while !fast && MonotonicClock.now() - started < seconds {
            progress.note = String(
                format: "machine reads slow: %.2f of its reference; waiting for its fast state, %.0f s",
                probe.ratio(last), MonotonicClock.now() - started)
            progress.starting("waiting")
            let left = seconds - (MonotonicClock.now() - started)
            usleep(UInt32(min(0.2, max(0.01, left)) * 1e6))
            read()
            try write(to: file, session: session)
            fast = !readsSlow(last)
        }
        progress.note = nil
        return (MonotonicClock.now() - started, fast)
    }

    /// Appends the readings not yet written (the calibration's, then each new one) to `file`,
    /// as session `session`'s.
    func write(to file: AppendOnlyFile, session: Int) throws {
        guard written < probe.readings.count else { return }
        var text = ""
        for reading in probe.readings[written...] {
            if readsSlow(reading) { slowReadings += 1 }
            text += ProbesFile.line(session: session, reading, reference: probe.referenceGflops)
        }
        written = probe.readings.count
        try file.append(text)
    }

    /// What the probe read over the session, for the manifest (the end reference stood in for
    /// as the options say).
    func summary(standIns: MachineStandIns) -> ProbeSummary {
        var summary = ProbeSummary(
            probe: probe, startReference: startReference, slow: slowReadings, disturbedRounds: disturbedRounds)
        if let rate = standIns.referenceRate { summary.endReferenceGflops = rate * standIns.probeRateScale }
        return summary
    }
}
