import Scheduler
import Testing

/// Each metric on a hand-computed series.
@Suite("elasticity metrics")
struct ElasticityMetricsTests {
    // d − s = [0, 1, 2, 0, −2, −1]; sgn Δd = [+, +, 0, −, −]; sgn Δs = [0, +, +, 0, −].
    static let metrics = ElasticityMetrics(demand: [1, 2, 4, 4, 2, 1], supply: [1, 1, 2, 4, 4, 2], step: 1, maximum: 4)

    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-9 }

    @Test func accuracyIsTheAverageShareOfDemandMissingOrInExcess() {
        // Missing: 1/2 at t=2, 2/4 at t=3 → (0.5 + 0.5) / 6. Excess: 2/2 at t=5, 1/1 at t=6 → 2 / 6.
        #expect(Self.close(Self.metrics.thetaU, 100.0 / 6))
        #expect(Self.close(Self.metrics.thetaO, 200.0 / 6))
    }

    @Test func normalisedAccuracyIsInstancesOverTheMaximum() {
        // 3 instance-steps missing and 3 in excess, over 6 steps × 4 instances.
        #expect(Self.close(Self.metrics.aU, 100.0 * 3 / 24))
        #expect(Self.close(Self.metrics.aO, 100.0 * 3 / 24))
    }

    @Test func timeshareIsTheShareOfStepsUnderOrOver() {
        #expect(Self.close(Self.metrics.tauU, 200.0 / 6))  // t = 2, 3
        #expect(Self.close(Self.metrics.tauO, 200.0 / 6))  // t = 5, 6
    }

    @Test func instabilityCountsStepsAgainstDemandEachWay() {
        // k: supply up while demand flat (t=4), supply flat while demand down (t=5) → 2 of 5.
        #expect(Self.close(Self.metrics.instability, 40))
        // k′: demand up while supply flat (t=2) → 1 of 5.
        #expect(Self.close(Self.metrics.instabilityPrime, 20))
    }

    @Test func jitterIsSupplyChangesLessDemandChangesPerMinute() {
        // 3 supply changes, 4 demand changes, over 6 s = 0.1 min.
        #expect(Self.close(Self.metrics.jitter, -10))
        let oscillating = ElasticityMetrics(demand: [2, 2, 2, 2, 2], supply: [2, 3, 2, 3, 2], step: 60, maximum: 4)
        #expect(Self.close(oscillating.jitter, 4.0 / 5))  // 4 changes, none asked for, over 5 min
    }

    @Test func aPerfectSupplyScoresZeroEverywhere() {
        let perfect = ElasticityMetrics(demand: [1, 3, 5, 2, 0], supply: [1, 3, 5, 2, 0], step: 1, maximum: 8)
        for value in [perfect.thetaU, perfect.thetaO, perfect.aU, perfect.aO, perfect.tauU, perfect.tauO, perfect.instability, perfect.instabilityPrime, perfect.jitter] {
            #expect(value == 0)
        }
    }

    @Test func underAndOverAreNotSwapped() {
        // Short by 3 for one step, over by 1 for two: every under figure differs from its over one.
        let lopsided = ElasticityMetrics(demand: [4, 2, 2, 2], supply: [1, 3, 3, 2], step: 1, maximum: 4)
        #expect(Self.close(lopsided.aU, 100.0 * 3 / 16) && Self.close(lopsided.aO, 100.0 * 2 / 16))
        #expect(Self.close(lopsided.tauU, 25) && Self.close(lopsided.tauO, 50))
        #expect(Self.close(lopsided.thetaU, 100.0 * 0.75 / 4) && Self.close(lopsided.thetaO, 100.0 * 1.0 / 4))
    }

    @Test func zeroDemandCountsAsOneInstance() {
        // One instance running for no demand is 100 % over, not infinite.
        let idle = ElasticityMetrics(demand: [0], supply: [1], step: 1, maximum: 1)
        #expect(idle.thetaO == 100 && idle.tauO == 100)
    }
}
