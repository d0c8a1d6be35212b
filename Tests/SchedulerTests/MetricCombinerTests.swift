import Scheduler
import Testing

@Suite("several metrics, combined as the HPA does")
struct MetricCombinerTests {
    typealias Reading = MetricCombiner.Reading

    @Test func theLargestDesiredCountWins() {
        let result = MetricCombiner.recommend(
            current: 4,
            readings: [
                Reading(metric: .requests, target: 20, value: 10),  // asks for 2
                Reading(metric: .cpu, target: 60, value: 90),  // asks for 6
            ])
        #expect(result.desired == 6 && result.deciding == .cpu)
        #expect(result.reason.hasPrefix("cpu 90 % CPU > target 60"), "\(result.reason)")
    }

    @Test func aScaleInNeedsEveryMetricToAgree() {
        let agree = MetricCombiner.recommend(
            current: 4, readings: [Reading(metric: .requests, target: 20, value: 10), Reading(metric: .cpu, target: 60, value: 30)])
        #expect(agree.desired == 2 && agree.deciding == .requests)
        let oneHolds = MetricCombiner.recommend(
            current: 4, readings: [Reading(metric: .requests, target: 20, value: 10), Reading(metric: .cpu, target: 60, value: 61)])
        #expect(oneHolds.desired == 4 && oneHolds.deciding == nil)
    }

    @Test func aMissingSampleNeitherScalesOutNorIn() {
        let down = MetricCombiner.recommend(
            current: 4, readings: [Reading(metric: .requests, target: 20, value: 5), Reading(metric: .cpu, target: 60, value: nil)])
        #expect(down.desired == 4 && down.reason == "no sample of cpu: holding")
        let allMissing = MetricCombiner.recommend(current: 4, readings: [Reading(metric: .cpu, target: 60, value: nil)])
        #expect(allMissing.desired == 4)
        // Another metric may still scale out.
        let up = MetricCombiner.recommend(
            current: 4, readings: [Reading(metric: .requests, target: 20, value: 40), Reading(metric: .cpu, target: 60, value: nil)])
        #expect(up.desired == 8 && up.deciding == .requests)
    }

    @Test func latencyJustAboveItsSLOBlocksAScaleInAndScalesOut() {
        // 205 ms against 200: within the others' 10 % tolerance, but an SLO is a bound.
        let just = MetricCombiner.recommend(
            current: 3, readings: [Reading(metric: .latency, target: 200, value: 205), Reading(metric: .requests, target: 20, value: 5)])
        #expect(just.desired == 4 && just.deciding == .latency)
        // At the SLO: abstains, and the others' scale-in goes ahead.
        let at = MetricCombiner.recommend(
            current: 3, readings: [Reading(metric: .latency, target: 200, value: 200), Reading(metric: .requests, target: 20, value: 5)])
        #expect(at.desired == 1 && at.deciding == .requests)
    }

    @Test func latencyOnlyEverScalesOut() {
        let slow = MetricCombiner.recommend(current: 3, readings: [Reading(metric: .latency, target: 200, value: 450)])
        #expect(slow.desired == 4 && slow.deciding == .latency)
        let fast = MetricCombiner.recommend(current: 3, readings: [Reading(metric: .latency, target: 200, value: 20)])
        #expect(fast.desired == 3)
        // Fast latency does not hold back a scale-in the others agree on.
        let quiet = MetricCombiner.recommend(
            current: 3, readings: [Reading(metric: .latency, target: 200, value: 20), Reading(metric: .requests, target: 20, value: 5)])
        #expect(quiet.desired == 1 && quiet.deciding == .requests)
    }

    @Test func withinToleranceHolds() {
        let result = MetricCombiner.recommend(current: 4, readings: [Reading(metric: .inflight, target: 10, value: 10.5)])
        #expect(result.desired == 4 && result.deciding == nil)
    }

    @Test func noInstanceAndSomeLoadAsksForOne() {
        #expect(MetricCombiner.recommend(current: 0, readings: [Reading(metric: .requests, target: 20, value: 3)]).desired == 1)
        #expect(MetricCombiner.recommend(current: 0, readings: [Reading(metric: .requests, target: 20, value: 0)]).desired == 0)
    }
}
