import APISupport
import Testing

/// The policy as a table: which Host, Origin and body types a loopback API takes.
@Suite("local request policy")
struct LocalRequestPolicyTests {
    static let loopback = LocalRequestPolicy(listenHost: "127.0.0.1")

    @Test(arguments: [
        ("127.0.0.1:8090", nil as String?, nil as UInt?),
        ("localhost:8090", "http://localhost:8090", nil),
        ("127.1.2.3", nil, nil),
        ("[::1]:8090", "http://[::1]:8090", nil),
        ("evil.example:8090", nil, 421),
        ("evil.example", nil, 421),
        ("127.0.0.1.evil.example", nil, 421),
        ("10.0.0.5:8090", nil, 421),
        ("127.0.0.1:8090", "http://evil.example", 403),
        ("127.0.0.1:8090", "http://127.0.0.1:9999", 403),
        ("127.0.0.1:8090", "null", 403),
        ("", nil, 400),
    ])
    func hostAndOrigin(host: String, origin: String?, status: UInt?) {
        let verdict = Self.loopback.verdict(method: .get, host: host, origin: origin, contentType: nil, hasBody: false)
        #expect(verdict?.status.code.description == status?.description)
    }

    @Test(arguments: [
        ("application/json", true, nil as UInt?),
        ("application/json; charset=utf-8", true, nil),
        ("Application/JSON", true, nil),
        ("text/plain", true, 415),
        ("application/x-www-form-urlencoded", true, 415),
        (nil as String?, true, 415),
        (nil, false, nil),
    ])
    func mutatingBodiesAreJSON(type: String?, hasBody: Bool, status: UInt?) {
        let verdict = Self.loopback.verdict(method: .post, host: "127.0.0.1:8090", origin: nil, contentType: type, hasBody: hasBody)
        #expect(verdict?.status.code.description == status?.description)
        #expect(Self.loopback.verdict(method: .get, host: "127.0.0.1", origin: nil, contentType: type, hasBody: hasBody) == nil)
    }

    @Test func aNamedOrWildcardListenAddress() {
        let named = LocalRequestPolicy(listenHost: "10.0.0.5", extraHosts: ["kvm1.lan"])
        #expect(named.verdict(method: .get, host: "10.0.0.5:8090", origin: nil, contentType: nil, hasBody: false) == nil)
        #expect(named.verdict(method: .get, host: "KVM1.lan:8090", origin: nil, contentType: nil, hasBody: false) == nil)
        #expect(named.verdict(method: .get, host: "evil.example", origin: nil, contentType: nil, hasBody: false)?.status == .misdirectedRequest)
        let wildcard = LocalRequestPolicy(listenHost: "0.0.0.0")
        #expect(wildcard.verdict(method: .get, host: "anything:8090", origin: nil, contentType: nil, hasBody: false) == nil)
        #expect(wildcard.verdict(method: .get, host: "anything:8090", origin: "http://evil.example", contentType: nil, hasBody: false)?.status == .forbidden)
    }
}
