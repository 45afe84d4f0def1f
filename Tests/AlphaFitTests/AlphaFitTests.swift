import Testing
@testable import AlphaFit

@Test func AlphaFitLinks() { #expect(Bool(true)) }
