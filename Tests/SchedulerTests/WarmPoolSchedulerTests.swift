import AutoscalerAPI
import Foundation
import InstanceProviders
import Logging
import Scheduler
import TestSupport
import Testing

/// The warm pool in the running loop, with real `webserver` processes and a real balancer:
/// prepared outside the balancer, taken first by a scale-up, refilled, returned to on scale-in,
/// adopted by a restarted scheduler.
@Suite("scheduler warm pool with real instances")
struct WarmPoolSchedulerTests {
    static func configure(_ configuration: inout Scheduler.Configuration) {
        configuration.interval = .milliseconds(200)
        configuration.rules.minimum = 1
        configuration.rules.maximum = 3
        configuration.startupTimeout = .seconds(10)
        configuration.drainTimeout = .seconds(5)
        configuration.warmPool = 1
        configuration.reuseOnScaleIn = true
        // Group and pool together: 2. Taking the member leaves no room to refill, so the
        // scale-in below finds the pool short and returns its instance.
        configuration.maxPrepared = 2
    }

    /// Instances that answer 503 for their first second, as a booting VM would: the member is
    /// seen running, marked and not serving yet by several ticks.
    static func bootingProvider() throws -> ProcessProvider {
        try ProcessProvider(
            configuration: .init(
                stateDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("warm-\(UUID().uuidString)").path,
                extraArguments: ["--ready-after", "1"]))
    }

    @Test func aScaleUpTakesTheMemberAndAScaleInReturnsIt() async throws {
        let provider = try Self.bootingProvider()
        try await BalancerHarness.with(backends: 0) { lb in
            try await SchedulerLoopTests.withScheduler(lb, provider: provider, configure: Self.configure) { scheduler in
                try await waitUntil(20, "one in service and one warm") { scheduler.status.inService == 1 && scheduler.status.warm == 1 }
                let member = try #require(try await provider.instances().first { $0.warm != nil })
                #expect(member.state == .paused)
                // Never registered: the balancer knows only the one in service.
                let backends = try await lb.stats().backends.map(\.name)
                #expect(backends.count == 1 && !backends.contains(member.name), "\(backends)")

                #expect(try scheduler.requestScale(ScaleRequest(desired: 2)) == 2)
                // In service can show a tick before the action records its registration.
                try await waitUntil(30, "two in service, the member's registration recorded") {
                    try scheduler.status.inService == 2 && scheduler.history.events(since: 0).contains { $0.kind == .register && $0.instance == member.name }
                }
                let events = try scheduler.history.events(since: 0)
                let up = try #require(events.last { $0.kind == .scaleUp })
                #expect(up.reason.hasSuffix("(1 of 1 from the warm pool)"), "\(up.reason)")
                #expect(events.contains { $0.kind == .launchFromPool && $0.instance == member.name })
                // The member itself went into service: nothing cold was made for this step, nothing failed.
                // (How much sooner than a cold start is a figure for the notes, not a timed test.)
                #expect(events.contains { $0.kind == .register && $0.instance == member.name && $0.time >= up.time })
                #expect(!events.contains { $0.kind == .failure }, "\(events.map(\.reason))")
                #expect(try await provider.instances().count == 2)
                #expect(try await lb.request().status == 200)
                // The cap (2) leaves no room for a new member.
                #expect(scheduler.status.warm == 0 && scheduler.status.warmPreparing == 0)

                #expect(try scheduler.requestScale(ScaleRequest(desired: 1)) == 1)
                try await waitUntil(30, "back to one, the other in the pool, the return recorded") {
                    try scheduler.status.inService == 1 && scheduler.status.warm == 1
                        && scheduler.history.events(since: 0).contains { $0.kind == .returnToPool }
                }
                let kinds = try scheduler.history.events(since: 0).map(\.kind)
                #expect(kinds.contains(.returnToPool) && !kinds.contains(.delete), "\(kinds)")
                #expect(try await provider.instances().count == 2)
            }
            // A new scheduler adopts the member instead of preparing another.
            try await SchedulerLoopTests.withScheduler(lb, provider: provider, configure: Self.configure) { scheduler in
                try await waitUntil(30, "the pool adopted") { scheduler.status.inService == 1 && scheduler.status.warm == 1 }
                try await Task.sleep(for: .milliseconds(600))
                let events = try scheduler.history.events(since: 0)
                #expect(events.contains { $0.kind == .adopt && $0.reason.contains("warm-pool member") })
                #expect(!events.contains { $0.kind == .prepare }, "\(events.map(\.kind))")
                #expect(try await provider.instances().count == 2)
            }
            for instance in try await provider.instances() { try await provider.delete(name: instance.name) }
        }
    }

    @Test func aBrokenMemberIsReplacedAndTheScaleUpStillServes() async throws {
        let provider = try Self.bootingProvider()
        try await BalancerHarness.with(backends: 0) { lb in
            try await SchedulerLoopTests.withScheduler(lb, provider: provider, configure: { configuration in
                Self.configure(&configuration)
                configuration.maxPrepared = nil
            }) { scheduler in
                try await waitUntil(20, "one in service and one warm") { scheduler.status.inService == 1 && scheduler.status.warm == 1 }
                let member = try #require(try await provider.instances().first { $0.warm != nil })
                // Its process dies while it waits in the pool.
                let record = try String(contentsOfFile: "\(provider.configuration.stateDirectory)/instances/\(member.name).json", encoding: .utf8)
                let pid = try #require(record.firstMatch(of: /"pid"\s*:\s*(\d+)/).flatMap { Int32($0.1) })
                kill(pid, SIGKILL)
                try await waitUntil(30, "the dead member deleted and replaced") {
                    let events = try scheduler.history.events(since: 0)
                    return events.contains { $0.kind == .delete && $0.instance == member.name } && scheduler.status.warm == 1
                }
                // The replacement booted (1 s) while no action ran, and was never registered.
                let backends = try await lb.stats().backends.map(\.name)
                #expect(backends.count == 1, "\(backends)")
                #expect(try scheduler.requestScale(ScaleRequest(desired: 2)) == 2)
                try await waitUntil(30, "two in service") { scheduler.status.inService == 2 }
            }
            for instance in try await provider.instances() { try await provider.delete(name: instance.name) }
        }
    }
}
