import Scheduler
import Testing

/// The live quality report from history samples.
@Suite("quality report")
struct QualityReportTests {
    static func sample(_ time: Double, rate: Double, inService: Int, pending: Int = 0) -> Sample {
        Sample(
            time: time, inService: inService, pending: pending, desired: inService + pending, requestRate: rate, loadPerInstance: 0,
            p50Milliseconds: nil, p99Milliseconds: nil)
    }

    @Test func demandComesFromTheRateAndTheCapacity() {
        // Capacity 10: rates 5, 15, 35, 35 → demand 1, 2, 4, 4; supply 1, 1, 2, 4 (one pending twice).
        let samples = [
            Self.sample(1, rate: 5, inService: 1), Self.sample(2, rate: 15, inService: 1, pending: 1),
            Self.sample(3, rate: 35, inService: 2, pending: 1), Self.sample(4, rate: 35, inService: 4),
        ]
        let report = QualityReport(since: 0, samples: samples, events: [], capacity: 10, step: 1, maximum: 8)
        #expect(report.seconds == 4)
        #expect(report.instanceSeconds == 1 + 2 + 3 + 4)
        #expect(report.underProvisionedSeconds == 2)
        #expect(report.metrics == ElasticityMetrics(demand: [1, 2, 4, 4], supply: [1, 1, 2, 4], step: 1, maximum: 8))
        #expect(report.actions == 0)
    }

    @Test func noSamplesNoMetrics() {
        let report = QualityReport(since: 0, samples: [], events: [], capacity: 10, step: 1, maximum: 8)
        #expect(report.metrics == nil && report.seconds == 0)
    }
}
