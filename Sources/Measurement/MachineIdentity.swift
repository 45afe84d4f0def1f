import Basics
import ConvKernels

/// What identifies the machine a run session measured on, beyond its host name: two VMs of one
/// kind share host name, CPU model string and software, but not their boot or their speed.
public struct MachineIdentity: Codable, Hashable, Sendable {
    /// `/proc/sys/kernel/random/boot_id`: a new value at every boot of every machine.
    public var bootID: String
    /// The CPU model string.
    public var cpuModel: String
    /// SHA-256 of the sorted CPU flags of /proc/cpuinfo (different flags, different kernels).
    public var cpuFlagsSHA256: String
    /// The microcode revision, where /proc/cpuinfo shows it.
    public var microcode: String?
    /// The kernel set OpenBLAS chose (or was told to use with `OPENBLAS_CORETYPE`).
    public var openBLASCore: String
    /// The drift probe's reference rate at the session's start, GFLOP/s.
    public var referenceGflops: Double
    /// Seconds of probe readings behind ``referenceGflops`` when a resume read the probe for longer
    /// than the calibration, because the calibration's rate was more than the tolerance away from
    /// the run's first session (nil: the calibration alone).
    public var referenceSeconds: Double?

    /// How far a resumed session's reference rate may be from the first session's (10%).
    public static let rateTolerance = 0.10

    /// This machine's identity now, with the probe's reference rate.
    public static func capture(cpuModel: String, referenceGflops: Double) -> MachineIdentity {
        let cpuinfo = SystemFile.read("/proc/cpuinfo") ?? ""
        func field(_ name: String) -> String? { cpuinfoField(name, in: cpuinfo) }
        let flags = cpuFlags(cpuinfo).sorted().joined(separator: " ")
        return MachineIdentity(
            bootID: SystemFile.read("/proc/sys/kernel/random/boot_id")?.trimmed ?? "unknown", cpuModel: cpuModel,
            cpuFlagsSHA256: SHA256Hex.of(flags), microcode: field("microcode"), openBLASCore: OpenBLAS.coreName,
            referenceGflops: referenceGflops)
    }

    /// The value of the first `name:` line of a /proc/cpuinfo text (the first CPU's).
    static func cpuinfoField(_ name: String, in cpuinfo: String) -> String? {
        for line in cpuinfo.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].trimmed == name { return parts[1].trimmed }
        }
        return nil
    }

    /// The first CPU's flags in a /proc/cpuinfo text (this machine's by default).
    static func cpuFlags(_ cpuinfo: String = SystemFile.read("/proc/cpuinfo") ?? "") -> [String] {
        (cpuinfoField("flags", in: cpuinfo) ?? "").split(separator: " ").map(String.init)
    }

    /// How `other` (a later session) differs from this one in ways that make its times
    /// incomparable: another boot, CPU, flag set or kernel set, or a reference rate more than
    /// `rateTolerance` away. Empty when it may add to the same run.
    public func differences(from other: MachineIdentity, rateTolerance: Double = rateTolerance) -> [String] {
        var differences: [String] = []
        if bootID != other.bootID { differences.append("boot \(bootID) vs \(other.bootID)") }
        if cpuModel != other.cpuModel { differences.append("CPU \(cpuModel) vs \(other.cpuModel)") }
        if cpuFlagsSHA256 != other.cpuFlagsSHA256 { differences.append("CPU flags differ") }
        if microcode != other.microcode {
            differences.append("microcode \(microcode ?? "unknown") vs \(other.microcode ?? "unknown")")
        }
        if openBLASCore != other.openBLASCore {
            differences.append("OpenBLAS kernels \(openBLASCore) vs \(other.openBLASCore)")
        }
        if !acceptsRate(other.referenceGflops, tolerance: rateTolerance) {
            let change = rateChange(to: other)
            differences.append(
                String(
                    format: "reference sgemm rate %.1f vs %.1f GFLOP/s (%+.0f%%, more than %.0f%%)", referenceGflops,
                    other.referenceGflops, 100 * change, 100 * rateTolerance))
        }
        return differences
    }

    /// The relative change of the reference rate from this identity to `other` (0.2: 20% faster).
    public func rateChange(to other: MachineIdentity) -> Double { rateChange(toRate: other.referenceGflops) }

    /// The relative change from this identity's reference rate to `rate` GFLOP/s (0.2: 20% faster).
    public func rateChange(toRate rate: Double) -> Double { rate / referenceGflops - 1 }

    /// Whether `rate` GFLOP/s is within `tolerance` (relative) of this identity's reference rate:
    /// the one test of "the same speed" (false for a rate that is not a number).
    public func acceptsRate(_ rate: Double, tolerance: Double = rateTolerance) -> Bool {
        abs(rateChange(toRate: rate)) <= tolerance
    }
}
