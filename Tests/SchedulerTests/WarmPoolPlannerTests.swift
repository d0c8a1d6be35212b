import Foundation
import InstanceProviders
import Scheduler
import Testing

/// The warm pool's part of the planner: what to prepare, what a scale-up takes, where a scale-in
/// goes, which members are broken. Pure: instances and clocks in, plan out.
@Suite("scaling planner, warm pool")
struct WarmPoolPlannerTests {
    static let start = ScalingPlannerTests.start

    static func planner(pool: Int = 2, reuse: Bool = false, maxPrepared: Int? = nil) -> ScalingPlanner {
        var configuration = ScalingPlanner.Configuration()
        configuration.warmPool = pool
        configuration.reuseOnScaleIn = reuse
        configuration.maxPrepared = maxPrepared
        return ScalingPlanner(policy: .threshold(up: 20, down: 5), rules: ScalingRules(), configuration: configuration)
    }

    static func member(
        _ number: Int, _ state: InstanceState = .paused, warm: WarmState = .paused, held: Bool = true, createdAt: Date = start
    ) -> InstanceStatus {
        InstanceStatus(
            name: "web_vm\(number)", endpoint: "127.0.0.1:\(18080 + number)", state: state, health: .warm, origin: .created,
            createdAt: createdAt, requestsTotal: 0, inFlight: 0, warm: warm, held: held)
    }

    static func observe(
        at now: Double = 100, _ extra: [InstanceStatus] = [], requests: Double = 100, preparing: Int = 0, inFlight: Set<String> = [],
        poolRetryAt: Double = 0, busy: Bool = false
    ) -> ScalingPlanner.Observation {
        var observation = ScalingPlannerTests.observe(at: now, extra, requests: requests, busy: busy)
        observation.preparing = preparing
        observation.inFlight = inFlight
        observation.poolRetryAt = poolRetryAt
        return observation
    }

    @Test func anEmptyPoolIsFilledAndPreparationsInFlightCount() {
        var planner = Self.planner()
        #expect(planner.plan(Self.observe()).prepare == 2)
        #expect(planner.plan(Self.observe([Self.member(3)], requests: 40, preparing: 1)).prepare == 0)
        // A failed preparation holds the next one back until the retry time.
        #expect(planner.plan(Self.observe(at: 100, poolRetryAt: 104)).prepare == 0)
        var none = Self.planner(pool: 0)
        #expect(none.plan(Self.observe()).prepare == 0)
    }

    @Test func membersAreNeitherCountedNorScaledIn() {
        var planner = Self.planner()
        // 40 requests over two in-service instances: 20 each, within the rule. Two members do not
        // dilute it, and are not what a scale-in removes.
        let plan = planner.plan(Self.observe([Self.member(3), Self.member(4)], requests: 40))
        #expect(plan.sample.inService == 2 && plan.sample.pending == 0 && plan.warm == 2)
        var quiet = Self.planner()
        let down = quiet.plan(Self.observe([ScalingPlannerTests.instance(5), Self.member(6)], requests: 0))
        if case .scaleDown(_, let statuses, let toPool, _) = down.work {
            #expect(InstanceStatus.scaleInTarget(statuses)?.name == "web_vm5" && toPool == nil)
        } else {
            Issue.record("no scale-down: \(String(describing: down.work))")
        }
    }

    @Test func aScaleUpTakesMembersFirstAndThePoolRefills() {
        var planner = Self.planner()
        // 100 requests over two: 50 each, above 20: one more, taken from the pool.
        let plan = planner.plan(Self.observe([Self.member(4), Self.member(3)]))
        #expect(plan.work == .scaleUp(count: 1, fromPool: ["web_vm3"], reason: "scale up: 50 req/VM/10s > 20 → 2 → 3", startsCooldown: true))
        #expect(plan.warm == 1 && plan.prepare == 1)
        // A member being taken (in flight) is not offered twice.
        var again = Self.planner()
        let next = again.plan(Self.observe([Self.member(3)], inFlight: ["web_vm3"]))
        #expect(next.work == .scaleUp(count: 1, fromPool: [], reason: "scale up: 50 req/VM/10s > 20 → 2 → 3", startsCooldown: true))
    }

    @Test func maxPreparedCapsGroupAndPoolTogether() {
        // Two in service, one launching cold (no members): a cap of 4 leaves room for one.
        var planner = Self.planner(pool: 3, maxPrepared: 4)
        let plan = planner.plan(Self.observe())
        if case .scaleUp(let count, let fromPool, _, _) = plan.work { #expect(count == 1 && fromPool.isEmpty) }
        #expect(plan.prepare == 1)
        var full = Self.planner(pool: 3, maxPrepared: 3)
        #expect(full.plan(Self.observe(requests: 40)).prepare == 1)
        #expect(full.plan(Self.observe([Self.member(3)], requests: 40)).prepare == 0)
    }

    @Test func reuseOnScaleInReturnsToAShortPoolOnly() {
        var short = Self.planner(pool: 2, reuse: true)
        let plan = short.plan(Self.observe([ScalingPlannerTests.instance(5), Self.member(6)], requests: 0))
        if case .scaleDown(_, _, let toPool, _) = plan.work { #expect(toPool == .paused) } else { Issue.record("no scale-down") }
        var full = Self.planner(pool: 1, reuse: true)
        let deleting = full.plan(Self.observe([ScalingPlannerTests.instance(5), Self.member(6)], requests: 0))
        if case .scaleDown(_, _, let toPool, _) = deleting.work { #expect(toPool == nil) } else { Issue.record("no scale-down") }
    }

    @Test func anInstanceDrainingIntoThePoolCountsAsAMember() {
        // web_vm5 is being returned: the pool of one is full, nothing to prepare, and a second
        // scale-in would delete rather than return.
        var planner = Self.planner(pool: 1, reuse: true)
        var observation = Self.observe([ScalingPlannerTests.instance(5), ScalingPlannerTests.instance(6)], requests: 0)
        observation.removing = ["web_vm5"]
        observation.returning = ["web_vm5"]
        let plan = planner.plan(observation)
        #expect(plan.prepare == 0)
        if case .scaleDown(_, _, let toPool, _) = plan.work { #expect(toPool == nil) } else { Issue.record("no scale-down") }
        // One being deleted still counts against the cap until it is gone.
        var capped = Self.planner(pool: 1, maxPrepared: 3)
        var deleting = Self.observe([ScalingPlannerTests.instance(5)], requests: 40)
        deleting.removing = ["web_vm5"]
        #expect(capped.plan(deleting).prepare == 0)
    }

    @Test func onlyCompletedHoldsAreTaken() {
        // web_vm3 is being saved (shut off, marked, not held yet): neither taken nor counted.
        var planner = Self.planner(pool: 1)
        let plan = planner.plan(Self.observe([Self.member(3, .stopped, warm: .saved, held: false)], preparing: 1, inFlight: ["web_vm3"]))
        if case .scaleUp(_, let fromPool, _, _) = plan.work { #expect(fromPool.isEmpty) } else { Issue.record("no scale-up") }
        #expect(plan.warm == 0 && plan.prepare == 0 && plan.discard.isEmpty)
    }

    @Test func theCapCountsEverythingThatExists() {
        // Three in service and one failing its checks: a cap of 4 leaves no room.
        var planner = Self.planner(pool: 1, maxPrepared: 4)
        let plan = planner.plan(Self.observe([ScalingPlannerTests.instance(3), ScalingPlannerTests.instance(4, .unhealthy)], requests: 40))
        #expect(plan.prepare == 0)
    }

    @Test func aScaleInIntoThePoolIsNotAlsoPreparedFor() {
        var planner = Self.planner(pool: 1, reuse: true)
        let plan = planner.plan(Self.observe([ScalingPlannerTests.instance(5)], requests: 0))
        if case .scaleDown(_, _, let toPool, _) = plan.work { #expect(toPool == .paused) } else { Issue.record("no scale-down") }
        #expect(plan.prepare == 0)
    }

    @Test func aPoolAboveItsSizeIsTrimmed() {
        var planner = Self.planner(pool: 1)
        let plan = planner.plan(Self.observe([Self.member(3), Self.member(4)], requests: 40))
        #expect(plan.discard.map(\.name) == ["web_vm4"] && plan.warm == 1 && plan.prepare == 0)
    }

    @Test func brokenMembersAreDiscardedAndBusyOnesLeftAlone() {
        var planner = Self.planner(pool: 1)
        let old = Self.start.addingTimeInterval(-600)
        let plan = planner.plan(
            Self.observe(
                at: 100,
                [
                    Self.member(3, .crashed), Self.member(4, .stopped, warm: .paused),  // dead
                    Self.member(5, .stopped, warm: .saved),  // a saved member: fine
                    Self.member(6, .running, held: false, createdAt: old),  // marked, never held, nobody's: an orphan
                    Self.member(7, .running, held: false),  // being prepared (fresh)
                    Self.member(8, .running, createdAt: old),  // being taken (in flight)
                    Self.member(9, .stopped, warm: .saved, held: false),  // being saved (fresh): not yet held
                ], requests: 40, inFlight: ["web_vm8"]))
        #expect(plan.discard.map(\.name) == ["web_vm3", "web_vm4", "web_vm6"], "\(plan.discard)")
        #expect(plan.warm == 1)
    }
}
