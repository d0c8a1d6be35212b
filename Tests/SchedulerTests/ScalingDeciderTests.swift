import Scheduler
import Testing

@Suite("scaling policies and rules")
struct ScalingDeciderTests {
    static func decider(_ policy: ScalingPolicy = .threshold(up: 20, down: 5), _ configure: (inout ScalingRules) -> Void = { _ in }) -> ScalingDecider {
        var rules = ScalingRules()
        configure(&rules)
        return ScalingDecider(policy: policy, rules: rules)
    }

    /// The original's rule with our defaults: min 2, max 8, one step, 30 s after any action.
    @Test(arguments: [
        // inService, pending, load, seconds since last action (nil: none), busy → action
        (2, 0, 31.2, nil, false, ScalingDecider.Action.scaleUp(1)),
        (2, 0, 20.0, nil, false, .none),  // not above 20
        (2, 0, 20.1, 29.0, false, .none),  // cooldown
        (2, 0, 20.1, 30.0, false, .scaleUp(1)),
        (3, 0, 4.9, 31.0, false, .scaleDown(1)),
        (3, 0, 5.0, 31.0, false, .none),
        (2, 0, 0.0, 100.0, false, .none),  // at the minimum
        (8, 0, 100.0, 100.0, false, .none),  // at the maximum
        (3, 1, 50.0, 100.0, false, .none),  // one warming up: wait
        (3, 0, 50.0, 100.0, true, .none),  // an action is running
        (0, 0, 0.0, nil, false, .scaleUp(1)),  // below min: at once
        (1, 0, 0.0, 1.0, false, .scaleUp(1)),  // below min ignores the cooldown
        (1, 1, 0.0, 1.0, false, .none),  // the second is on its way
        (9, 0, 10.0, 1.0, false, .scaleDown(1)),  // above max ignores the cooldown
    ] as [(Int, Int, Double, Double?, Bool, ScalingDecider.Action)])
    func thresholdPolicy(inService: Int, pending: Int, load: Double, sinceLast: Double?, busy: Bool, expected: ScalingDecider.Action) {
        var decider = Self.decider()
        let now = 1000.0
        let decision = decider.decide(
            .init(now: now, inService: inService, pending: pending, load: load, lastAction: sinceLast.map { now - $0 }, busy: busy))
        #expect(decision.action == expected, "\(decision.reason)")
    }

    @Test func reasonReadsLikeTheLog() {
        var decider = Self.decider()
        let decision = decider.decide(.init(now: 100, inService: 2, pending: 0, load: 31.2, lastAction: nil, busy: false))
        #expect(decision.reason == "scale up: 31.2 req/VM/10s > 20 → 2 → 3")
        #expect(decision.desired == 3)
        var cooling = Self.decider()
        let held = cooling.decide(.init(now: 100, inService: 2, pending: 0, load: 31.2, lastAction: 90, busy: false))
        #expect(held.reason.hasPrefix("cooldown: 31.2 req/VM/10s > 20, 20 s left"))
        #expect(held.cooldownLeft == 20)
    }

    /// Target tracking (HPA): desired = ceil(current × load / target) outside the tolerance band.
    @Test(arguments: [
        // inService, load, expected desired (max step 8 so that the formula shows)
        (2, 12.5, 2),
        (2, 13.5, 2),  // +8 %: within 10 %
        (2, 14.0, 3),  // +12 %: ceil(2.24)
        (4, 25.0, 8),
        (4, 6.25, 2),
        (4, 11.5, 4),  // -8 %
        (3, 100, 8),  // clamped to max
        (3, 0, 2),  // clamped to min
    ])
    func targetTracking(inService: Int, load: Double, expected: Int) {
        var decider = Self.decider(.target(value: 12.5, tolerance: 0.1)) {
            $0.maxStepUp = 8
            $0.maxStepDown = 8
        }
        let decision = decider.decide(.init(now: 1000, inService: inService, pending: 0, load: load, lastAction: nil, busy: false))
        #expect(decision.desired == expected, "\(decision.reason)")
    }

    @Test func stepLimitsBoundEachAction() {
        var decider = Self.decider(.target(value: 10, tolerance: 0.1)) { $0.maxStepUp = 2 }
        let decision = decider.decide(.init(now: 1000, inService: 2, pending: 0, load: 50, lastAction: nil, busy: false))
        #expect(decision.action == .scaleUp(2))
    }

    /// A scale-down follows the highest recommendation of the stabilization window.
    @Test func stabilizationHoldsScaleDownUntilTheWindowIsQuiet() {
        var decider = Self.decider { $0.scaleDownStabilization = .seconds(60); $0.scaleDownCooldown = .zero }
        _ = decider.decide(.init(now: 0, inService: 4, pending: 0, load: 10, lastAction: nil, busy: false))  // hold (4)
        let early = decider.decide(.init(now: 30, inService: 4, pending: 0, load: 1, lastAction: nil, busy: false))
        #expect(early.action == .none)
        #expect(early.reason.contains("stabilizing"))
        let later = decider.decide(.init(now: 61, inService: 4, pending: 0, load: 1, lastAction: nil, busy: false))
        #expect(later.action == .scaleDown(1))
    }

    @Test func separateCooldowns() {
        var decider = Self.decider { $0.scaleUpCooldown = .seconds(10); $0.scaleDownCooldown = .seconds(120) }
        #expect(decider.decide(.init(now: 100, inService: 3, pending: 0, load: 50, lastAction: 89, busy: false)).action == .scaleUp(1))
        #expect(decider.decide(.init(now: 100, inService: 3, pending: 0, load: 0, lastAction: 89, busy: false)).action == .none)
        #expect(decider.decide(.init(now: 300, inService: 3, pending: 0, load: 0, lastAction: 89, busy: false)).action == .scaleDown(1))
    }

    @Test func onlyPolicyActionsStartTheCooldown() {
        var decider = Self.decider()
        let bootstrap = decider.decide(.init(now: 0, inService: 0, pending: 0, load: nil, lastAction: nil, busy: false))
        #expect(bootstrap.action == .scaleUp(1) && !bootstrap.startsCooldown)
        let policy = decider.decide(.init(now: 0, inService: 2, pending: 0, load: 50, lastAction: nil, busy: false))
        #expect(policy.action == .scaleUp(1) && policy.startsCooldown)
    }

    @Test func noMeasurementHolds() {
        var decider = Self.decider()
        let decision = decider.decide(.init(now: 0, inService: 2, pending: 0, load: nil, lastAction: nil, busy: false))
        #expect(decision.action == .none)
        #expect(decision.reason == "hold: no load measurement yet")
    }
}
