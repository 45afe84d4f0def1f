import Testing
@testable import Sweeps

@Test func SweepsLinks() { #expect(Bool(true)) }
