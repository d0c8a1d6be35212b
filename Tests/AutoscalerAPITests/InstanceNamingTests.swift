import AutoscalerAPI
import Testing

@Suite("Instance naming and endpoints")
struct InstanceNamingTests {
    @Test(arguments: [
        ([], "web_vm1"),
        (["web_vm1", "web_vm2"], "web_vm3"),
        (["web_vm1", "web_vm3"], "web_vm2"),
        (["web_vm2"], "web_vm1"),
        (["web_vm1", "web_vm01", "web_vmx", "other3"], "web_vm2"),
        (["web_vm1", "web_vm2", "ubuntu20.04-3_webTemplate"], "web_vm3"),
    ])
    func nextFreeName(taken: [String], expected: String) {
        #expect(InstanceNaming().nextName(notIn: taken) == expected)
    }

    @Test func customPrefix() {
        let naming = InstanceNaming(prefix: "app-")
        #expect(naming.nextName(notIn: ["app-1", "web_vm2"]) == "app-2")
        #expect(naming.number(of: "app-12") == 12)
        #expect(naming.number(of: "web_vm12") == nil)
    }

    @Test(arguments: ["web_vm3", "a", "vm-1.test", "A_b-9"])
    func validNames(_ name: String) {
        #expect(InstanceNaming.isValid(name))
    }

    @Test(arguments: ["", "has space", "../etc", "-flag", ".hidden", "slash/name", "ünï", String(repeating: "x", count: 65)])
    func invalidNames(_ name: String) {
        #expect(!InstanceNaming.isValid(name))
    }

    @Test(arguments: [
        ("127.0.0.1:18083", "127.0.0.1", 18083),
        ("localhost:80", "localhost", 80),
        ("[::1]:8080", "::1", 8080),
    ])
    func parsesEndpoints(text: String, host: String, port: Int) throws {
        let endpoint = try #require(Endpoint(text))
        #expect(endpoint.host == host && endpoint.port == port)
        #expect(Endpoint(endpoint.description) == endpoint)
    }

    // The last three were accepted and did not print back as themselves (found by fuzzing).
    @Test(arguments: ["127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", ":80", "host:port", "a b:80", "http://x:80", "a\tb:80", "[[x]]:80", "evil\r\nX: y:80"])
    func rejectsBadEndpoints(_ text: String) {
        #expect(Endpoint(text) == nil)
    }
}
