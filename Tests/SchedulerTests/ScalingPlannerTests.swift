import Foundation
import InstanceProviders
import Scheduler
import Testing

/// The whole tick's decision-making as a pure function: repairs, back-off, manual scaling and the
/// policy, with the clock in the observation. No servers, no sleeping.
@Suite("scaling planner")
struct ScalingPlannerTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func planner() -> ScalingPlanner {
        var configuration = ScalingPlanner.Configuration()
        configuration.replaceUnhealthyAfter = .seconds(30)
        configuration.startupTimeout = .seconds(120)
        return ScalingPlanner(policy: .threshold(up: 20, down: 5), rules: ScalingRules(), configuration: configuration)
    }

    static func instance(
        _ number: Int, _ health: InstanceStatus.Health = .inService, origin: InstanceOrigin = .created, createdAt: Date = start
    ) -> InstanceStatus {
        InstanceStatus(
            name: "web_vm\(number)", endpoint: "127.0.0.1:\(18080 + number)", state: health == .stopped ? .stopped : .running,
            health: health, origin: origin, createdAt: createdAt, requestsTotal: 0, inFlight: 0)
    }

    /// Two found instances in service, plus `extra`.
    static func observe(
        at now: Double, _ extra: [InstanceStatus] = [], requests: Double? = 20, busy: Bool = false, lastAction: Double? = nil,
        manual: Int? = nil, retryAt: Double = 0, removing: Set<String> = []
    ) -> ScalingPlanner.Observation {
        ScalingPlanner.Observation(
            now: now, date: start.addingTimeInterval(now), instances: [instance(1, origin: .found), instance(2, origin: .found)] + extra,
            removing: removing, window: requests.map { .init(requests: $0) }, busy: busy, lastAction: lastAction, manualTarget: manual,
            retryAt: retryAt, lastDesired: 2)
    }

    // MARK: Repairs

    @Test func aStoppedCreatedInstanceIsReplacedAndAFoundOneIsNot() {
        var planner = Self.planner()
        let plan = planner.plan(Self.observe(at: 100, [Self.instance(3, .stopped)]))
        #expect(plan.work == .replace(name: "web_vm3", reason: "web_vm3 is stopped"))
        // The repair holds the policy back: no second action on the same group.
        #expect(plan.decision?.action == ScalingDecider.Action.none)
        var other = Self.planner()
        #expect(other.plan(Self.observe(at: 100, [Self.instance(3, .stopped, origin: .found)])).work == nil)
    }

    @Test func anUnhealthyInstanceIsReplacedAfterItFailedFor30Seconds() {
        var planner = Self.planner()
        let sick = [Self.instance(3, .unhealthy)]
        #expect(planner.plan(Self.observe(at: 10, sick)).work == nil)
        #expect(planner.plan(Self.observe(at: 39.9, sick)).work == nil)
        #expect(planner.plan(Self.observe(at: 40, sick)).work == .replace(name: "web_vm3", reason: "web_vm3 failed its health checks for 30 s"))
    }

    @Test func recoveringStartsTheCountAgain() {
        var planner = Self.planner()
        _ = planner.plan(Self.observe(at: 10, [Self.instance(3, .unhealthy)]))
        _ = planner.plan(Self.observe(at: 25, [Self.instance(3, .inService)]))
        #expect(planner.plan(Self.observe(at: 41, [Self.instance(3, .unhealthy)])).work == nil)
        #expect(planner.plan(Self.observe(at: 71, [Self.instance(3, .unhealthy)])).work != nil)
    }

    @Test func anInstanceThatNeverServedIsRemovedAfterTheStartupTimeout() {
        var planner = Self.planner()
        let young = Self.instance(3, .pending, createdAt: Self.start.addingTimeInterval(10))
        #expect(planner.plan(Self.observe(at: 130, [young])).work == nil)  // 120 s old
        #expect(
            planner.plan(Self.observe(at: 136, [young])).work
                == .removeStuck(name: "web_vm3", reason: "web_vm3 is not in service 126 s after its creation (startup timeout 120 s)"))
    }

    @Test func noRepairWhileBusyBackingOffOrRemovingIt() {
        let stopped = [Self.instance(3, .stopped)]
        var planner = Self.planner()
        #expect(planner.plan(Self.observe(at: 100, stopped, busy: true)).work == nil)
        #expect(planner.plan(Self.observe(at: 100, stopped, retryAt: 101)).work == nil)
        #expect(planner.plan(Self.observe(at: 100, stopped, removing: ["web_vm3"])).work == nil)
        #expect(planner.plan(Self.observe(at: 101, stopped, retryAt: 101)).work != nil)
    }

    // MARK: Back-off

    @Test func backingOffHoldsTheActionAndSaysWhy() {
        var planner = Self.planner()
        let plan = planner.plan(Self.observe(at: 100, requests: 100, retryAt: 104))
        #expect(plan.work == nil)
        #expect(plan.decision?.reason.hasSuffix("(backing off 4 s after a failed action)") == true, "\(plan.decision?.reason ?? "")")
        let after = planner.plan(Self.observe(at: 104, requests: 100, retryAt: 104))
        #expect(after.work == .scaleUp(count: 1, reason: "scale up: 50 req/VM/10s > 20 → 2 → 3", startsCooldown: true))
    }

    // MARK: Manual scaling

    @Test func manualScalingLaunchesInParallelIgnoringTheCooldownUntilReached() {
        var planner = Self.planner()
        // Quiet load and a fresh cooldown would hold the policy; the manual target does not wait.
        let up = planner.plan(Self.observe(at: 100, requests: 0, lastAction: 99, manual: 4))
        // Both missing instances at once. It does start a cooldown, so that the policy does not
        // undo it at once.
        #expect(up.work == .scaleUp(count: 2, reason: "manual scale up: asked for 4 → 2 → 4", startsCooldown: true))
        #expect(!up.manualTargetReached)
        // While the new ones are pending, no second step.
        let waiting = planner.plan(Self.observe(at: 101, [Self.instance(3, .pending)], requests: 0, manual: 4))
        #expect(waiting.work == nil && waiting.decision?.desired == 4)
        let busy = planner.plan(Self.observe(at: 102, [Self.instance(3)], requests: 0, busy: true, manual: 4))
        #expect(busy.work == nil && busy.decision?.reason == "manual: waiting for the running action")
        let reached = planner.plan(Self.observe(at: 103, [Self.instance(3), Self.instance(4)], requests: 0, manual: 4))
        #expect(reached.work == nil && reached.manualTargetReached)
    }

    @Test func aLargeStepLaunchesAtMostTheParallelLimitAtOnce() {
        var rules = ScalingRules()
        rules.maximum = 20
        rules.maxParallelLaunches = 3
        var manual = ScalingPlanner(policy: .threshold(up: 20, down: 5), rules: rules)
        let plan = manual.plan(Self.observe(at: 100, requests: 0, manual: 9))
        #expect(plan.work == .scaleUp(count: 3, reason: "manual scale up: asked for 9 → 2 → 5", startsCooldown: true))
        // A policy's step (target tracking, up to 5 at a time) is cut to the same limit.
        rules.maxStepUp = 5
        var tracking = ScalingPlanner(policy: .target(value: 10, tolerance: 0.1), rules: rules)
        let busy = tracking.plan(Self.observe(at: 100, requests: 100))  // 50 per instance: 10 wanted
        #expect(busy.decision?.action == .scaleUp(5))
        if case .scaleUp(let count, _, _, _) = busy.work { #expect(count == 3) } else { Issue.record("no scale-up: \(String(describing: busy.work))") }
    }

    @Test func aManualTargetIsClampedToTheBounds() {
        var planner = Self.planner()
        let plan = planner.plan(Self.observe(at: 100, requests: 0, manual: 50))
        #expect(plan.decision?.desired == 8)
        let down = planner.plan(Self.observe(at: 100, [Self.instance(3)], requests: 0, manual: 0))
        #expect(down.decision?.desired == 2)
        #expect(down.work == .scaleDown(reason: "manual scale down: asked for 2 → 3 → 2", statuses: Self.observe(at: 100, [Self.instance(3)]).instances, startsCooldown: true))
    }

    // MARK: Policy and sample

    @Test func withoutAMeasurementNothingIsDecidedAndTheSampleKeepsTheLastCount() {
        var planner = Self.planner()
        let plan = planner.plan(Self.observe(at: 100, requests: nil))
        #expect(plan.decision == nil && plan.work == nil)
        #expect(plan.sample.desired == 2 && plan.sample.inService == 2 && plan.sample.loadPerInstance == 0)
    }

    @Test func instancesBeingRemovedAreNotCountedNorOfferedForScaleIn() {
        var planner = Self.planner()
        let leaving = Self.instance(3)
        let plan = planner.plan(Self.observe(at: 100, [leaving], requests: 60, removing: ["web_vm3"]))
        #expect(plan.sample.inService == 2)
        #expect(plan.sample.loadPerInstance == 30)
        #expect(plan.work == .scaleUp(count: 1, reason: "scale up: 30 req/VM/10s > 20 → 2 → 3", startsCooldown: true))
    }
}

/// The predictive branch of the planner, tick by tick.
@Suite("scaling planner, predictive")
struct PredictivePlannerTests {
    static func planner() -> ScalingPlanner {
        var configuration = ScalingPlanner.Configuration()
        configuration.leadTime = .seconds(31)
        configuration.window = .seconds(10)
        var rules = ScalingRules()
        rules.maximum = 20
        return ScalingPlanner(policy: .predictive(up: 100, down: 25), rules: rules, configuration: configuration)
    }

    /// Two instances in service (plus `extra`), the window's rate as given.
    static func observe(at now: Double, rate: Double, _ extra: [InstanceStatus] = [], busy: Bool = false, lastAction: Double? = nil)
        -> ScalingPlanner.Observation
    {
        ScalingPlanner.Observation(
            now: now, date: ScalingPlannerTests.start.addingTimeInterval(now),
            instances: [ScalingPlannerTests.instance(1), ScalingPlannerTests.instance(2)] + extra,
            window: .init(requests: rate * 10, rate: rate), busy: busy, lastAction: lastAction, lastDesired: 2)
    }

    /// Feeds a ramp of +1 req/s every second from 10 to `until` s; returns the last plan.
    static func ramp(_ planner: inout ScalingPlanner, until end: Int, busy: Bool = false, extra: [InstanceStatus] = []) -> ScalingPlanner.Plan {
        var plan: ScalingPlanner.Plan?
        for t in 0...end { plan = planner.plan(observe(at: Double(t), rate: 10 + Double(t), extra, busy: busy && t == end)) }
        return plan!
    }

    @Test func aRisingForecastAddsOneAheadOfTheRuleWithoutStartingACooldown() throws {
        var planner = Self.planner()
        // At 5 s, 17.5 req/s is 87.5 per instance per window: the rule holds; rising 1.5 req/s
        // each second, the forecast for when a new instance would serve (24 req/s, damped) needs
        // a third.
        var plan: ScalingPlanner.Plan?
        for t in 0...5 { plan = planner.plan(Self.observe(at: Double(t), rate: 10 + 1.5 * Double(t))) }
        let decision = try #require(plan?.decision)
        #expect(decision.reason.hasPrefix("predictive: "), "\(decision.reason)")
        #expect(plan?.work == .scaleUp(count: 1, reason: decision.reason, startsCooldown: false))
    }

    @Test func itWaitsWhileAnActionRunsOrAnInstanceIsPending() {
        var busy = Self.planner()
        #expect(Self.ramp(&busy, until: 5, busy: true).work == nil)
        // A slow ramp the rule holds (19.4 req/s at 24 s: 97 per instance) whose forecast needs
        // a fourth instance while a third is still starting: no second launch.
        var pending = Self.planner()
        var plan: ScalingPlanner.Plan?
        for t in 0...24 {
            plan = pending.plan(Self.observe(at: Double(t), rate: 5 + 0.6 * Double(t), [ScalingPlannerTests.instance(3, .pending)]))
        }
        #expect(plan?.decision?.reason.contains("needs 4") == true, "\(plan?.decision?.reason ?? "")")
        #expect(plan?.work == nil)
    }

    @Test func aFallingRateNeverScalesOutAndTheRuleStillScalesIn() {
        var planner = Self.planner()
        var plan: ScalingPlanner.Plan?
        // 3 instances at a falling 5 req/s: 17 per instance per window, under the rule's 25.
        for t in 0...5 { plan = planner.plan(Self.observe(at: Double(t), rate: 5 - Double(t) * 0.1, [ScalingPlannerTests.instance(3)])) }
        #expect(plan?.decision?.reason.hasPrefix("scale down") == true, "\(plan?.decision?.reason ?? "")")
    }
}
