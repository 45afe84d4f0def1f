import Basics
import Foundation
import TestSupport
import Testing

@testable import Sweeps

/// Where convsweep finds its shipped sweeps, figure script and commit, wherever it runs from.
@Suite struct ShippedFilesTests {
    /// A fresh directory with `PREFIX/bin/convsweep` and `PREFIX/share/convsweep/sweeps/quick`.
    private func installedPrefix() throws -> String {
        let prefix = temporaryDirectory("shipped")
        try FileManager.default.createDirectory(atPath: prefix + "/bin", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            atPath: prefix + "/share/convsweep/sweeps/quick", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: prefix + "/bin/convsweep", contents: Data())
        return prefix
    }

    @Test func anInstalledExecutableFindsTheSweepsBesideIt() throws {
        let prefix = try installedPrefix()
        let files = try ShippedFiles.locate(
            environment: [:], executable: prefix + "/bin/convsweep", sourceFile: "/nowhere/Sources/Sweeps/F.swift")
        #expect(files.layout == .installed)
        #expect(files.sweepsDirectory == prefix + "/share/convsweep/sweeps")
        #expect(files.root == prefix + "/share/convsweep")
    }

    @Test func anExecutableBuiltInACloneFindsTheClonesSweeps() throws {
        let clone = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        // From the executable's place in .build, with the source file unknown …
        let fromExecutable = try ShippedFiles.locate(
            environment: [:], executable: clone + "/.build/x86_64-unknown-linux-gnu/debug/convsweep",
            sourceFile: "/nowhere/Sources/Sweeps/F.swift")
        #expect(fromExecutable.layout == .sourceTree)
        #expect(fromExecutable.sweepsDirectory == clone + "/sweeps")
        #expect(fromExecutable.root == clone)
        // … and from the source tree it was compiled in, with the executable copied elsewhere.
        let fromSource = try ShippedFiles.locate(
            environment: [:], executable: "/nowhere/bin/convsweep",
            sourceFile: clone + "/Sources/Sweeps/ShippedFiles.swift")
        #expect(fromSource.sweepsDirectory == clone + "/sweeps")
    }

    @Test func aNamedDirectoryWinsAndTheEnvironmentVariableComesNext() throws {
        let prefix = try installedPrefix()
        let mine = prefix + "/mine"
        try FileManager.default.createDirectory(atPath: mine + "/paper", withIntermediateDirectories: true)
        let executable = prefix + "/bin/convsweep"
        let named = try ShippedFiles.locate(sweepsDirectory: mine, environment: [:], executable: executable)
        #expect(named.sweepsDirectory == mine)
        // The figure script still comes from the installation.
        #expect(named.layout == .installed)
        let fromEnvironment = try ShippedFiles.locate(
            environment: [ShippedFiles.sweepsEnvironmentVariable: mine], executable: executable)
        #expect(fromEnvironment.sweepsDirectory == mine)
    }

    @Test func aNamedDirectoryWithoutSweepsIsRefusedByName() throws {
        let prefix = try installedPrefix()
        #expect {
            try ShippedFiles.locate(
                sweepsDirectory: prefix + "/bin", environment: [:], executable: prefix + "/bin/convsweep")
        } throws: { error in
            error as? ShippedFilesError == .holdsNoSweeps(prefix + "/bin", namedBy: .caller)
                && "\(error)".contains(prefix + "/bin: the sweeps directory given holds no sweeps")
        }
    }

    @Test func whenNothingIsFoundTheErrorNamesEveryPlaceLookedIn() throws {
        let empty = temporaryDirectory("shipped")
        #expect {
            try ShippedFiles.locate(
                environment: [:], executable: empty + "/bin/convsweep",
                sourceFile: empty + "/src/Sources/Sweeps/F.swift")
        } throws: { error in
            let text = "\(error)"
            return text.contains(ShippedFiles.sweepsEnvironmentVariable)
                && text.contains(empty + "/share/convsweep/sweeps") && text.contains(empty + "/src/sweeps")
        }
    }

    @Test func anInstallStampNamesTheCommit() throws {
        let prefix = try installedPrefix()
        try "0123abc\n".write(
            toFile: prefix + "/share/convsweep/\(BuildInfo.commitStampName)", atomically: true, encoding: .utf8)
        #expect(BuildInfo.gitCommit(executable: prefix + "/bin/convsweep", sourceFile: "/nowhere/F.swift") == "0123abc")
        #expect(BuildInfo.gitCommit(executable: "/nowhere/bin/convsweep", sourceFile: "/nowhere/F.swift") == nil)
    }

    @Test func pathsInsideTheCurrentDirectoryAreRecordedRelativeToIt() {
        #expect(ShippedFiles.displayPath("/a/b/sweeps", currentDirectory: "/a/b") == "sweeps")
        #expect(ShippedFiles.displayPath("/a/b/sweeps", currentDirectory: "/a/b/") == "sweeps")
        #expect(ShippedFiles.displayPath("/a/bc/sweeps", currentDirectory: "/a/b") == "/a/bc/sweeps")
    }
}
