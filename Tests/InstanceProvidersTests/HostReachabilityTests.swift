import InstanceProviders
import Testing

/// A host that stops answering: kept for the timeout with its instances in state unknown, then
/// lost, then back. Listing by listing, the clock given.
@Suite("host reachability")
struct HostReachabilityTests {
    static let instances = [
        Instance(name: "web_vm3", endpoint: nil, state: .running, origin: .created, host: "h2"),
        Instance(name: "web_vm4", endpoint: nil, state: .running, origin: .created, host: "h2"),
    ]

    @Test func silentThenLostThenBack() {
        var host = HostReachability(timeout: 30)
        let listed = host.listed(Self.instances, now: 0)
        #expect(listed.report == Self.instances && listed.event == nil)
        // Silent: the same instances, state unknown, for 30 s.
        let first = host.failed(now: 10)
        #expect(first.report.map(\.state) == [.unknown, .unknown] && first.report.map(\.name) == ["web_vm3", "web_vm4"])
        #expect(first.event == .silent(instances: 2))
        let still = host.failed(now: 39.9)
        #expect(still.report == first.report && still.event == nil)
        // Lost at 30 s of silence: no longer reported, said once.
        let lost = host.failed(now: 40)
        #expect(lost.report.isEmpty && lost.event == .lost(instances: 2, afterSeconds: 30))
        let later = host.failed(now: 100)
        #expect(later.report.isEmpty && later.event == nil)
        // Back: what it lists now, and how long it was gone.
        let back = host.listed([Self.instances[0]], now: 120)
        #expect(back.report == [Self.instances[0]] && back.event == .back(afterSeconds: 110, wasLost: true))
        #expect(host.state == .reachable)
    }

    @Test func aBlipShorterThanTheTimeoutLosesNothing() {
        var host = HostReachability(timeout: 30)
        _ = host.listed(Self.instances, now: 0)
        #expect(host.failed(now: 5).report.count == 2)
        let back = host.listed(Self.instances, now: 8)
        #expect(back.report == Self.instances && back.event == .back(afterSeconds: 3, wasLost: false))
        // A host never listed has nothing to keep.
        var never = HostReachability(timeout: 30)
        let nothing = never.failed(now: 0)
        #expect(nothing.report.isEmpty && nothing.event == .silent(instances: 0))
    }
}
