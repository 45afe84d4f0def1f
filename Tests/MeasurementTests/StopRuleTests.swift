import Testing

@testable import Measurement

@Suite struct StopRuleTests {
    @Test func steadyTimesStopAtTheMinimumRunsOnTheTarget() {
        let rule = StopRule(target: 0.01, minRuns: 5, maxRuns: 100, maxSeconds: 10)
        #expect(rule.decision(times: [1, 1, 1, 1], elapsed: 4) == nil)
        // Five equal times: [min, max] covers the median with only 1 − 2/32 < 95%: not yet.
        #expect(rule.decision(times: [1, 1, 1, 1, 1], elapsed: 5) == nil)
        #expect(rule.decision(times: [1, 1, 1, 1, 1, 1], elapsed: 6) == .confidenceReached)
        let wider = StopRule(target: 0.01, minRuns: 10, maxRuns: 100, maxSeconds: 10)
        #expect(wider.decision(times: Array(repeating: 1, count: 9), elapsed: 9) == nil)
        #expect(wider.decision(times: Array(repeating: 1, count: 10), elapsed: 10) == .confidenceReached)
    }

    @Test func noisyTimesRunToTheLimits() {
        let rule = StopRule(target: 0.01, minRuns: 5, maxRuns: 40, maxSeconds: 1000)
        let noisy = (0..<39).map { $0 % 2 == 0 ? 1.0 : 2.0 }
        #expect(rule.decision(times: noisy, elapsed: 58) == nil)
        #expect(rule.decision(times: noisy + [1], elapsed: 59) == .maxRuns)
        let timeLimited = StopRule(target: 0.01, minRuns: 5, maxRuns: 2000, maxSeconds: 2)
        #expect(timeLimited.decision(times: noisy, elapsed: 2.5) == .maxSeconds)
    }

    @Test func fixedRunsIgnoreTheTargetAndTheClock() {
        let rule = StopRule(maxSeconds: 1, fixedRuns: 10)
        #expect(rule.decision(times: Array(repeating: 1, count: 9), elapsed: 100) == nil)
        #expect(rule.decision(times: Array(repeating: 1, count: 10), elapsed: 100) == .fixedRuns)
    }

    @Test func invalidSettingsAreRefusedByName() {
        #expect(throws: StopRuleError.self) { try StopRule(target: 0).validate() }
        #expect(throws: StopRuleError.self) { try StopRule(minRuns: 10, maxRuns: 5).validate() }
        #expect(throws: StopRuleError.self) { try StopRule(maxSeconds: -1).validate() }
        #expect(throws: StopRuleError.self) { try StopRule(fixedRuns: 0).validate() }
        #expect(throws: Never.self) { try StopRule().validate() }
    }

    @Test func samplerWarmsUpThenStopsOnTheRule() {
        var calls = 0
        let sampler = Sampler(rule: StopRule(target: 0.5, minRuns: 7, maxRuns: 7, maxSeconds: 10))
        let samples = sampler.measure {
            calls += 1
            var x = 0.0
            for i in 0..<10_000 { x += Double(i) }
            return (lowering: x > 0 ? 1e-6 : 0, gemm: 2e-6)
        }
        #expect(samples.warmUpRuns >= 1)
        #expect(samples.times.count == 7 && samples.lowering.count == 7 && samples.gemm.count == 7)
        #expect(calls == samples.warmUpRuns + 7)
        #expect(samples.times.allSatisfy { $0 > 0 })
        #expect(samples.gemm.allSatisfy { $0 == 2e-6 })
    }

    @Test func betweenRunsIsCalledBeforeEveryRun() {
        var evictions = 0
        var runs = 0
        let sampler = Sampler(rule: StopRule(fixedRuns: 12)) { evictions += 1 }
        _ = sampler.measure {
            runs += 1
            return (0, 0)
        }
        #expect(evictions == runs)
    }
}
