import Basics
import Foundation
import TestSupport
import Testing

@testable import Replication

private func temporaryPackage() throws -> URL {
    let dir = temporaryDirectoryURL("sums")
    try FileManager.default.createDirectory(at: dir.appendingPathComponent("data"), withIntermediateDirectories: true)
    try Data("a,b\n1,2\n".utf8).write(to: dir.appendingPathComponent("data/exp-a.csv"))
    try Data("{}".utf8).write(to: dir.appendingPathComponent("manifest.json"))
    return dir
}

@Test func sumsMatchTheKnownSHA256OfABCAndVerifyClean() throws {
    #expect(
        SHA256Hex.of(Data("abc".utf8))
            == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    // FIPS 180-2's million 'a', fed in uneven chunks as the checksums and the executable's digest
    // read files: the streaming hasher gives the known digest.
    let hasher = SHA256Hasher()
    var left = 1_000_000
    var chunk = 1
    while left > 0 {
        let n = min(chunk, left)
        hasher.update(Data(repeating: UInt8(ascii: "a"), count: n))
        left -= n
        chunk = chunk * 7 % 65_521 + 1
    }
    #expect(
        SHA256Hex.hex(hasher.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    let dir = try temporaryPackage()
    defer { try? FileManager.default.removeItem(at: dir) }
    let sums = try Checksums.write(directory: dir)
    #expect(Set(sums.keys) == ["data/exp-a.csv", "manifest.json"])
    #expect(try Checksums.verify(directory: dir).isEmpty)
}

@Test func verifyNamesAnEditedARemovedAndAnAddedFile() throws {
    let dir = try temporaryPackage()
    defer { try? FileManager.default.removeItem(at: dir) }
    try Checksums.write(directory: dir)
    try Data("a,b\n1,3\n".utf8).write(to: dir.appendingPathComponent("data/exp-a.csv"))
    try FileManager.default.removeItem(at: dir.appendingPathComponent("manifest.json"))
    try Data("x".utf8).write(to: dir.appendingPathComponent("extra.txt"))
    let problems = try Checksums.verify(directory: dir)
    #expect(problems.contains(.modified("data/exp-a.csv")))
    #expect(problems.contains(.missing("manifest.json")))
    #expect(problems.contains(.unlisted("extra.txt")))
}
