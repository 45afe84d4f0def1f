import ArgumentParser
import Foundation
import Measurement

/// `--wait`, and the one way a command that times kernels locks its PUs (``ProcessingUnitLocks``).
struct ProcessingUnitOptions: ParsableArguments {
    @Flag(
        help: ArgumentHelp(
            "Wait for PUs another convsweep is measuring on, instead of refusing at once (one measuring process per PU, machine-wide; locks in $\(ProcessingUnitLocks.directoryVariable), default /run/lock/convsweep)."
        ))
    var wait = false

    /// Locks `processingUnits` for this command, measuring `purpose`; a held PU is refused with
    /// exit 1 naming the PU and its holder (or waited for with `--wait`).
    func lock(_ processingUnits: [Int], purpose: String) throws -> ProcessingUnitLease {
        do {
            return try ProcessingUnitLocks.acquire(
                processingUnits, for: .this(purpose: purpose), wait: wait,
                note: { FileHandle.standardError.write(Data("convsweep: \($0)\n".utf8)) })
        } catch {
            throw fail(error.description, code: ExitStatus.failure)
        }
    }
}
