import Testing
@testable import Measurement

@Test func MeasurementLinks() { #expect(Bool(true)) }
