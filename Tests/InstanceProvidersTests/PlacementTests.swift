import InstanceProviders
import Testing

/// Placement over several hosts: each rule, for a new instance and for a scale-in, as tables.
@Suite("placement over several hosts")
struct PlacementTests {
    static func hosts(_ counts: [Int], free: [UInt64?]? = nil, reachable: [Bool]? = nil, template: UInt64? = nil) -> [HostLoad] {
        counts.indices.map { index in
            HostLoad(
                name: "h\(index + 1)", instances: counts[index], reachable: reachable?[index] ?? true, freeMemoryKiB: free?[index],
                templateMemoryKiB: template)
        }
    }

    @Test(arguments: [
        // counts, host-max, expected new, expected scale-in
        ([0, 0, 0], nil as Int?, "h1" as String?, nil as String?),
        ([2, 1, 1], nil, "h2", "h1"),
        ([1, 1, 2], nil, "h1", "h3"),
        ([1, 1, 1], nil, "h1", "h3"),  // ties: new on the first, scale-in from the last
        ([3, 3, 3], 3, nil, "h3"),  // every host at its maximum
    ])
    func spread(counts: [Int], hostMax: Int?, new: String?, shrink: String?) {
        let placement = Placement(rule: .spread, hostMaximum: hostMax)
        #expect(placement.hostForNewInstance(Self.hosts(counts)) == new)
        #expect(placement.hostToShrink(Self.hosts(counts)) == shrink)
    }

    @Test(arguments: [
        ([0, 0, 0], 2 as Int?, "h1" as String?, nil as String?),
        ([1, 0, 0], 2, "h1", "h1"),
        ([2, 1, 0], 2, "h2", "h2"),  // the first is full; the least full one empties first
        ([2, 2, 1], 2, "h3", "h3"),
        ([2, 2, 2], 2, nil, "h3"),
        ([5, 0], nil, "h1", "h1"),  // no maximum: everything on the first
    ])
    func pack(counts: [Int], hostMax: Int?, new: String?, shrink: String?) {
        let placement = Placement(rule: .pack, hostMaximum: hostMax)
        #expect(placement.hostForNewInstance(Self.hosts(counts)) == new)
        #expect(placement.hostToShrink(Self.hosts(counts)) == shrink)
    }

    @Test(arguments: [
        // free KiB per host (template 512 MiB), expected new, expected scale-in
        ([1_048_576, 4_194_304, 2_097_152] as [UInt64?], "h2" as String?, "h1" as String?),
        ([262_144, 393_216, 2_097_152], "h3", "h1"),  // the first two cannot fit the template
        ([262_144, 393_216, 100], nil, "h3"),  // none fits
        ([nil, 1_048_576, nil], "h2", "h2"),  // unknown after known; unknown counts as plenty
    ])
    func memory(free: [UInt64?], new: String?, shrink: String?) {
        let placement = Placement(rule: .memory)
        let hosts = Self.hosts([1, 1, 1], free: free, template: 524_288)
        #expect(placement.hostForNewInstance(hosts) == new)
        #expect(placement.hostToShrink(hosts) == shrink)
    }

    @Test func anUnreachableHostGetsNothingAndLosesNothing() {
        let hosts = Self.hosts([0, 5, 1], reachable: [false, false, true])
        for rule in PlacementRule.allCases {
            #expect(Placement(rule: rule).hostForNewInstance(hosts) == "h3")
            #expect(Placement(rule: rule).hostToShrink(hosts) == "h3")
        }
        #expect(Placement(rule: .spread).hostForNewInstance(Self.hosts([0], reachable: [false])) == nil)
    }
}
