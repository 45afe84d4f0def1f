import Testing
@testable import Runner

@Test func RunnerLinks() { #expect(Bool(true)) }
