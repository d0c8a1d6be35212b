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

/// Scale-ups' times to serve, read from a history.
@Suite("ready times from history")
struct ReadyTimesTests {
    @Test func eachScaleUpToTheRegistrationOfWhatItMade() {
        let events = [
            ScalingEvent(time: 0, kind: .start, reason: "provider"),
            ScalingEvent(time: 1, kind: .register, instance: "web_vm1", reason: "running at 127.0.0.1:1; takes traffic once its health check passes"),
            ScalingEvent(time: 10, kind: .scaleUp, reason: "scale up"),
            ScalingEvent(time: 15, kind: .register, instance: "web_vm3", reason: "serves at 127.0.0.1:3"),
            ScalingEvent(time: 20, kind: .scaleUp, reason: "scale up"),
            ScalingEvent(time: 21, kind: .failure, reason: "scale up failed"),
            ScalingEvent(time: 30, kind: .scaleUp, reason: "scale up"),
            ScalingEvent(time: 37, kind: .register, instance: "web_vm4", reason: "serves at 127.0.0.1:4"),
            ScalingEvent(time: 40, kind: .replace, instance: "web_vm4", reason: "stopped"),
            ScalingEvent(time: 49, kind: .register, instance: "web_vm5", reason: "serves at 127.0.0.1:5"),
        ]
        #expect(ScalingEvent.readyTimes(events) == [5, 7, 9])
        #expect(ScalingEvent.median([5, 7, 9]) == 7)
        #expect(ScalingEvent.median([5, 7, 9, 11]) == 8)
        #expect(ScalingEvent.median([]) == nil)
    }
}

@Suite("quality report over gaps")
struct QualityReportGapTests {
    @Test func aSampleStandsForTheTimeUntilTheNextUpToTenTicks() {
        let samples = [
            QualityReportTests.sample(0, rate: 15, inService: 1),  // short for 4 s
            QualityReportTests.sample(4, rate: 5, inService: 1),  // then a 100 s gap: counts 10 s
            QualityReportTests.sample(104, rate: 5, inService: 1),
        ]
        let report = QualityReport(since: 0, samples: samples, events: [], capacity: 10, step: 1, maximum: 4)
        #expect(report.seconds == 4 + 10 + 1)
        #expect(report.underProvisionedSeconds == 4)
        #expect(report.instanceSeconds == 15)
        #expect(report.metrics?.tauU == 100.0 * 4 / 15)
    }
}
