import HTTP1Wire
import NIOCore
import TestSupport
import Testing

/// The balancer's decoder makes of every message what NIOHTTP1's decoder makes of it: the same
/// accept/reject decision, the same method, target, version, fields, keep-alive, body and
/// trailers. Each input is also fed a byte at a time and in odd pieces: the scanner keeps its
/// place across reads.
@Suite("HTTP/1 decoder against NIOHTTP1")
struct HTTP1DecoderDifferentialTests {
    static let requests: [String] = [
        // Valid.
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /a?b=c HTTP/1.1\r\nHost: x\r\nAccept: */*\r\nUser-Agent: wrk\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\n",
        "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n",
        "GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\nGET /2 HTTP/1.0\r\n\r\n",
        "GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
        "GET / HTTP/1.1\r\nConnection: Keep-Alive, X-Foo\r\nX-Foo: 1\r\n\r\n",
        "GET http://example.com/path?q HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
        "\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost:x\r\nX-Empty:\r\nX-Spaces:   a b   \r\nX-Tab:\tv\t\r\n\r\n",
        "GET / HTTP/1.1\r\nX-High: caf\u{e9}\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 005\r\n\r\nhello",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: CHUNKED\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n",
        "GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /1 HTTP/1.1\r\nContent-Length: 2\r\n\r\nabGET /2 HTTP/1.1\r\n\r\n",
        "DELETE /x HTTP/1.1\r\n\r\nPUT /y HTTP/1.1\r\nContent-Length: 1\r\n\r\nz",
        "M-SEARCH * HTTP/1.1\r\nHost: x\r\n\r\n",
        "PURGE / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: https\r\n\r\n",
        "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nGET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
        // The HardeningTests cases.
        "\u{01}\u{02}\u{03} NOT HTTP\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 20_000))\r\n\r\n",
        "GET /\(String(repeating: "a", count: 9_000)) HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nhello\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX-A: b\rX-Injected: 1\r\n\r\n",
        "GET / HTTP/1.1\nHost: x\n\rX: y\r\n\r\n",
        "CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n",
        // RequestFramingTests' bad chunks.
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n-1\r\nhello\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n1ffffffffffffffff\r\nhello\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n3\r\nhello\r\n0\r\n\r\n",
        // Refused by RFC 9112.
        "GET / HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost\t: x\r\n\r\n",
        "GET / HTTP/1.1\r\n: x\r\n\r\n",
        "GET / HTTP/1.1\r\nX-A: b\u{00}c\r\n\r\n",
        "GET / HTTP/1.1\r\nX-A: b\u{7f}c\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\n\n",
        "GET / HTTP/1.1\rHost: x\r\n\r\n",
        "GET  / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1 \r\n\r\n",
        "GET /  HTTP/1.1\r\n\r\n",
        "GET \t/ HTTP/1.1\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 5 \r\n\r\nhello",
        "GET / HTTP/1.1\r\nConnection: close \r\n\r\n",
        "GET /\u{7f} HTTP/1.1\r\n\r\n",
        "GET /caf\u{e9} HTTP/1.1\r\n\r\n",
        "GET ? HTTP/1.1\r\n\r\n",
        "GET a/b HTTP/1.1\r\n\r\n",
        "GET http:/x HTTP/1.1\r\n\r\n",
        "GET http://a@b@c/ HTTP/1.1\r\n\r\n",
        "GET http://u@h:1/p?q#f HTTP/1.1\r\n\r\n",
        "GET http://h HTTP/1.1\r\n\r\n",
        "GET http://h{/ HTTP/1.1\r\n\r\n",
        "GET /p#f?g HTTP/1.1\r\n\r\n",
        "GET *x HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.2\r\n\r\n",
        "GET / HTTP/2.0\r\n\r\n",
        "GET / HTTP/0.9\r\n\r\n",
        "GET / http/1.1\r\n\r\n",
        "GET /\r\n\r\n",
        "get / HTTP/1.1\r\n\r\n",
        "FOO / HTTP/1.1\r\n\r\n",
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
        "POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello",
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;a/b=c\r\nhello\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 5\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\nX: 2\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"b;c\\\"d\";e\r\nhello\r\n0;f=g\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\r\nhello\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5; a=b\r\nhello\r\n0\r\n\r\n",
        // Cut short.
        "GET / HTTP/1.1\r\nHost: x\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
        "GET / HT",
    ]

    static let responses: [String] = [
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Tue, 01 Dec 2026 02:40:12 GMT\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the close",
        "HTTP/1.0 200 OK\r\n\r\nbody",
        "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.0 204 No Content\r\n\r\nHTTP/1.0 200 OK\r\n\r\nuntil close",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw until close",
        "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
        "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\nbinary",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
        "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 299 Whatever You Like\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
        // ResponseFramingTests' garbage and conflicts.
        "NOT HTTP AT ALL\r\n\r\n",
        "HTTP/1.1 abc\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-Fold: a\r\n\tb\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A : b\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\n\n",
        "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        "HTTP/1.1 200 OK\u{0}\u{1}\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 050 Odd\r\n\r\nuntil close",
        "HTTP/1.0 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
    ]

    /// Where the balancer is stricter than llhttp, as RFC 9112 2.2 asks: a bare CR in a status
    /// line is refused (llhttp ends the line at CR CR and reads on).
    @Test(arguments: ["HTTP/1.1 200 OK\r\rContent-Length: 0\r\n\r\n", "HTTP/1.1 100 Continue\r\r\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"])
    func aBareCRInAStatusLineIsRefused(response: String) {
        let bytes = Array(response.utf8)
        #expect(HTTP1Differential.ours(bytes, kind: .response).refused)
        #expect(!HTTP1Differential.reference(bytes, kind: .response).refused)
    }

    @Test(arguments: Self.requests)
    func requestsAreDecodedAsNIODecodesThem(request: String) {
        for piece in [Int.max, 1, 7] {
            let disagreement = HTTP1Differential.disagreement(Array(request.utf8), kind: .request, piece: piece)
            #expect(disagreement == nil, "\(request.prefix(120).debugDescription) in pieces of \(piece):\n\(disagreement ?? "")")
        }
    }

    @Test(arguments: Self.responses)
    func responsesAreDecodedAsNIODecodesThem(response: String) {
        for piece in [Int.max, 1, 7] {
            let disagreement = HTTP1Differential.disagreement(Array(response.utf8), kind: .response, piece: piece)
            #expect(disagreement == nil, "\(response.prefix(120).debugDescription) in pieces of \(piece):\n\(disagreement ?? "")")
        }
    }
}

/// RFC 9112's refusals, each for its own reason (the differential test sees only that both
/// decoders refuse; a refusal for another reason would hide a missing check).
@Suite("HTTP/1 decoder refusals")
struct HTTP1DecoderRefusalTests {
    static let cases: [(String, HTTP1Decoder.Kind, HTTP1Error)] = [
        ("GET / HTTP/1.1\r\nX-Fold: a\r\n b\r\n\r\n", .request, .obsoleteLineFolding),
        ("GET / HTTP/1.1\r\nHost : x\r\n\r\n", .request, .invalidHeaderName),
        ("GET / HTTP/1.1\r\nX-A: b\rX-B: c\r\n\r\n", .request, .invalidHeaderValue),
        ("GET / HTTP/1.1\r\nHost: x\n\r\n", .request, .invalidLineEnding),
        ("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", .request, .conflictingFraming),
        ("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", .request, .conflictingFraming),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", .request, .invalidTransferEncoding),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n", .request, .invalidChunkSize),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc", .request, .invalidChunkEnd),
        ("GET / HTTP/1.1\r\nX: \(String(repeating: "a", count: 90_000))\r\n\r\n", .request, .headTooLarge),
        ("HTTP/1.1 200 OK\r\rContent-Length: 0\r\n\r\n", .response, .invalidLineEnding),
    ]

    @Test(arguments: 0..<cases.count)
    func eachRefusalHasItsReason(index: Int) {
        let (message, kind, expected) = Self.cases[index]
        var decoder = HTTP1Decoder(kind: kind)
        decoder.receive(ByteBuffer(string: message))
        var refusal: HTTP1Error?
        do {
            while try decoder.next() != nil {}
        } catch {
            refusal = error
        }
        #expect(refusal == expected, "\(message.prefix(60).debugDescription)")
    }
}
