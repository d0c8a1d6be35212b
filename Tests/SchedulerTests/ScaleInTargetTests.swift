import AutoscalerAPI
import Foundation
import InstanceProviders
import Scheduler
import Testing

/// Scale-in removes the newest instance the autoscaler created, also past nine of them.
@Suite("scale-in target")
struct ScaleInTargetTests {
    static func status(_ number: Int, createdAt: Date?, origin: InstanceOrigin = .created, health: InstanceStatus.Health = .inService)
        -> InstanceStatus
    {
        InstanceStatus(
            name: "web_vm\(number)", endpoint: "127.0.0.1:\(18080 + number)", state: .running, health: health, origin: origin,
            createdAt: createdAt, requestsTotal: 0, inFlight: 0)
    }

    @Test func theHighestNumberWinsATieOfCreationTimes() {
        // Twelve instances made within one clock tick (or with no time recorded): web_vm12 is the
        // newest, where comparing names as strings picked web_vm9.
        let now = Date()
        for createdAt in [now, nil] {
            let statuses = (1...12).map { Self.status($0, createdAt: createdAt) }.shuffled()
            #expect(InstanceStatus.scaleInTarget(statuses)?.name == "web_vm12")
        }
    }

    @Test func theLaterCreationTimeWinsAndFoundOrDrainingOnesAreNeverPicked() {
        let now = Date()
        var statuses = (1...11).map { Self.status($0, createdAt: now.addingTimeInterval(Double($0))) }
        statuses[10].health = .draining  // web_vm11 is leaving already
        statuses.append(Self.status(20, createdAt: now.addingTimeInterval(100), origin: .found))
        statuses.append(Self.status(3, createdAt: now.addingTimeInterval(50)))  // a re-made web_vm3, newest of all
        #expect(InstanceStatus.scaleInTarget(statuses)?.name == "web_vm3")
        #expect(InstanceStatus.scaleInTarget(statuses.filter { $0.origin == .found }) == nil)
    }

    @Test func severalHostsShrinkWhereThePlacementSays() {
        let now = Date()
        // h1: web_vm1, web_vm2, web_vm3 (the newest of all); h2: web_vm4, web_vm5.
        var statuses = (1...5).map { Self.status($0, createdAt: now.addingTimeInterval(Double($0 == 3 ? 100 : $0))) }
        for index in statuses.indices { statuses[index].host = index < 3 ? "h1" : "h2" }
        // Spread takes from the host with the most of ours (h1), its newest.
        #expect(InstanceStatus.scaleInTarget(statuses, placement: Placement(rule: .spread), hostOrder: ["h1", "h2"])?.name == "web_vm3")
        // Pack empties the least full host first (h2), its newest.
        #expect(InstanceStatus.scaleInTarget(statuses, placement: Placement(rule: .pack), hostOrder: ["h1", "h2"])?.name == "web_vm5")
        // Without a placement: the newest anywhere.
        #expect(InstanceStatus.scaleInTarget(statuses)?.name == "web_vm3")
        // A tie (2 and 2 once web_vm3 drains): spread takes from the host given last.
        statuses[2].health = .draining
        #expect(InstanceStatus.scaleInTarget(statuses, placement: Placement(rule: .spread), hostOrder: ["h1", "h2"])?.name == "web_vm5")
        #expect(InstanceStatus.scaleInTarget(statuses, placement: Placement(rule: .spread), hostOrder: ["h2", "h1"])?.name == "web_vm2")
    }

    @Test func ageOrdersByTimeThenNumber() {
        let now = Date()
        #expect(InstanceAge(createdAt: now, name: "web_vm9") < InstanceAge(createdAt: now, name: "web_vm10"))
        #expect(InstanceAge(createdAt: now, name: "web_vm10") < InstanceAge(createdAt: now.addingTimeInterval(1), name: "web_vm2"))
        #expect(InstanceAge(createdAt: nil, name: "web_vm99") < InstanceAge(createdAt: now, name: "web_vm1"))
    }
}
