import ArgumentParser
import Foundation
import Measurement

/// `--wait` and `--wait-limit`, and the one way a command that times kernels locks its PUs
/// (``ProcessingUnitLocks``).
struct ProcessingUnitOptions: ParsableArguments {
    @Flag(
        help: ArgumentHelp(
            "Wait for PUs another convsweep is measuring on, instead of refusing at once (one measuring process per PU, machine-wide; locks in $\(ProcessingUnitLocks.directoryVariable), default \(ProcessingUnitLocks.sharedDirectory))."
        ))
    var wait = false

    @Option(
        name: .customLong("wait-limit"),
        help: ArgumentHelp("With --wait, the most seconds to wait before giving up (exit 1).", valueName: "seconds"))
    var waitSeconds: Double = 3600

    func validate() throws {
        guard waitSeconds.isFinite, waitSeconds >= 0 else {
            throw ValidationError("--wait-limit must be a number of seconds, 0 or more (got \(waitSeconds))")
        }
    }

    /// The most seconds to wait for a held PU, nil when a held PU is refused at once.
    var waitLimit: Double? { wait ? waitSeconds : nil }

    /// Locks `processingUnits` for this command; a held PU is refused with exit 1 naming the PU
    /// and its holder (or waited for with `--wait`, up to `--wait-limit`).
    func lock(_ processingUnits: [Int]) throws -> ProcessingUnitLease {
        do {
            return try ProcessingUnitLocks.acquire(
                processingUnits, waitLimit: waitLimit,
                note: { FileHandle.standardError.write(Data("convsweep: \($0)\n".utf8)) })
        } catch {
            throw fail(error.description, code: ExitStatus.failure)
        }
    }
}
