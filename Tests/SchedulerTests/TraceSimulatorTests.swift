import AutoscalerAPI
import Scheduler
import Testing

/// The trace replay through the live planner, on a simulated clock.
@Suite("trace simulator")
struct TraceSimulatorTests {
    /// 40 s quiet (10 req/s: demand 1), 120 s busy (60 req/s: demand 6), 280 s quiet again.
    static let step = Trace(points: [.init(seconds: 0, rate: 10), .init(seconds: 40, rate: 60), .init(seconds: 160, rate: 10), .init(seconds: 300, rate: 10)])

    /// Capacity 10 req/s an instance; the threshold rule set to it: above 8 req/s an instance
    /// (80 per 10 s window) add one, below 3 (30) remove one.
    static func simulate(startup: Double = 30, _ configure: (inout TraceSimulator.Configuration) -> Void = { _ in }) -> (TraceSimulator.Result, [TraceSimulator.Row]) {
        var configuration = TraceSimulator.Configuration()
        configuration.capacity = 10
        configuration.policy = .threshold(up: 80, down: 30)
        configuration.startup = startup
        configure(&configuration)
        var rows: [TraceSimulator.Row] = []
        let result = TraceSimulator(configuration: configuration).run(Self.step) { rows.append($0) }
        return (result, rows)
    }

    /// In the replay's model CPU is the rate per instance over the capacity, so `--metric cpu
    /// --target 80` must decide exactly as target tracking on 80 % of an instance's requests per
    /// window, through the metric combiner rather than the policy; and it must differ from the
    /// threshold rule's run (the metric is not ignored).
    @Test func cpuInTheModelDecidesAsTargetTrackingOnRequests() throws {
        let (policy, policyRows) = Self.simulate { $0.policy = .target(value: 80, tolerance: 0.1) }
        let (cpu, cpuRows) = Self.simulate { $0.metrics = [MetricTarget(.cpu, target: 80)] }
        let (rule, _) = Self.simulate()
        #expect(cpuRows == policyRows)
        #expect(cpu.instanceSeconds == policy.instanceSeconds && cpu.actions == policy.actions)
        #expect(cpu.policy == "cpu 80")
        #expect(cpu.instanceSeconds != rule.instanceSeconds)
        #expect(!TraceSimulator.supports(.latency) && !TraceSimulator.supports(.prometheus) && TraceSimulator.supports(.cpu))
    }

    @Test func aStepIsFollowedUpAfterTheStartupAndDownAfterIt() throws {
        let (result, rows) = Self.simulate()
        #expect(rows.count == 440 && result.seconds == 440)  // the last row's step (140 s) after it
        #expect(rows[0].inService == 2 && rows[0].demand == 1 && rows[50].demand == 6)
        // The load step is seen within the window, the first new instance serves 30 s after its
        // decision, and no second scale-up starts while one is pending.
        let firstUp = try #require(rows.firstIndex { $0.pending > 0 })
        #expect((41...45).contains(firstUp), "first launch at \(firstUp) s")
        #expect(rows[firstUp + 29].inService == 2 && rows[firstUp + 30].inService == 3)
        #expect(rows.allSatisfy { $0.pending <= 1 })
        let peak = rows.map(\.inService).max() ?? 0
        #expect(peak >= 5 && peak <= 8, "peak \(peak)")
        #expect(rows.last!.inService < peak, "scaled in after the step")
        #expect(rows.last!.inService >= 2, "never below the minimum")
        #expect(result.actions >= 4)
        #expect(result.underProvisionedSeconds > 30)
        #expect(result.metrics.tauU > 5 && result.metrics.tauO > 5)
    }

    @Test func aFasterStartupMeansLessUnderProvisioning() {
        let (slow, _) = Self.simulate(startup: 30)
        let (fast, _) = Self.simulate(startup: 2)
        #expect(fast.underProvisionedSeconds < slow.underProvisionedSeconds)
        #expect(fast.metrics.thetaU < slow.metrics.thetaU)
    }

    @Test func costIsInstancesTimesSeconds() {
        // Never scales: two instances for the whole trace.
        let (result, _) = Self.simulate { $0.policy = .threshold(up: 1e9, down: 0) }
        #expect(result.actions == 0)
        #expect(result.instanceSeconds == 2 * 440)
    }

    @Test func theSameTraceGivesTheSameResult() {
        #expect(Self.simulate().0 == Self.simulate().0)
    }
}

/// The predictive policy, replayed.
@Suite("predictive policy")
struct PredictivePolicyTests {
    /// A ramp from 10 to 150 req/s over 5 minutes, a plateau, and back down.
    static let ramp = Trace(points: (0...60).map { minute -> TracePoint in
        let rate = minute < 5 ? 10.0 : (minute < 10 ? 10 + Double(minute - 5) * 28 : (minute < 40 ? 150 : 10))
        return TracePoint(seconds: Double(minute * 60), rate: rate)
    })

    static func simulate(_ policy: ScalingPolicy, trace: Trace = ramp) -> (TraceSimulator.Result, [TraceSimulator.Row]) {
        var configuration = TraceSimulator.Configuration()
        configuration.capacity = 10
        configuration.policy = policy
        configuration.rules.maximum = 25
        configuration.startup = 30
        var rows: [TraceSimulator.Row] = []
        let result = TraceSimulator(configuration: configuration).run(trace) { rows.append($0) }
        return (result, rows)
    }

    @Test func itScalesOutAheadOfARampAndNoLessIsThere() {
        let (reactive, reactiveRows) = Self.simulate(.threshold(up: 100, down: 25))
        let (predictive, rows) = Self.simulate(.predictive(up: 100, down: 25))
        // It launches before the rule does, and is never short where the rule was not. (With one
        // launch at a time, 30 s each, a steep ramp outruns both: the gain is bounded by that.)
        let firstLaunch = { (rows: [TraceSimulator.Row]) in rows.firstIndex { $0.pending > 0 } ?? .max }
        #expect(firstLaunch(rows) < firstLaunch(reactiveRows), "predictive \(firstLaunch(rows)) s, reactive \(firstLaunch(reactiveRows)) s")
        #expect(predictive.underProvisionedSeconds <= reactive.underProvisionedSeconds)
        #expect(predictive.metrics.thetaU <= reactive.metrics.thetaU)
        // It never scales in on a forecast: after the drop, instances go one by one as the rule says.
        #expect(rows.last!.inService < rows.map(\.inService).max()!)
    }

    @Test func aDecisionAtTimeTUsesNothingAfterT() {
        // Cut in the middle of the ramp (7 min) and continued differently (a drop to nothing):
        // the first 7 minutes replay exactly as with the whole trace.
        let cut = Trace(points: Self.ramp.points.filter { $0.seconds < 420 } + [TracePoint(seconds: 420, rate: 0), TracePoint(seconds: 3600, rate: 0)])
        let (_, whole) = Self.simulate(.predictive(up: 100, down: 25))
        let (_, part) = Self.simulate(.predictive(up: 100, down: 25), trace: cut)
        #expect(Array(part.prefix(420)) == Array(whole.prefix(420)))
        #expect(part[480] != whole[480], "the continuations differ, so must what follows")
    }

    @Test func aSurgeIsSeenTheTickAfterItArrives() {
        // Nothing, then 1,000 req/s at 10 s: the balancer's counter at 10 s holds none of it.
        let surge = Trace(points: [TracePoint(seconds: 0, rate: 0), TracePoint(seconds: 10, rate: 1000), TracePoint(seconds: 60, rate: 1000)])
        let (_, rows) = Self.simulate(.threshold(up: 100, down: 25), trace: surge)
        #expect(rows[10].pending == 0 && rows[11].pending == 1)
    }

    @Test func aTraceStartingLaterIsReplayedFromItsFirstRow() {
        let late = Trace(points: [TracePoint(seconds: 3600, rate: 10), TracePoint(seconds: 3660, rate: 10)])
        let (result, rows) = Self.simulate(.threshold(up: 100, down: 25), trace: late)
        #expect(result.seconds == 120 && rows.first?.seconds == 3600)
    }

    @Test func theForecastFollowsATrend() {
        var undamped = RateForecaster(damping: 1)
        for t in 0..<60 { undamped.observe(Double(t) * 2, at: Double(t)) }  // +2 req/s every second
        let ahead = undamped.forecast(ahead: 30) ?? 0
        #expect(abs(ahead - (118 + 60)) < 10, "forecast \(ahead)")
        #expect(RateForecaster().forecast(ahead: 10) == nil)
    }

    @Test func aDampedTrendCountsLessTheFurtherAhead() {
        var damped = RateForecaster(damping: 0.97)
        for t in 0..<60 { damped.observe(Double(t) * 2, at: Double(t)) }
        // 0.97 + 0.97² + … + 0.97³⁰ = 19.4 seconds' worth of the trend, not 30.
        let ahead = damped.forecast(ahead: 30) ?? 0
        #expect(abs(ahead - (118 + 2 * 19.4)) < 8, "forecast \(ahead)")
        // However far ahead, at most φ / (1 − φ) = 32.3 seconds' worth.
        let far = damped.forecast(ahead: 100_000) ?? 0
        #expect(far < 118 + 2 * 32.4 + 8 && far > ahead, "forecast \(far)")
    }
}
