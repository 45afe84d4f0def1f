import Testing
@testable import Replication

@Test func ReplicationLinks() { #expect(Bool(true)) }
