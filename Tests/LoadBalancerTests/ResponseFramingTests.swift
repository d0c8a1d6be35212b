import AutoscalerAPI
import LoadBalancer
import TestSupport
import Testing

/// Response framing against raw-socket backends that write their answers byte for byte: the
/// client must always be able to tell where an answer ends, and the backend connection is reused
/// only when the next answer can be told from this one.
@Suite("loadbalancer response framing (raw-socket backends)")
struct ResponseFramingTests {
    static let get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"

    @Test(arguments: ["HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", "HTTP/1.0 200 OK\r\n\r\n"])
    func closeDelimitedAnswerIsChunkedForAKeptAliveClient(statusAndHeaders: String) async throws {
        try await BalancerHarness.withScriptedBackend({ request in [.send(statusAndHeaders + "answer \(request.connection)\n"), .close] }) { lb, backend in
            let port = lb.proxyPort
            let answers = try await onThread {
                let client = try RawHTTPClient(port: port)
                return try (1...3).map { _ in try client.exchange(Self.get) }
            }
            for (index, exchange) in answers.enumerated() {
                let answer = try #require(exchange.last)
                #expect(answer.status == 200)
                #expect(answer.framing == .chunked && answer.complete, "answer \(index + 1): \(answer.headers)")
                #expect(answer.body == "answer \(index + 1)\n")
                #expect(answer.header("connection") == nil)
            }
            // Each answer ended its backend connection: none went back to the pool.
            #expect(backend.connectionsAccepted == 3)
        }
    }

    @Test(arguments: ["GET / HTTP/1.0\r\n\r\n", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"])
    func closeDelimitedAnswerToAnHTTP10ClientEndsWithTheConnection(request: String) async throws {
        try await BalancerHarness.withScriptedBackend({ _ in [.send("HTTP/1.1 200 OK\r\n\r\nold client"), .close] }) { lb, _ in
            let port = lb.proxyPort
            let (answer, closed) = try await onThread {
                let client = try RawHTTPClient(port: port)
                let answer = try client.exchange(request)
                return (answer, client.isClosedByServer())
            }
            #expect(answer.map(\.status) == [200])
            #expect(answer.last?.statusLine.hasPrefix("HTTP/1.0 200") == true)
            #expect(answer.last?.framing == .close)
            #expect(answer.last?.body == "old client")
            #expect(answer.last?.header("transfer-encoding") == nil)
            #expect(closed)
        }
    }

    @Test func answersWithoutABodyKeepTheConnectionInStep() async throws {
        let script: ScriptedBackend.Script = { request in
            switch (request.method, request.target) {
            case ("GET", "/204"): [.send("HTTP/1.1 204 No Content\r\n\r\n")]
            case ("GET", "/304"): [.send("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\nETag: \"x\"\r\n\r\n")]
            case ("HEAD", _): [.send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")]
            case ("GET", "/chunked-head"): [.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")]
            default: [.send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter")]
            }
        }
        try await BalancerHarness.withScriptedBackend(script) { lb, backend in
            let port = lb.proxyPort
            let answers = try await onThread {
                let client = try RawHTTPClient(port: port)
                var answers: [RawHTTPClient.Response] = []
                for (request, isHEAD) in [
                    ("GET /204 HTTP/1.1\r\nHost: x\r\n\r\n", false), ("GET /304 HTTP/1.1\r\nHost: x\r\n\r\n", false),
                    ("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", true), ("HEAD /chunked-head HTTP/1.1\r\nHost: x\r\n\r\n", true),
                ] {
                    answers += try client.exchange(request, toHEAD: isHEAD)
                    answers += try client.exchange("GET /after HTTP/1.1\r\nHost: x\r\n\r\n")
                }
                return answers
            }
            #expect(answers.map(\.status) == [204, 200, 304, 200, 200, 200, 200, 200])
            for after in stride(from: 1, to: answers.count, by: 2) { #expect(answers[after].body == "after", "answer \(after + 1)") }
            #expect(answers[2].header("content-length") == "10")
            #expect(answers[4].header("content-length") == "10")
            // All on one backend connection: each answer's end was known without a close.
            #expect(backend.connectionsAccepted == 1)
        }
    }

    @Test func aBodyCutShortIsATruncationForTheClient() async throws {
        let script: ScriptedBackend.Script = { request in
            switch request.target {
            case "/length": [.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b"), .pause(milliseconds: 50), .close]
            default: [.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"), .pause(milliseconds: 50), .close]
            }
        }
        try await BalancerHarness.withScriptedBackend(script) { lb, _ in
            let port = lb.proxyPort
            for target in ["/length", "/chunked"] {
                let (answer, closed) = try await onThread {
                    let client = try RawHTTPClient(port: port)
                    let answer = try client.exchange("GET \(target) HTTP/1.1\r\nHost: x\r\n\r\n")
                    return (answer, client.isClosedByServer())
                }
                #expect(answer.last?.status == 200)
                #expect(answer.last?.complete == false, "\(target) looked complete: \(answer)")
                #expect(closed, "\(target): the connection stayed open")
            }
            #expect(try await lb.stats().backends.first?.failuresTotal == 2)
        }
    }

    @Test func interimAnswersGoToHTTP11ClientsBeforeTheFinalOne() async throws {
        let script: ScriptedBackend.Script = { _ in
            [
                .send("HTTP/1.1 100 Continue\r\n\r\n"), .pause(milliseconds: 20),
                .send("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"),
                .send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
            ]
        }
        try await BalancerHarness.withScriptedBackend(script) { lb, backend in
            let port = lb.proxyPort
            let (modern, old) = try await onThread {
                let client = try RawHTTPClient(port: port)
                let modern = try client.exchange(Self.get) + client.exchange(Self.get)
                let old = try RawHTTPClient(port: port).exchange("GET / HTTP/1.0\r\n\r\n")
                return (modern, old)
            }
            try #require(modern.map(\.status) == [100, 103, 200, 100, 103, 200])
            #expect(modern[1].header("link") == "</style.css>; rel=preload")
            #expect(modern[2].body == "ok" && modern[5].body == "ok")
            #expect(old.map(\.status) == [200])
            #expect(old.first?.body == "ok")
            // The HTTP/1.1 client's two requests went over one backend connection.
            #expect(Set(backend.requests.prefix(2).map(\.connection)).count == 1)
        }
    }

    @Test func interimAnswersRestartTheResponseDeadline() async throws {
        // 1 s to answer; the final answer comes 1.5 s after the request, with interim ones every
        // 0.6 s: the backend is working, so no 504. (Gaps well under the deadline: a loaded
        // machine once stretched a 200 ms gap past a 300 ms one.)
        let script: ScriptedBackend.Script = { _ in
            [
                .pause(milliseconds: 600), .send("HTTP/1.1 100 Continue\r\n\r\n"), .pause(milliseconds: 600),
                .send("HTTP/1.1 102 Processing\r\n\r\n"), .pause(milliseconds: 300),
                .send("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone"),
            ]
        }
        try await BalancerHarness.withScriptedBackend(configure: { $0.responseTimeout = .seconds(1) }, script) { lb, _ in
            let port = lb.proxyPort
            let answer = try await onThread { try RawHTTPClient(port: port).exchange(Self.get) }
            #expect(answer.map(\.status) == [100, 102, 200])
            #expect(answer.last?.body == "done")
        }
    }

    @Test func aResetDuringACloseDelimitedBodyIsATruncation() async throws {
        let script: ScriptedBackend.Script = { _ in
            [.send("HTTP/1.1 200 OK\r\n\r\npart of it"), .pause(milliseconds: 50), .reset]
        }
        try await BalancerHarness.withScriptedBackend(script) { lb, _ in
            let port = lb.proxyPort
            let (answer, closed) = try await onThread {
                let client = try RawHTTPClient(port: port)
                let answer = try client.exchange(Self.get)
                return (answer, client.isClosedByServer())
            }
            #expect(answer.last?.status == 200)
            #expect(answer.last?.complete == false, "a reset looked like the end: \(answer)")
            #expect(closed)
        }
    }

    @Test func aChunkedAnswerToAnHTTP10ClientEndsWithTheConnection() async throws {
        let script: ScriptedBackend.Script = { _ in
            [.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")]
        }
        try await BalancerHarness.withScriptedBackend(script) { lb, backend in
            let port = lb.proxyPort
            let (first, second) = try await onThread {
                let first = try RawHTTPClient(port: port)
                let answer = try first.exchange("GET / HTTP/1.0\r\n\r\n")
                return (answer, try RawHTTPClient(port: port).exchange("GET / HTTP/1.0\r\n\r\n"))
            }
            for answer in [first, second] {
                #expect(answer.last?.framing == .close)
                #expect(answer.last?.body == "hello world")
                #expect(answer.last?.header("transfer-encoding") == nil)
            }
            // The backend's chunked answer ended cleanly: its connection was reused.
            #expect(backend.requests.count == 2)
        }
    }

    @Test func anAnswerWithLengthAndChunkedIsRefused() async throws {
        // RFC 9112 6.3: a smuggling attempt or a broken server. Forwarded as is, the client and the
        // balancer could read it two ways; NIO's decoder refuses it, and the client gets a 502.
        let script: ScriptedBackend.Script = { _ in
            [.send("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")]
        }
        try await BalancerHarness.withScriptedBackend(script) { lb, _ in
            let port = lb.proxyPort
            let answer = try await onThread { try RawHTTPClient(port: port).exchange(Self.get) }
            #expect(answer.map(\.status) == [502])
            #expect(answer.last?.complete == true)
        }
    }

    @Test(arguments: ["NOT HTTP AT ALL\r\n\r\n", "HTTP/1.1 abc\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"])
    func garbageFromABackendIs502(reply: String) async throws {
        try await BalancerHarness.withScriptedBackend({ _ in [.send(reply)] }) { lb, _ in
            let port = lb.proxyPort
            let answer = try await onThread { try RawHTTPClient(port: port).exchange(Self.get) }
            #expect(answer.map(\.status) == [502])
            #expect(answer.last?.body.contains(#""error""#) == true)
        }
    }

    @Test(arguments: [
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ])
    func aBackendThatClosesAfterEveryAnswerServesAnyNumberOfRequests(reply: String) async throws {
        // No pause before the close: the proxy must not put the connection back in its pool in the
        // moment between the answer and the close (a POST cannot be retried elsewhere).
        try await BalancerHarness.withScriptedBackend({ _ in [.send(reply), .close] }) { lb, backend in
            let port = lb.proxyPort
            let answers = try await onThread {
                let client = try RawHTTPClient(port: port)
                let oneByOne = try (1...25).flatMap { index in
                    try client.exchange("POST /\(index) HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody")
                }
                // Pipelined: the next request is there the moment an answer ends, before the close.
                client.send((26...50).map { "POST /\($0) HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody" }.joined())
                return try oneByOne + (26...50).map { _ in try client.readResponse() }
            }
            #expect(answers.map(\.status) == Array(repeating: 200, count: 50))
            #expect(answers.allSatisfy { $0.body == "ok" })
            #expect(backend.connectionsAccepted == 50)
            #expect(backend.requests.count == 50)
        }
    }
}
