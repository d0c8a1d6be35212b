import Libvirt
import Testing

@Suite("Domain CPU stats on test:///default")
struct DomainStatsTests {
    let connection: LibvirtConnection

    init() throws {
        connection = try LibvirtConnection(uri: TestDriver.uri)
    }

    @Test func runningDomainsAreListedWithTheirCPUTimeAndVCPUs() throws {
        let running = TestDriver.uniqueName("stats")
        let stopped = TestDriver.uniqueName("stats-off")
        let domain = try connection.defineDomain(xml: TestDriver.domainXML(name: running))
        let off = try connection.defineDomain(xml: TestDriver.domainXML(name: stopped))
        defer {
            try? domain.destroy()
            try? domain.undefine()
            try? off.undefine()
        }
        try domain.start()
        let stats = try connection.cpuStats()
        let mine = try #require(stats.first { $0.name == running })
        // The test driver has no bulk CPU group: this is the per-domain fallback.
        #expect(mine.vcpus >= 1)
        #expect(mine.cpuTime > 0)
        #expect(stats.contains { $0.name == "test" })
        // Only running domains: one shut off has no counters.
        #expect(!stats.contains { $0.name == stopped })
    }
}
