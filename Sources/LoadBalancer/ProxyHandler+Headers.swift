import AutoscalerAPI
import Foundation
import NIOCore
import NIOHTTP1

/// Header rewriting between client and backend.
extension ProxyHandler {
    /// The head sent to the backend: origin-form target, no hop-by-hop headers, forwarding headers.
    /// A `Host` added for an HTTP/1.0 client that sent none names `backend` (also on a retry).
    func forwardedHead(_ head: HTTPRequestHead, to backend: Backend) -> HTTPRequestHead {
        var forwarded = head
        if forwarded.version != .http1_1 { forwarded.version = .http1_1 }
        if let uri = Self.originForm(head.uri) { forwarded.uri = uri }
        // Room for the forwarding headers: one copy of the list instead of a copy and a regrowth.
        forwarded.headers.reserveCapacity(head.headers.count + 3)
        let chunked = head.headers.contains(name: "transfer-encoding") && head.headers[canonicalForm: "transfer-encoding"].contains("chunked")
        Self.removeHopByHop(&forwarded.headers)
        if chunked { forwarded.headers.add(name: "Transfer-Encoding", value: "chunked") }
        let client = clientAddress
        if let existing = forwarded.headers.first(name: "X-Forwarded-For") {
            forwarded.headers.replaceOrAdd(name: "X-Forwarded-For", value: "\(existing), \(client)")
        } else {
            forwarded.headers.add(name: "X-Forwarded-For", value: client)
        }
        forwarded.headers.replaceOrAdd(name: "X-Forwarded-Proto", value: "http")
        if !forwarded.headers.contains(name: "host") { forwarded.headers.add(name: "Host", value: backend.endpoint.description) }
        return forwarded
    }

    /// `{"error": message}` plus a newline: the body of every error the proxy itself answers.
    static func errorBody(_ message: String) -> String {
        let json = (try? JSONEncoder().encode(APIErrorBody(error: message))).map { String(decoding: $0, as: UTF8.self) }
        return (json ?? #"{"error":"internal error"}"#) + "\n"
    }

    /// Whether a header is hop-by-hop (RFC 9110 7.6.1), compared without allocating.
    static func isHopByHop(_ name: String) -> Bool {
        switch name.utf8.count {
        case 2: name.caseInsensitiveEquals("te")
        case 7: name.caseInsensitiveEquals("trailer") || name.caseInsensitiveEquals("upgrade")
        case 10: name.caseInsensitiveEquals("connection") || name.caseInsensitiveEquals("keep-alive")
        case 16: name.caseInsensitiveEquals("proxy-connection")
        case 17: name.caseInsensitiveEquals("transfer-encoding")
        case 19: name.caseInsensitiveEquals("proxy-authorization")
        default: false
        }
    }

    /// Whether ``removeHopByHop(_:)`` has work: a lone `Connection: keep-alive` (what most backends
    /// send) does not count, as it holds for the client connection too when that stays open.
    static func needsHopByHopRemoval(_ headers: HTTPHeaders) -> Bool {
        headers.contains { name, value in
            isHopByHop(name) && !(name.caseInsensitiveEquals("connection") && value.caseInsensitiveEquals("keep-alive"))
        }
    }

    /// Drops hop-by-hop headers and those the `Connection` header names, in place; touches nothing
    /// when there are none (the common case for requests).
    static func removeHopByHop(_ headers: inout HTTPHeaders) {
        guard headers.contains(where: { isHopByHop($0.name) }) else { return }
        for token in headers[canonicalForm: "connection"] where !isHopByHop(String(token)) {
            headers.remove(name: String(token))
        }
        var names: [String] = []
        for (name, _) in headers where isHopByHop(name) && !names.contains(where: { $0.caseInsensitiveEquals(name) }) {
            names.append(name)
        }
        for name in names { headers.remove(name: name) }
    }

    /// `http://host/path?q` → `/path?q`: an absolute-form target is served from the pool like any
    /// other. Nil when the target is already in origin form.
    static func originForm(_ uri: String) -> String? {
        guard uri.utf8.first != UInt8(ascii: "/"), uri.hasPrefix("http://") || uri.hasPrefix("https://") else { return nil }
        guard let scheme = uri.range(of: "://") else { return nil }
        let afterScheme = uri[scheme.upperBound...]
        guard let slash = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) else { return "/" }
        let rest = afterScheme[slash...]
        return rest.hasPrefix("?") ? "/" + rest : String(rest)
    }
}

extension HTTPMethod {
    /// Safe to send again after a failure (RFC 9110 9.2.2).
    var isIdempotent: Bool {
        switch self {
        case .GET, .HEAD, .OPTIONS, .PUT, .DELETE, .TRACE: true
        default: false
        }
    }
}

extension String {
    /// ASCII case-insensitive equality without lowercasing copies.
    func caseInsensitiveEquals(_ other: String) -> Bool {
        let lhs = utf8
        let rhs = other.utf8
        guard lhs.count == rhs.count else { return false }
        return zip(lhs, rhs).allSatisfy { a, b in a == b || (a | 0x20 == b | 0x20 && (a | 0x20) >= 0x61 && (a | 0x20) <= 0x7a) }
    }
}
