import Testing
@testable import ConvKernels

@Test func ConvKernelsLinks() { #expect(Bool(true)) }
