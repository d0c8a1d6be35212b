import AutoscalerAPI
import Foundation
import Hummingbird
import NIOCore
import NIOFoundationCompat

/// What the load balancer's and the scheduler's HTTP APIs share: JSON answers, JSON errors
/// (`{"error": "..."}`) and the bearer-token check on mutating calls.
public enum APIResponse {
    /// `value` as JSON with sorted keys and ISO 8601 dates.
    public static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(data: try encoder.encode(value))))
    }

    public static func error(_ status: HTTPResponse.Status, _ message: String) throws -> Response {
        try json(APIErrorBody(error: message), status: status)
    }

    /// Nil when the call may go on: no token is configured, or the request carries it.
    public static func authorize(_ request: Request, token: String?) -> Response? {
        guard let token else { return nil }
        if let given = request.headers[.authorization], APIToken.matches(given, "Bearer \(token)") { return nil }
        return try? error(.unauthorized, "missing or wrong token (Authorization: Bearer ...)")
    }

    /// Prometheus text exposition.
    public static func metrics(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
