import Basics
import ConvKernels
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The facts about the machine and build a replicator needs, captured at the start of a run.
public struct EnvironmentSnapshot: Codable, Hashable, Sendable {
    /// `gethostname`.
    public var hostName: String
    /// `uname`: system name, release, version and machine.
    public var kernel: String
    /// `PRETTY_NAME` from `/etc/os-release`, when readable.
    public var operatingSystem: String?
    /// The Swift compiler that built convsweep (compile-time `#if compiler`).
    public var swiftCompiler: String
    /// `debug` or `release`.
    public var buildConfiguration: String
    /// hwloc's version.
    public var hwlocVersion: String
    /// The CPU model.
    public var cpuModel: String
    /// Packages, cores and processing units of the machine.
    public var packages: Int
    /// Cores (hwloc).
    public var cores: Int
    /// Processing units, hardware threads (hwloc).
    public var processingUnits: Int
    /// Processing units this process was allowed at start (before binding).
    public var allowedProcessingUnits: String
    /// Every cache level, from hwloc.
    public var caches: [CacheLevel]
    /// `scaling_governor` of each bound CPU (`cpuN: governor`); empty when not readable.
    public var governors: [String]
    /// The 1, 5 and 15 minute load averages at capture.
    public var loadAverage: [Double]
    /// OpenBLAS version, build configuration, kernel set, threading model, detected processors.
    public var openBLASVersion: String
    /// OpenBLAS's build configuration string.
    public var openBLASConfig: String
    /// The kernel set OpenBLAS chose for this CPU.
    public var openBLASCore: String
    /// OpenBLAS's threading model.
    public var openBLASParallelism: String
    /// Processors OpenBLAS detected.
    public var openBLASProcessors: Int
    /// The instruction set of convsweep's own kernels' clone on this CPU
    /// (``Conv2D/ownKernelsInstructionSet``); nil in manifests written before 0.12.0.
    public var ownKernels: String?

    /// Captures the environment; `cpuset` names the CPUs whose governor is read.
    public static func capture(topology: Topology, cpuset: [Int]) -> EnvironmentSnapshot {
        EnvironmentSnapshot(
            hostName: hostName(), kernel: kernelDescription(), operatingSystem: operatingSystemName(),
            swiftCompiler: swiftCompilerVersion, buildConfiguration: buildConfiguration,
            hwlocVersion: Topology.hwlocVersion, cpuModel: topology.cpuModel,
            packages: topology.packageCount, cores: topology.coreCount,
            processingUnits: topology.processingUnitCount,
            allowedProcessingUnits: CPUSet.format(topology.allowedProcessingUnits),
            caches: topology.caches, governors: governors(cpuset), loadAverage: loadAverage(),
            openBLASVersion: OpenBLAS.version, openBLASConfig: OpenBLAS.config,
            openBLASCore: OpenBLAS.coreName, openBLASParallelism: OpenBLAS.parallelism,
            openBLASProcessors: OpenBLAS.processorCount, ownKernels: Conv2D.ownKernelsInstructionSet)
    }

    /// `debug` or `release`, as this binary was built.
    public static var buildConfiguration: String {
        #if DEBUG
            return "debug"
        #else
            return "release"
        #endif
    }

    /// The compiler version this binary was built with, to the minor version.
    public static var swiftCompilerVersion: String {
        #if compiler(>=6.4)
            return "Swift >= 6.4"
        #elseif compiler(>=6.3)
            return "Swift 6.3"
        #elseif compiler(>=6.2)
            return "Swift 6.2"
        #elseif compiler(>=6.1)
            return "Swift 6.1"
        #elseif compiler(>=6.0)
            return "Swift 6.0"
        #else
            return "Swift < 6.0"
        #endif
    }

    /// The host name.
    public static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        return String(nulTerminated: buffer)
    }

    /// `sysname release version machine` from `uname`.
    public static func kernelDescription() -> String {
        var name = utsname()
        guard uname(&name) == 0 else { return "unknown" }
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        }
        return [field(name.sysname), field(name.release), field(name.version), field(name.machine)]
            .joined(separator: " ")
    }

    /// `PRETTY_NAME` from `/etc/os-release`.
    public static func operatingSystemName() -> String? {
        guard let text = SystemFile.read("/etc/os-release") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            return String(line.dropFirst("PRETTY_NAME=".count)).replacingQuotes()
        }
        return nil
    }

    /// The frequency governor of each CPU in `cpuset` that exposes one.
    public static func governors(_ cpuset: [Int]) -> [String] {
        cpuset.compactMap { cpu in
            guard let text = SystemFile.read("/sys/devices/system/cpu/cpu\(cpu)/cpufreq/scaling_governor")
            else { return nil }
            return "cpu\(cpu): \(text.trimmed)"
        }
    }

    /// The 1, 5 and 15 minute load averages (empty when unavailable).
    public static func loadAverage() -> [Double] {
        var values = [Double](repeating: 0, count: 3)
        return getloadavg(&values, 3) == 3 ? values : []
    }

    /// Warnings about this environment that make timings less trustworthy.
    ///
    /// - Parameter busyThreshold: a 1-minute load average at or above this warns of a busy machine.
    public func warnings(busyThreshold: Double) -> [String] {
        var result: [String] = []
        if buildConfiguration == "debug" {
            result.append("debug build: convsweep's own code (im2col lowering) runs unoptimised; build with -c release")
        }
        for governor in governors where !governor.hasSuffix(": performance") {
            result.append("frequency governor \(governor) scales the clock; set it to performance")
        }
        if let advice = EnvironmentSnapshot.kernelSetAdvice(
            openBLASCore: openBLASCore, cpuFlags: Set(MachineIdentity.cpuFlags()))
        {
            result.append(advice)
        }
        if let load = loadAverage.first, load >= busyThreshold {
            result.append(
                "busy machine: 1-minute load average \(load) with \(processingUnits) PUs; timings may be noisy")
        }
        return result
    }
}

extension EnvironmentSnapshot {
    /// OpenBLAS kernel sets that use no AVX: what OpenBLAS falls back to on a CPU model it does not
    /// know (OpenBLAS 0.3.21 on an Intel Xeon of family 6, model 207, picks `Prescott`).
    static let preAVXKernelSets: Set<String> = [
        "prescott", "nehalem", "core2", "penryn", "dunnington", "katmai", "atom",
    ]

    /// A warning when OpenBLAS runs a kernel set without AVX on a CPU that has AVX2 or AVX-512,
    /// naming the set to ask for (`OPENBLAS_CORETYPE`); nil otherwise or when the user chose it.
    static func kernelSetAdvice(
        openBLASCore: String, cpuFlags: Set<String>,
        chosen: String? = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]
    ) -> String? {
        guard preAVXKernelSets.contains(openBLASCore.lowercased()), chosen?.isEmpty ?? true else { return nil }
        let better: String
        if cpuFlags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl"]) {
            better = "SkylakeX"
        } else if cpuFlags.isSuperset(of: ["avx2", "fma"]) {
            better = "Haswell"
        } else {
            return nil
        }
        return
            "OpenBLAS runs its \(openBLASCore) kernels (no AVX) on a CPU with \(better == "SkylakeX" ? "AVX-512" : "AVX2"): "
            + "this OpenBLAS does not know the CPU model; OPENBLAS_CORETYPE=\(better) selects kernels that use it "
            + "(several times faster); the times measured are those of the \(openBLASCore) kernels"
    }
}

extension EnvironmentSnapshot {
    /// The environment variables that choose which kernels run (OpenBLAS's kernel set, oneDNN's
    /// instruction set): a run measured under one of them measures other software than a run
    /// without it, so a rebuild command must set it again.
    public static let kernelSelectionVariables = [
        "DNNL_MAX_CPU_ISA", "ONEDNN_MAX_CPU_ISA", "OPENBLAS_CORETYPE", "GOMP_SPINCOUNT", "OMP_WAIT_POLICY",
        "OPENBLAS_THREAD_TIMEOUT",
    ]

    /// The kernel-selecting variables set (and not empty) in `environment`, with their values, in
    /// the order of ``kernelSelectionVariables``.
    public static func kernelSelection(
        in environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> [(name: String, value: String)] {
        kernelSelectionVariables.compactMap { name in
            environment[name].flatMap { $0.isEmpty ? nil : (name, $0) }
        }
    }
}

extension String {
    fileprivate func replacingQuotes() -> String {
        var s = Substring(self)
        if s.first == "\"" { s.removeFirst() }
        if s.last == "\"" { s.removeLast() }
        return String(s)
    }
}
