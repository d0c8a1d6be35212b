import AutoscalerAPI
import InstanceProviders
import Foundation
import Testing

@Suite("Instance metadata")
struct InstanceMetadataTests {
    @Test func roundTrip() throws {
        let created = Date(timeIntervalSince1970: 1_790_000_000)
        let metadata = InstanceMetadata(
            origin: .created, host: "127.0.0.1", port: 18083, template: "tpl & <co>", createdAt: created,
            volumes: ["/img/a.qcow2", "/img/b \"q\".qcow2"])
        let parsed = try #require(InstanceMetadata(xml: metadata.xml))
        #expect(parsed == metadata)
        #expect(parsed.endpoint == Endpoint(host: "127.0.0.1", port: 18083))
    }

    @Test func foundWithoutPortHasNoEndpoint() throws {
        let parsed = try #require(InstanceMetadata(xml: InstanceMetadata(origin: .found).xml))
        #expect(parsed.origin == .found)
        #expect(parsed.endpoint == nil)
        #expect(parsed.volumes.isEmpty)
    }

    @Test(arguments: ["", "<other/>", "<instance origin='maybe'/>", "not xml"])
    func rejectsForeignElements(_ xml: String) {
        #expect(InstanceMetadata(xml: xml) == nil)
    }
}
