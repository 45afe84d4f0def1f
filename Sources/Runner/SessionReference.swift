import Basics
import Foundation
import Measurement

/// What a session judges its machine's speed against besides its own calibration: this kind of
/// machine's reference in the per-user cache of earlier sessions (``MachineReferenceCache``), and,
/// on a resume, the reference of the run's first session. Not with a test's stand-in rates.
struct SessionReference {
    /// The session's options (their stand-ins and probe settings).
    let options: RunOptions
    /// This kind of machine, as the cache keys it.
    let kind: MachineReferenceCache.Kind
    /// The cache.
    let cache: MachineReferenceCache

    /// Readings a session needs before its rate enters the machine reference cache (about 5 s
    /// of measuring at one reading every 0.1 s).
    static let readingsToRecord = 50

    /// The reference of the machine `identity` names, in the cache under `options`.
    init(options: RunOptions, identity: MachineIdentity) {
        self.options = options
        // The probe computes on one thread whatever the kernels' count (DriftProbe): its rate is
        // that of one thread (a kind recorded with more threads was of a parallel probe).
        kind = MachineReferenceCache.Kind(identity, threads: DriftProbe.threads)
        cache = MachineReferenceCache(directory: options.machineReferenceCacheDirectory)
    }

    /// Looks up this kind of machine's reference and has the probe judge rounds against it too;
    /// warns when the session starts in a slow phase.
    func judge(_ journal: ProbeJournal, warn: (String) -> Void) -> MachineReferenceCache.Reference? {
        guard options.standIns.referenceRate == nil, let reference = cache.reference(for: kind, warn: warn) else {
            return nil
        }
        journal.probe.machineReferenceGflops = reference.gflops
        let start = journal.startReference
        if start < reference.gflops * (1 - options.probeSlowdown) {
            warn(
                String(
                    format:
                        "this session starts in a slow phase: the probe's calibration read %.1f GFLOP/s, %.0f%% below this machine's reference %.1f (%d earlier session(s), %@); its rounds are judged against the reference and measured again while the machine reads slow",
                    start, 100 * (1 - start / reference.gflops), reference.gflops, reference.sessions, reference.file))
        }
        return reference
    }

    /// Records the session's fast-state rate in the cache, when it read the probe long enough (a
    /// session of a few readings says little) and at its real rate.
    func record(_ journal: ProbeJournal, warn: (String) -> Void) {
        guard options.standIns.referenceRate == nil, options.standIns.probeRateScale == 1,
            journal.probe.readings.count >= Self.readingsToRecord
        else { return }
        cache.record(journal.probe.referenceGflops, for: kind, warn: warn)
    }

    /// A resume whose calibration read a reference rate more than the tolerance away from the
    /// run's `first` session reads the probe on for up to ``RunOptions/probeRecheckSeconds``,
    /// until it is within the tolerance: a half-second calibration in a slow phase of a shared
    /// machine must not pass for another machine. Returns the identity with the rate read and the
    /// seconds it took; a warning says what happened.
    func recheck(
        _ identity: MachineIdentity, against first: MachineIdentity, journal: ProbeJournal, warn: (String) -> Void
    ) -> MachineIdentity {
        guard options.probeRecheckSeconds > 0 else { return identity }
        let started = MonotonicClock.now()
        var rechecked = identity
        rechecked.referenceGflops = journal.reread(
            forUpTo: options.probeRecheckSeconds, standIn: options.standIns.referenceRecheck,
            until: { first.acceptsRate($0) })
        let extra = MonotonicClock.now() - started
        rechecked.referenceSeconds = options.probeCalibrationSeconds + extra
        let verdict =
            first.acceptsRate(rechecked.referenceGflops) ? "within the tolerance" : "still beyond the tolerance"
        warn(
            String(
                format:
                    "the calibration read the reference sgemm rate at %.1f GFLOP/s, %+.0f%% from the first session's %.1f; read for %.1f s more: %.1f GFLOP/s, ",
                identity.referenceGflops, 100 * first.rateChange(to: identity), first.referenceGflops, extra,
                rechecked.referenceGflops) + verdict)
        return rechecked
    }
}
