import Foundation
import Rows
import TestSupport
import Testing

/// The one resolver of a run's or a package's files.
@Suite struct RowSourceTests {
    private let quick = repositoryRoot.path + "/results/amd-epyc-2pu/quick"

    @Test func aPackageIsItsDataFilesAndItsRunsRoundsAndProbes() throws {
        let source = try RowSource(path: quick)
        #expect(source == .package(quick))
        #expect(source.measurementFiles.first == quick + "/data/exp-a.csv")
        #expect(source.measurementFiles.allSatisfy { $0.hasPrefix(quick + "/data/") && $0.hasSuffix(".csv") })
        #expect(source.roundsFile == quick + "/run/rounds.csv")
        #expect(source.probesFile == quick + "/run/probes.csv")
        #expect(source.manifestFile == quick + "/run/manifest.json")
        #expect(try source.rows().count == 260)
    }

    @Test func aRunDirectoryIsItsMeasurementsAndAFileItself() throws {
        let run = try RowSource(path: quick + "/run")
        #expect(run == .run(quick + "/run") && run.measurementFiles == [quick + "/run/measurements.csv"])
        #expect(run.roundsFile == quick + "/run/rounds.csv")
        let file = try RowSource(path: quick + "/data/regression.csv")
        #expect(file == .file(quick + "/data/regression.csv") && file.roundsFile == nil && file.runDirectory == nil)
    }

    @Test func aDirectoryOfNeitherKindIsAnErrorNamingIt() {
        let empty = temporaryDirectory()
        #expect(throws: RowFormatError.self) { try RowSource(path: empty) }
        #expect(throws: RowFormatError.self) { try RowSource(path: empty + "/missing") }
    }
}
