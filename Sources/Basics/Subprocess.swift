import Foundation

/// Running another program to its end: git, tar, sbatch, the figure scripts.
public enum Subprocess {
    /// Runs `executable` with `arguments` and waits for it; returns its exit status and what it
    /// printed on standard output, with standard error too unless `discardingErrors`.
    ///
    /// - Throws: when the program cannot be started.
    public static func run(
        _ executable: String, _ arguments: [String], discardingErrors: Bool = false
    ) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = discardingErrors ? FileHandle.nullDevice : pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
