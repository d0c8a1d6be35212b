import AutoscalerAPI
import AutoscalerClient
import Foundation
import InstanceProviders
import Scheduler
import Testing

/// The metrics' windows, the planner scaling on them, and the PromQL answer's one number: pure
/// parts, table-tested.
@Suite("scaling signals")
struct ScalingSignalsTests {
    static func cpu(_ seconds: Double, cpus: Int = 1) -> CPUTime { CPUTime(used: .milliseconds(Int64(seconds * 1000)), cpus: cpus) }

    @Test func cpuOverTheWindowLeavesOutWarmingAndRestartedInstances() {
        var window = CPUWindow(seconds: 10)
        // web_vm1 uses half a CPU (50 %), web_vm2 1.5 CPUs of its two (75 %).
        for tick in 0...12 {
            let t = Double(tick)
            window.add(["web_vm1": Self.cpu(t * 0.5), "web_vm2": Self.cpu(t * 1.5, cpus: 2)], at: t)
        }
        let rounded = { (values: [Double]) in values.map { ($0 * 1000).rounded() / 1000 }.sorted() }
        #expect(rounded(window.utilisation(of: ["web_vm1": -.infinity, "web_vm2": -.infinity], now: 12, warmup: 15)) == [50, 75])
        // In service for 5 s with a 15 s warm-up: left out; none left is no sample, not 0 %.
        #expect(window.utilisation(of: ["web_vm1": 7], now: 12, warmup: 15).isEmpty)
        #expect(rounded(window.utilisation(of: ["web_vm1": -.infinity, "web_vm2": 7], now: 12, warmup: 15)) == [50])
        // The counter went back (the VM restarted): its window starts again; one reading says nothing.
        window.add(["web_vm1": Self.cpu(0.1), "web_vm2": Self.cpu(19)], at: 13)
        #expect(window.utilisation(of: ["web_vm1": -.infinity], now: 13, warmup: 0).isEmpty)
        // An instance not read this tick is forgotten: its next reading starts afresh.
        window.add(["web_vm1": Self.cpu(0.6)], at: 14)
        window.add(["web_vm1": Self.cpu(1.1), "web_vm2": Self.cpu(100)], at: 15)
        #expect(window.utilisation(of: ["web_vm2": -.infinity], now: 15, warmup: 0).isEmpty)
    }

    @Test func inFlightIsAveragedOverTheWindow() {
        var gauge = GaugeWindow(seconds: 3)
        #expect(gauge.average == nil)
        for (t, value) in [(0.0, 0.0), (1, 2), (2, 0), (3, 2), (4, 2)] { gauge.add(value, at: t) }
        #expect(gauge.average == 2.0 * 2 / 3)  // 2, 0, 2… the readings within 3 s: t = 2, 3, 4
        gauge.reset()
        #expect(gauge.average == nil)
    }

    /// Little's law over the window: 0.5 s of request time per second is half a request in
    /// flight, however the requests fall between the reads.
    @Test func concurrencyIsTheTimeRequestsSpentOverTheTimeThatPassed() {
        func buckets(_ sum: Double, _ count: Int) -> LatencyBuckets {
            LatencyBuckets(boundsSeconds: [0.1, 1], counts: [count, 0], count: count, sumSeconds: sum)
        }
        var window = LoadWindow(seconds: 10)
        window.add(time: 0, requestsTotal: 0, latency: buckets(0, 0))
        window.add(time: 1, requestsTotal: 5, latency: buckets(0.5, 5))
        #expect(window.concurrency == nil)  // less than 2 s seen
        window.add(time: 4, requestsTotal: 20, latency: buckets(2, 20))
        #expect(window.concurrency == 0.5)
        var none = LoadWindow(seconds: 10)
        none.add(time: 0, requestsTotal: 0)
        none.add(time: 5, requestsTotal: 10)
        #expect(none.concurrency == nil)
    }

    /// One source per balancer for requests in flight: Little's law where the balancer has a
    /// histogram (the gauge, which can read anything between two ticks, is not looked at), the
    /// gauge averaged over the ticks where it has none (HAProxy). The CPU average counts the
    /// instances with a value and says how many.
    @Test func signalsTakeInFlightFromTheHistogramElseTheGaugeAndCountTheCPUsMeasured() {
        var configuration = Scheduler.Configuration()
        configuration.cpuWarmup = .seconds(15)
        let inService = ["web_vm1", "web_vm2"]
        let backends = Dictionary(uniqueKeysWithValues: inService.map {
            ($0, BackendStatus(name: $0, address: "127.0.0.1:1", state: .active, healthy: true, inFlight: 3))
        })
        func buckets(_ sum: Double) -> LatencyBuckets { LatencyBuckets(boundsSeconds: [1], counts: [0], count: 0, sumSeconds: sum) }
        var measured = SignalState(window: 10)
        var histogram = LoadWindow(seconds: 10)
        var gauge = SignalState(window: 10)
        var noHistogram = LoadWindow(seconds: 10)
        var last: (values: [ScalingMetric: Double], cpuCounted: Int?) = ([:], nil)
        for tick in 0...4 {
            let t = Double(tick)
            // 2 s of request time a second over two instances: 1 each; the gauge says 3 each.
            histogram.add(time: t, requestsTotal: tick, latency: buckets(2 * t))
            noHistogram.add(time: t, requestsTotal: tick)
            // web_vm3 came into service at the second tick: warming up, no CPU value yet.
            let serving = tick == 0 ? inService : inService + ["web_vm3"]
            let times = Dictionary(uniqueKeysWithValues: serving.map { ($0, Self.cpu(t * 0.5)) })
            last = measured.update(
                now: t, inService: serving, backends: backends, window: histogram, cpu: (times, t), query: nil, configuration: configuration)
            if tick < 2 {
                // The window spans less than 2 s: no value yet (the gauge, which would have one,
                // is not a stand-in where there is a histogram).
                #expect(last.values[.inflight] == nil, "tick \(tick)")
            }
            let fromGauge = gauge.update(now: t, inService: inService, backends: backends, window: noHistogram, cpu: nil, query: nil, configuration: configuration)
            #expect(fromGauge.values[.inflight] == 3, "tick \(tick)")  // 6 in flight over 2 instances
        }
        // (8 s − 0 s) of request time over 4 s, over the three in service.
        #expect(last.values[.inflight] == 2.0 / 3)
        #expect(last.values[.cpu] == 50)
        #expect(last.cpuCounted == 2)
    }

    static func planner(_ metrics: [MetricTarget]) -> ScalingPlanner {
        var configuration = ScalingPlanner.Configuration()
        configuration.metrics = metrics
        var rules = ScalingRules()
        rules.minimum = 1
        rules.maximum = 10
        rules.maxStepUp = 10
        return ScalingPlanner(policy: .threshold(up: 20, down: 5), rules: rules, configuration: configuration)
    }

    static func observe(at now: Double, instances: Int = 2, requests: Double? = 20, signals: [ScalingMetric: Double]) -> ScalingPlanner.Observation {
        ScalingPlanner.Observation(
            now: now, date: Date(timeIntervalSince1970: 1_800_000_000 + now),
            instances: (1...instances).map { ScalingPlannerTests.instance($0) }, window: requests.map { .init(requests: $0) }, signals: signals)
    }

    @Test func cpuScalesOutWhileRequestsAreUnderTheirTargetAndTheEventSaysSo() {
        var planner = Self.planner([MetricTarget(.requests, target: 20), MetricTarget(.cpu, target: 60)])
        // 10 req/VM (under 20) but 90 % CPU: ceil(2 × 90 / 60) = 3.
        let plan = planner.plan(Self.observe(at: 100, requests: 20, signals: [.cpu: 90]))
        #expect(plan.decision?.action == .scaleUp(1))
        #expect(plan.decision?.trigger == MetricCombiner.Reading(metric: .cpu, target: 60, value: 90))
        #expect(plan.decision?.reason.hasPrefix("scale up: cpu 90 % CPU > target 60") == true, "\(plan.decision?.reason ?? "")")
        #expect(plan.sample.cpuPercent == 90)
        #expect(plan.sample.value(of: .requests) == 10)
    }

    /// The chart shows what was measured; the decision weighs in the instance that gave no value.
    @Test func anInstanceWithoutACPUValueIsWeighedInTheDecisionNotTheSample() {
        var planner = Self.planner([MetricTarget(.cpu, target: 60)])
        // Three in service, two measured at 80 %: (80 + 80 + 0) / 3 = 53 < 60: no scale-out.
        var observation = Self.observe(at: 100, instances: 3, signals: [.cpu: 80])
        observation.cpuCounted = 2
        let plan = planner.plan(observation)
        #expect(plan.decision?.action == ScalingDecider.Action.none)
        #expect(plan.decision?.reason.contains("cpu 60 % CPU within 10% of target 60") == true, "\(plan.decision?.reason ?? "")")
        #expect(plan.sample.cpuPercent == 80)
        // All three measured: ceil(3 × 80 / 60) = 4.
        observation.cpuCounted = nil
        #expect(planner.plan(observation).decision?.action == .scaleUp(1))
    }

    @Test func aMissingSampleHoldsAndAScaleInNeedsEveryMetric() {
        // CPU unread: the low request count must not scale in on its own.
        var planner = Self.planner([MetricTarget(.requests, target: 20), MetricTarget(.cpu, target: 60)])
        let held = planner.plan(Self.observe(at: 100, instances: 4, requests: 8, signals: [:]))
        #expect(held.decision?.action == ScalingDecider.Action.none)
        #expect(held.decision?.reason.contains("no sample of cpu") == true, "\(held.decision?.reason ?? "")")
        // Both low: in; the metric asking for most decides (requests 2/VM → 1; cpu 40 % → 3).
        let both = planner.plan(Self.observe(at: 101, instances: 4, requests: 8, signals: [.cpu: 40]))
        #expect(both.decision?.action == .scaleDown(1))
        #expect(both.decision?.trigger?.metric == .cpu)
    }

    @Test func latencyOnlyScalesOut() {
        var planner = Self.planner([MetricTarget(.latency, target: 200)])
        let slow = planner.plan(Self.observe(at: 100, signals: [.latency: 450]))
        #expect(slow.decision?.action == .scaleUp(1))
        #expect(slow.decision?.trigger == MetricCombiner.Reading(metric: .latency, target: 200, value: 450))
        let fast = planner.plan(Self.observe(at: 200, instances: 5, requests: 0, signals: [.latency: 0]))
        #expect(fast.decision?.action == ScalingDecider.Action.none)
        // No latency histogram at all (a data plane that does not measure it): no sample, hold.
        let none = planner.plan(Self.observe(at: 300, instances: 5, requests: 0, signals: [:]))
        #expect(none.decision?.reason.contains("no sample of latency") == true, "\(none.decision?.reason ?? "")")
    }

    @Test func prometheusScalesFromZeroAndPerInstance() {
        var planner = Self.planner([MetricTarget(.prometheus, target: 100)])
        planner.decider.rules.minimum = 0
        let empty = ScalingPlanner.Observation(now: 10, date: Date(), instances: [], window: .init(requests: 0), signals: [.prometheus: 30])
        #expect(planner.plan(empty).decision?.action == .scaleUp(1))
        // 2 instances, a total of 500 → 250 per instance → ceil(500 / 100) = 5.
        let plan = planner.plan(Self.observe(at: 100, signals: [.prometheus: 250]))
        #expect(plan.decision?.action == .scaleUp(3))
        #expect(plan.sample.prometheusValue == 250)
    }

    // MARK: PromQL answers

    static func answer(_ json: String) -> Data { Data(json.utf8) }

    @Test func aPromQLAnswerGivesOneNumberOrSaysWhyNot() throws {
        let one = #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.1,"42.5"]}]}}"#
        #expect(try PrometheusQuery.value(of: Self.answer(one)) == 42.5)
        let scalar = #"{"status":"success","data":{"resultType":"scalar","result":[1700000000.1,"7"]}}"#
        #expect(try PrometheusQuery.value(of: Self.answer(scalar)) == 7)
        let cases: [(String, String)] = [
            (#"{"status":"success","data":{"resultType":"vector","result":[]}}"#, "gives no series"),
            (
                #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"backend":"a"},"value":[1,"1"]},{"metric":{"backend":"b"},"value":[1,"2"]}]}}"#,
                #"gives 2 series, not one ({backend="a"} {backend="b"}): aggregate it"#
            ),
            (
                // Four series: the first three are named, an ellipsis says there are more.
                #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"i":"1"},"value":[1,"1"]},{"metric":{"i":"2"},"value":[1,"1"]},{"metric":{"i":"3"},"value":[1,"1"]},{"metric":{"i":"4"},"value":[1,"1"]}]}}"#,
                #"gives 4 series, not one ({i="1"} {i="2"} {i="3"} …): aggregate it"#
            ),
            (#"{"status":"error","errorType":"bad_data","error":"parse error at char 4"}"#, "refused the query (400): parse error at char 4"),
            (#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#, "gives a matrix, not one number"),
            (#"{"status":"success","data":{"resultType":"scalar","result":[1,"NaN"]}}"#, "gives NaN, not a finite number"),
            ("<html>", "not its API's JSON"),
        ]
        for (json, message) in cases {
            let status: UInt = json.contains(#""status":"error""#) ? 400 : 200
            let error = #expect(throws: MetricQueryError.self) { try PrometheusQuery.value(of: Self.answer(json), status: status) }
            #expect(error?.message.contains(message) == true, "\(error?.message ?? "no error")")
        }
        #expect(throws: MetricQueryError.self) { try PrometheusQuery(url: "ftp://x", query: "up") }
        #expect(throws: MetricQueryError.self) { try PrometheusQuery(url: "http://127.0.0.1:9090", query: "  ") }
    }
}
