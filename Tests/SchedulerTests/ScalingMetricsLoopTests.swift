import AutoscalerAPI
import Foundation
import Scheduler
import TestSupport
import Testing

/// The metrics beyond requests with real parts: the process provider's `webserver` instances
/// burning real CPU (`?work=`), the balancer's real latency histogram, the scheduler's loop.
/// One test at a time: each burns up to half a core, and the suites beside them time things too.
@Suite("scaling on cpu, latency and in-flight requests with real instances", .serialized)
struct ScalingMetricsLoopTests {
    static func configure(_ configuration: inout Scheduler.Configuration, metrics: [MetricTarget]) {
        configuration.interval = .milliseconds(250)
        configuration.window = .seconds(2)
        configuration.metrics = metrics
        configuration.cpuWarmup = .milliseconds(500)
        configuration.rules.minimum = 1
        configuration.rules.maximum = 2
        configuration.rules.scaleUpCooldown = .seconds(1)
        configuration.rules.scaleDownCooldown = .seconds(1)
        configuration.startupTimeout = .seconds(10)
        configuration.drainTimeout = .seconds(10)
    }

    @Test func cpuBoundTrafficScalesOnCPUWhileRequestsStayUnderTheirTarget() async throws {
        try await BalancerHarness.with(backends: 0) { lb in
            try await SchedulerLoopTests.withScheduler(lb) { configuration in
                Self.configure(&configuration, metrics: [MetricTarget(.requests, target: 100), MetricTarget(.cpu, target: 10)])
            } _: { scheduler in
                try await waitUntil(15, "the first instance") { scheduler.status.inService == 1 }
                // 8 req/s of 40 ms of CPU each: about 32 % of a CPU on an idle machine (the work is
                // 40 ms of wall time, so less CPU when other tests share the cores), and 16
                // requests per 2 s window (a sixth of the requests target).
                async let load = ConstantLoad.run(port: lb.proxyPort, rate: 8, seconds: 8, work: 40)
                do {
                    try await waitUntil(20, "a scale-up on cpu") { scheduler.status.inService == 2 }
                } catch {
                    let seen = try scheduler.history.samples(since: 0).compactMap(\.cpuPercent).map { $0.rounded(toPlaces: 1) }
                    Issue.record("cpu samples: \(seen); last decision: \(scheduler.status.lastDecision ?? "none")")
                    throw error
                }
                let report = try await load
                #expect(report.errorsTotal == 0, "\(report.errors)")
                let up = try #require(try scheduler.history.events(since: 0).first { $0.kind == .scaleUp && $0.startsCooldown })
                #expect(up.metric == .cpu, "\(up.reason)")
                #expect((up.value ?? 0) > 10 * 1.1 && up.target == 10, "\(up.reason)")
                #expect(up.reason.contains("cpu "), "\(up.reason)")
                // What requests per instance were meanwhile: under their target all along.
                let loaded = try scheduler.history.samples(since: 0).filter { ($0.cpuPercent ?? 0) > 10 }
                #expect(!loaded.isEmpty)
                #expect(loaded.allSatisfy { $0.loadPerInstance < 100 }, "\(loaded.map(\.loadPerInstance))")
                let status = scheduler.status
                #expect(status.metrics.map(\.metric) == [.requests, .cpu])
                #expect(status.policy == "metrics: requests 100 req/VM, cpu 10 % CPU")
            }
        }
    }

    @Test func aSlowBackendScalesOnLatencyAndLatencyAloneNeverScalesIn() async throws {
        try await BalancerHarness.with(backends: 0) { lb in
            try await SchedulerLoopTests.withScheduler(lb) { configuration in
                Self.configure(&configuration, metrics: [MetricTarget(.latency, target: 20)])
            } _: { scheduler in
                try await waitUntil(15, "the first instance") { scheduler.status.inService == 1 }
                // Every request takes 40 ms: p99 over the 20 ms SLO, whatever the count.
                let report = try await ConstantLoad.run(port: lb.proxyPort, rate: 3, seconds: 6, work: 40)
                #expect(report.errorsTotal == 0, "\(report.errors)")
                try await waitUntil(15, "a scale-up on latency") { scheduler.status.inService == 2 }
                let up = try #require(try scheduler.history.events(since: 0).first { $0.kind == .scaleUp && $0.startsCooldown })
                #expect(up.metric == .latency && (up.value ?? 0) >= 25, "\(up.reason)")
                #expect(up.reason.contains("> SLO 20"), "\(up.reason)")
                // No traffic now: latency abstains, and alone it never removes an instance.
                try await Task.sleep(for: .seconds(3))
                #expect(scheduler.status.inService == 2)
                #expect(try scheduler.history.events(since: 0).allSatisfy { $0.kind != .scaleDown })
                #expect(scheduler.status.metrics.first?.value == 0)
            }
        }
    }

    @Test func concurrencyScalesOnInFlightRequests() async throws {
        try await BalancerHarness.with(backends: 0) { lb in
            try await SchedulerLoopTests.withScheduler(lb) { configuration in
                Self.configure(&configuration, metrics: [MetricTarget(.inflight, target: 0.2)])
            } _: { scheduler in
                try await waitUntil(15, "the first instance") { scheduler.status.inService == 1 }
                // 4 req/s that each take 100 ms: 0.4 requests in flight on average (Little's law),
                // twice the target.
                async let load = ConstantLoad.run(port: lb.proxyPort, rate: 4, seconds: 8, work: 100)
                try await waitUntil(20, "a scale-up on requests in flight") { scheduler.status.inService == 2 }
                let report = try await load
                #expect(report.errorsTotal == 0, "\(report.errors)")
                let up = try #require(try scheduler.history.events(since: 0).first { $0.kind == .scaleUp && $0.startsCooldown })
                #expect(up.metric == .inflight && (up.value ?? 0) > 0.22, "\(up.reason)")
            }
        }
    }
}
