import Foundation
import Scheduler
import Testing

@Suite("scheduler history in SQLite")
struct HistoryTests {
    /// A restart resumes the cooldown from the last action that started one: bringing the group
    /// to its minimum did not.
    @Test func cooldownResumesFromTheLastActionThatStartedOne() throws {
        let history = try History(path: nil)
        #expect(try history.lastActionTime() == nil)
        try history.record(ScalingEvent(time: 50, kind: .scaleDown, instance: "web_vm3", reason: "scale down: …", startsCooldown: true))
        try history.record(ScalingEvent(time: 100, kind: .scaleUp, reason: "scale up: 1 < min 2 → 1 → 2"))
        try history.record(ScalingEvent(time: 120, kind: .register, instance: "web_vm4", reason: "serves"))
        #expect(try history.lastActionTime() == 50)
    }

    @Test func samplesAndEventsSinceAndRetention() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("history-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let history = try History(path: file, retention: .seconds(60))
        let now = Date().timeIntervalSince1970
        for offset in [-120.0, -30, -10] {
            try history.record(Sample(time: now + offset, inService: 2, pending: 0, desired: 2, requestRate: 1, loadPerInstance: 5))
        }
        #expect(try history.samples(since: now - 60).count == 2)
        #expect(try history.prune(now: now) == 1)
        // Reopened from the file: the rows and the schema are still there.
        #expect(try History(path: file).samples(since: 0).count == 2)
    }
}
