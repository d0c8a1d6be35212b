import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import TestSupport
import Testing
import WebServer

@Suite("webserver over real sockets")
struct WebServerTests {
    /// Runs a server on a free port for the duration of `body`, then shuts it down gracefully.
    func withServer(name: String = "web_test", _ body: (Int) async throws -> Void) async throws {
        let portFile = FileManager.default.temporaryDirectory.appendingPathComponent("port-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: portFile) }
        let server = WebServer(configuration: .init(port: 0, name: name, portFile: portFile))
        try await withRunningServices([server]) {
            try await body(try await portWritten(to: portFile))
        }
    }

    func request(_ port: Int, _ path: String, method: HTTPMethod = .GET, body: String? = nil) async throws
        -> (status: UInt, headers: HTTPHeaders, body: String)
    {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (response.status.code, response.headers, String(buffer: bytes))
    }

    @Test func answersWithItsName() async throws {
        try await withServer(name: "web_vm7") { port in
            let answer = try await request(port, "/")
            #expect(answer.status == 200)
            #expect(answer.body == "web_vm7\n")
            #expect(answer.headers.first(name: "X-Instance") == "web_vm7")
            #expect(answer.headers.first(name: "Content-Type")?.hasPrefix("text/plain") == true)
        }
    }

    @Test func healthCheck() async throws {
        try await withServer { port in
            let answer = try await request(port, "/healthz")
            #expect(answer.status == 200)
            let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: String]
            #expect(json == ["status": "ok", "instance": "web_test"])
            let head = try await request(port, "/healthz", method: .HEAD)
            #expect(head.status == 200 && head.body.isEmpty)
        }
    }

    @Test func postCountsTheBody() async throws {
        try await withServer { port in
            let answer = try await request(port, "/", method: .POST, body: String(repeating: "x", count: 1000))
            #expect(answer.body == "web_test 1000\n")
        }
    }

    @Test func workSpendsAtLeastThatLong() async throws {
        try await withServer { port in
            let clock = ContinuousClock()
            let start = clock.now
            let answer = try await request(port, "/?work=120")
            #expect(answer.status == 200 && answer.body == "web_test\n")
            #expect(clock.now - start >= .milliseconds(120))
        }
    }

    @Test(arguments: ["/?work=abc", "/?work=-1", "/?work=10001", "/?work="])
    func badWorkIs400WithJSON(_ path: String) async throws {
        try await withServer { port in
            let answer = try await request(port, path)
            #expect(answer.status == 400)
            #expect(answer.headers.first(name: "Content-Type") == "application/json")
            #expect(answer.body.contains(#""error":"work must be 0 to 10000 ms""#))
        }
    }

    @Test func unknownPathAndMethod() async throws {
        try await withServer { port in
            let missing = try await request(port, "/nope")
            let wrongMethod = try await request(port, "/", method: .DELETE)
            let post = try await request(port, "/", method: .POST)
            #expect(missing.status == 404 && missing.body.contains("no such path"))
            #expect(wrongMethod.status == 405)
            #expect(post.status == 200)
        }
    }

    @Test func keepsConnectionsAliveAndServesHTTP10() async throws {
        try await withServer { port in
            // Raw socket: two pipelined HTTP/1.1 requests on one connection, then an HTTP/1.0 one.
            let replies = try await RawHTTP.exchange(
                port: port,
                "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.0\r\n\r\n")
            #expect(replies.components(separatedBy: "HTTP/1.1 200 OK").count == 3)
            #expect(replies.contains("HTTP/1.0 200 OK"))
            #expect(replies.contains("Connection: close"))
        }
    }

    @Test func garbageGetsA400NotACrash() async throws {
        try await withServer { port in
            let reply = try await RawHTTP.exchange(port: port, "\u{01}\u{02}NOT HTTP AT ALL\r\n\r\n")
            #expect(reply.hasPrefix("HTTP/1.1 400"))
            let after = try await request(port, "/")
            #expect(after.status == 200)
        }
    }

    @Test func gracefulShutdownFinishesOpenRequests() async throws {
        let portFile = FileManager.default.temporaryDirectory.appendingPathComponent("port-\(UUID().uuidString)").path
        let server = WebServer(configuration: .init(port: 0, name: "slow", portFile: portFile))
        try await withRunningServices([server]) { (group: ServiceGroup) in
            let bound = try await portWritten(to: portFile)
            // Margin for a busy machine: the request must be in the server's hands before the
            // shutdown starts (100 ms was not always enough with every suite running at once).
            async let slow = request(bound, "/?work=1200")
            try await Task.sleep(for: .milliseconds(400))
            await group.triggerGracefulShutdown()
            let answer = try await slow
            #expect(answer.status == 200 && answer.body == "slow\n")
        }
    }
}
