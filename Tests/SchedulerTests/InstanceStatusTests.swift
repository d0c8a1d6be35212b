import AutoscalerAPI
import InstanceProviders
import Scheduler
import Testing

/// An instance's health from the provider's view and the balancer's.
@Suite("instance status")
struct InstanceStatusTests {
    static func backend(_ state: BackendState) -> BackendStatus {
        BackendStatus(name: "web_vm3", address: "127.0.0.1:18083", state: state, healthy: state == .active, requestsTotal: 5, failuresTotal: 0, inFlight: 0)
    }

    @Test func onASilentHostTheBalancerSaysWhetherItServes() {
        // Only the host's daemon may be gone: the guest may still serve, and then it counts.
        let silent = Instance(name: "web_vm3", endpoint: nil, state: .unknown, origin: .created, host: "h2")
        #expect(InstanceStatus.make(silent, backend: Self.backend(.active)).health == .inService)
        #expect(InstanceStatus.make(silent, backend: Self.backend(.down)).health == .unhealthy)
        #expect(InstanceStatus.make(silent, backend: nil).health == .unhealthy)
        // A stopped one on a host that answers is stopped, whatever the balancer says.
        let stopped = Instance(name: "web_vm3", endpoint: nil, state: .stopped, origin: .created, host: "h1")
        #expect(InstanceStatus.make(stopped, backend: Self.backend(.active)).health == .stopped)
        #expect(InstanceStatus.make(silent, backend: nil).host == "h2")
    }
}
