import Glibc
import LoadBalancer
import NIOCore
import NIOEmbedded
import TestSupport
import Testing

/// The proxy's state machine through its real handlers over in-memory channels: each step runs to
/// completion, so the order of events is exact and nothing depends on timing.
@Suite("proxy state machine (in-memory channels)")
struct ProxyStateMachineTests {
    static let ok = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"

    @Test func pipelinedRequestsAreForwardedOneAtATimeAndAnsweredInOrder() throws {
        let proxy = try InMemoryProxy()
        let backend = try proxy.pooledConnection(to: "web_vm1")
        try proxy.send("GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n")
        let first = try proxy.forwarded(on: backend)
        #expect(first.hasPrefix("GET /one HTTP/1.1\r\n") && !first.contains("/two"))
        try proxy.answer(on: backend, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none")
        #expect(try proxy.received() == "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none")
        // The second went out only after the first answer ended, on the same connection.
        #expect(try proxy.forwarded(on: backend).hasPrefix("GET /two HTTP/1.1\r\n"))
        try proxy.answer(on: backend, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo")
        #expect(try proxy.received() == "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo")
        #expect(proxy.backendChannels.count == 1 && !proxy.clientClosed)
    }

    @Test func anAnswerToHEADHasNoBodyAndTheConnectionStaysInStep() throws {
        let proxy = try InMemoryProxy()
        let backend = try proxy.pooledConnection(to: "web_vm1")
        try proxy.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try proxy.forwarded(on: backend)
        try proxy.answer(on: backend, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
        #expect(try proxy.received() == "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
        try proxy.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try proxy.forwarded(on: backend).hasPrefix("GET / HTTP/1.1"))
        try proxy.answer(on: backend, Self.ok)
        #expect(try proxy.received() == Self.ok)
        #expect(proxy.backendChannels.count == 1)
    }

    @Test func interimAnswersGoBeforeTheFinalOneToHTTP11ClientsOnly() throws {
        for (version, expected) in [
            ("1.1", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
            ("1.0", "HTTP/1.0 200 OK\r\nContent-Length: 5\r\nconnection: close\r\n\r\nhello"),
        ] {
            let proxy = try InMemoryProxy()
            let backend = try proxy.pooledConnection(to: "web_vm1")
            try proxy.send("GET / HTTP/\(version)\r\nHost: x\r\n\r\n")
            _ = try proxy.forwarded(on: backend)
            try proxy.answer(on: backend, "HTTP/1.1 100 Continue\r\n\r\n")
            try proxy.answer(on: backend, Self.ok)
            #expect(try proxy.received() == expected, "HTTP/\(version)")
        }
    }

    @Test func aStalePooledConnectionIsReplacedOnceForAnIdempotentRequest() throws {
        let proxy = try InMemoryProxy()
        let stale = try proxy.pooledConnection(to: "web_vm1")
        try proxy.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try proxy.forwarded(on: stale)
        try proxy.close(stale)  // the backend had closed it while it sat idle
        let fresh = try #require(proxy.backendChannels.last?.channel)
        #expect(fresh !== stale)
        #expect(try proxy.forwarded(on: fresh).hasPrefix("GET / HTTP/1.1"))
        try proxy.answer(on: fresh, Self.ok)
        #expect(try proxy.received() == Self.ok)
        // A stale connection says nothing about the backend's health.
        #expect(proxy.pool.stats(requestsTotal: 0).backends.first?.failuresTotal == 0)
        #expect(proxy.pool.stats(requestsTotal: 0).backends.first?.state == .active)
    }

    @Test func aPOSTOnAStaleConnectionIsNotResentButAnswered502() throws {
        let proxy = try InMemoryProxy()
        let stale = try proxy.pooledConnection(to: "web_vm1")
        try proxy.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody")
        _ = try proxy.forwarded(on: stale)
        try proxy.close(stale)
        #expect(try proxy.received().hasPrefix("HTTP/1.1 502 Bad Gateway"))
        #expect(proxy.backendChannels.count == 1)
    }

    @Test func aRefusedBackendIsRetriedOnceOnAnother() throws {
        let proxy = try InMemoryProxy(backends: 2)
        proxy.refusing = ["web_vm1"]
        try proxy.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        let channel = try #require(proxy.backendChannels.first)
        #expect(channel.backend == "web_vm2")
        _ = try proxy.forwarded(on: channel.channel)
        try proxy.answer(on: channel.channel, Self.ok)
        #expect(try proxy.received() == Self.ok)
        let web1 = proxy.pool.stats(requestsTotal: 0).backends.first { $0.name == "web_vm1" }
        #expect(web1?.failuresTotal == 1 && web1?.state == .down)
    }

    @Test func withNoOtherBackendARefusalIs502AndTheConnectionGoesOn() throws {
        let proxy = try InMemoryProxy()
        proxy.refusing = ["web_vm1"]
        try proxy.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        let answer = try proxy.received()
        #expect(answer.hasPrefix("HTTP/1.1 502 Bad Gateway") && !answer.contains("close"))
        #expect(!proxy.clientClosed)
    }

    @Test func aCloseDelimitedAnswerIsChunkedAndItsConnectionIsNotReused() throws {
        let proxy = try InMemoryProxy()
        let backend = try proxy.pooledConnection(to: "web_vm1")
        try proxy.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try proxy.forwarded(on: backend)
        try proxy.answer(on: backend, "HTTP/1.1 200 OK\r\n\r\nhel")
        try proxy.answer(on: backend, "lo")
        #expect(try proxy.received() == "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n")
        try proxy.close(backend)
        #expect(try proxy.received() == "0\r\n\r\n")
        #expect(!proxy.clientClosed)
        try proxy.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        let next = try #require(proxy.backendChannels.last?.channel)
        #expect(next !== backend && proxy.backendChannels.count == 2)
        #expect(try proxy.forwarded(on: next).hasPrefix("GET / HTTP/1.1"))
    }

    @Test func theRequestsBeforeAMalformedOneAreAllAnsweredThenTheConnectionCloses() throws {
        let proxy = try InMemoryProxy()
        let backend = try proxy.pooledConnection(to: "web_vm1")
        try proxy.send("GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n\u{01}\u{02} NOT HTTP\r\n\r\n")
        #expect(try proxy.forwarded(on: backend).hasPrefix("GET /one"))
        try proxy.answer(on: backend, Self.ok)
        #expect(try proxy.received() == Self.ok)  // more to come: kept alive
        #expect(try proxy.forwarded(on: backend).hasPrefix("GET /two"))
        try proxy.answer(on: backend, Self.ok)
        #expect(try proxy.received() == "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nconnection: close\r\n\r\nhello")
        #expect(proxy.clientClosed)
    }

    @Test func aClientResetMidExchangeClosesTheBooksAndTheBackendConnection() throws {
        let proxy = try InMemoryProxy()
        let backend = try proxy.pooledConnection(to: "web_vm1")
        try proxy.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try proxy.forwarded(on: backend)
        #expect(proxy.pool.stats(requestsTotal: 0).backends.first?.inFlight == 1)
        proxy.client.pipeline.fireErrorCaught(IOError(errnoCode: ECONNRESET, reason: "read(descriptor:pointer:size:)"))
        proxy.loop.run()
        #expect(proxy.clientClosed)
        #expect(proxy.pool.stats(requestsTotal: 0).backends.first?.inFlight == 0)
        #expect(!backend.isActive, "the backend connection's state is unknown: it must be closed")
    }

    @Test func aRetrySendsTheWholeRequestAgain() throws {
        // A chunked GET without a body: its end is the only thing after the head.
        let proxy = try InMemoryProxy()
        let stale = try proxy.pooledConnection(to: "web_vm1")
        try proxy.send("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        #expect(try proxy.forwarded(on: stale).hasSuffix("\r\n\r\n0\r\n\r\n"))
        try proxy.close(stale)
        let fresh = try #require(proxy.backendChannels.last?.channel)
        #expect(try proxy.forwarded(on: fresh).hasSuffix("\r\n\r\n0\r\n\r\n"))
    }

    @Test func aMalformedPipelinedRequestIsAnsweredAfterTheOnesBeforeIt() throws {
        let proxy = try InMemoryProxy()
        let backend = try proxy.pooledConnection(to: "web_vm1")
        try proxy.send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n\u{01}\u{02} NOT HTTP\r\n\r\n")
        _ = try proxy.forwarded(on: backend)
        #expect(!proxy.clientClosed)
        try proxy.answer(on: backend, Self.ok)
        // Answered, saying that the connection closes after it.
        #expect(try proxy.received() == "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nconnection: close\r\n\r\nhello")
        #expect(proxy.clientClosed)
    }

    @Test func anHTTP10AnswerReachesAnHTTP11ClientAsHTTP11() throws {
        // The client's version, not the backend's: the head cannot go through as received.
        let proxy = try InMemoryProxy()
        let backend = try proxy.pooledConnection(to: "web_vm1")
        try proxy.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try proxy.forwarded(on: backend)
        try proxy.answer(on: backend, "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        #expect(try proxy.received() == Self.ok)
    }
}
