import Foundation
import Hummingbird

/// What a local HTTP API accepts, against the two ways a web page the user opens can reach it:
/// a cross-site request (a form or `fetch` from another origin: CSRF) and DNS rebinding (the
/// page's own name made to resolve to 127.0.0.1, so that its requests are same-origin to the
/// browser but carry `Host: evil.example`).
///
/// - `Host` must be a loopback address, `localhost`, the address the API listens on, or a name
///   given in ``allowedHosts``; otherwise 421. (An API on a wildcard address takes any `Host`; it
///   needs a token off loopback in any case.)
/// - `Origin`, when present, must be the same host and port as `Host`; otherwise 403.
/// - A mutating request with a body must say `Content-Type: application/json`; otherwise 415. A
///   form cannot send that without a CORS preflight, which these APIs never grant.
///
/// Decisions only: ``verdict(method:host:origin:contentType:hasBody:)`` is pure; the middleware
/// applies it.
public struct LocalRequestPolicy: Sendable {
    /// Names accepted in `Host` beyond loopback and `localhost`, lowercased.
    public var allowedHosts: Set<String>
    /// Any `Host` goes: the API listens on a wildcard address.
    public var anyHost: Bool

    /// For an API listening on `listenHost`, accepting `extraHosts` too.
    public init(listenHost: String, extraHosts: [String] = []) {
        let listen = Self.bare(listenHost)
        anyHost = listen == "0.0.0.0" || listen == "::" || listen.isEmpty
        allowedHosts = Set(([listen] + extraHosts).map { Self.bare($0) })
    }

    /// A refusal: the status and the reason for the JSON error body.
    public struct Refusal: Sendable, Equatable {
        public var status: HTTPResponse.Status
        public var message: String
    }

    public func verdict(method: HTTPRequest.Method, host: String?, origin: String?, contentType: String?, hasBody: Bool) -> Refusal? {
        guard let host, !host.isEmpty else { return Refusal(status: .badRequest, message: "a Host header is required") }
        let name = Self.bare(host)
        if !anyHost && !Self.isLoopback(name) && !allowedHosts.contains(name) {
            return Refusal(status: .misdirectedRequest, message: "Host '\(host)' is not this API's; it answers to loopback addresses and localhost")
        }
        if let origin, origin != Self.sameOrigin(of: host) {
            return Refusal(status: .forbidden, message: "cross-origin request from '\(origin)' refused")
        }
        let mutating = method == .post || method == .put || method == .delete || method == .patch
        if mutating && hasBody {
            let type = contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            if type != "application/json" {
                return Refusal(status: .unsupportedMediaType, message: "a request body must be Content-Type: application/json")
            }
        }
        return nil
    }

    /// `http://HOST[:PORT]` as a browser's `Origin` for a page served from `host`.
    static func sameOrigin(of host: String) -> String { "http://\(host.lowercased())" }

    /// The host part of a `Host` value or address, lowercased, without port or brackets.
    static func bare(_ host: String) -> String {
        var value = host.lowercased()
        if value.hasPrefix("[") {
            if let end = value.firstIndex(of: "]") { value = String(value[value.index(after: value.startIndex)..<end]) }
            return value
        }
        if value.filter({ $0 == ":" }).count == 1, let colon = value.firstIndex(of: ":") { value = String(value[..<colon]) }
        return value
    }

    static func isLoopback(_ name: String) -> Bool {
        if name == "localhost" || name == "::1" { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) else { return false }
        return parts[0] == "127"
    }
}

/// Applies a ``LocalRequestPolicy`` to every request before any route.
public struct LocalRequestMiddleware<Context: RequestContext>: RouterMiddleware {
    public let policy: LocalRequestPolicy

    public init(policy: LocalRequestPolicy) {
        self.policy = policy
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let length = request.headers[.contentLength].flatMap { Int($0) }
        let hasBody = (length ?? 0) > 0 || request.headers[.transferEncoding] != nil
        if let refusal = policy.verdict(
            method: request.method, host: request.head.authority, origin: request.headers[.origin],
            contentType: request.headers[.contentType], hasBody: hasBody)
        {
            return try APIResponse.error(refusal.status, refusal.message)
        }
        return try await next(request, context)
    }
}
