import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A keep-alive HTTP/1.x client connection over a blocking loopback socket that reads responses
/// by their framing as the wire has it (length, chunked, or until close), so that a test sees
/// what a client would: a response that never ends, one cut short, interim answers, and whether
/// the connection stays open.
public final class RawHTTPClient {
    /// One response as read off the wire.
    public struct Response: Sendable {
        public enum Framing: Sendable, Equatable {
            case none, length, chunked, close
        }

        public let status: Int
        public let statusLine: String
        /// Header lines as sent, `Name: value`.
        public let headers: [String]
        public let body: String
        public let framing: Framing
        /// The body ended as its framing says: all of Content-Length, the last chunk, or a close.
        public let complete: Bool

        /// The value of the first header named `name` (case-insensitive).
        public func header(_ name: String) -> String? {
            let prefix = name.lowercased() + ":"
            return headers.first { $0.lowercased().hasPrefix(prefix) }.map {
                String($0.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
            }
        }
    }

    public enum Failure: Error, CustomStringConvertible {
        case timedOut(String)
        case closed(String)
        case malformed(String)

        public var description: String {
            switch self {
            case .timedOut(let what): "timed out reading \(what)"
            case .closed(let what): "connection closed before \(what)"
            case .malformed(let what): "malformed \(what)"
            }
        }
    }

    private let connection: RawHTTP.Connection
    private let reader: SocketReader

    /// Connects to 127.0.0.1:`port`; reads wait at most `timeoutSeconds` (10 s: a 3 s wait for the
    /// first answer failed about one parallel test run in eight on two busy cores).
    public init(port: Int, timeoutSeconds: Int = 10) throws {
        connection = try RawHTTP.Connection(port: port)
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(connection.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        reader = SocketReader(fd: connection.fd)
    }

    deinit { connection.close() }

    /// Sends bytes as they are.
    public func send(_ text: String) {
        _ = SocketReader.send(text, on: connection.fd)
    }

    /// Everything until the server closes; throws ``Failure/timedOut(_:)`` when it does not.
    public func readToClose() throws -> String {
        let bytes = reader.readToEnd()
        if reader.timedOut { throw Failure.timedOut("the server's close (got \(bytes.count) bytes)") }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads the next response (an interim 1xx one too); `toHEAD` when it answers a HEAD request.
    public func readResponse(toHEAD: Bool = false) throws -> Response {
        guard let head = reader.readHead() else { throw failure("a response head") }
        let lines = head.components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw Failure.malformed("status line: \(lines[0])")
        }
        let headers = Array(lines.dropFirst())
        func value(_ name: String) -> String? {
            headers.first { $0.lowercased().hasPrefix(name + ":") }.map { String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces) }
        }
        if toHEAD || status < 200 || status == 204 || status == 304 {
            return Response(status: status, statusLine: lines[0], headers: headers, body: "", framing: .none, complete: true)
        }
        if value("transfer-encoding")?.lowercased().contains("chunked") == true {
            var body: [UInt8] = []
            while true {
                guard let line = reader.readLine() else {
                    return Response(
                        status: status, statusLine: lines[0], headers: headers, body: String(decoding: body, as: UTF8.self),
                        framing: .chunked, complete: false)
                }
                guard let size = Int(line.prefix { $0 != ";" }, radix: 16) else { throw Failure.malformed("chunk size: \(line)") }
                if size == 0 {
                    // Complete only with the blank line after the trailers.
                    var ended = false
                    while let trailer = reader.readLine() {
                        if trailer.isEmpty {
                            ended = true
                            break
                        }
                    }
                    return Response(
                        status: status, statusLine: lines[0], headers: headers, body: String(decoding: body, as: UTF8.self),
                        framing: .chunked, complete: ended)
                }
                guard let chunk = reader.read(count: size), reader.readLine() == "" else {
                    return Response(
                        status: status, statusLine: lines[0], headers: headers, body: String(decoding: body, as: UTF8.self),
                        framing: .chunked, complete: false)
                }
                body += chunk
            }
        }
        if let length = value("content-length").flatMap({ Int($0) }) {
            if let body = reader.read(count: length) {
                return Response(
                    status: status, statusLine: lines[0], headers: headers, body: String(decoding: body, as: UTF8.self), framing: .length,
                    complete: true)
            }
            let partial = reader.readToEnd()
            return Response(
                status: status, statusLine: lines[0], headers: headers, body: String(decoding: partial, as: UTF8.self), framing: .length,
                complete: false)
        }
        let body = reader.readToEnd()
        if reader.timedOut { throw Failure.timedOut("a close-delimited body (the connection never closed)") }
        return Response(
            status: status, statusLine: lines[0], headers: headers, body: String(decoding: body, as: UTF8.self), framing: .close, complete: true)
    }

    /// Sends `request` and reads responses until a final (non-1xx) one; returns all of them.
    public func exchange(_ request: String, toHEAD: Bool = false) throws -> [Response] {
        send(request)
        var responses: [Response] = []
        repeat {
            responses.append(try readResponse(toHEAD: toHEAD))
        } while responses.last!.status < 200
        return responses
    }

    /// Whether the server closed the connection (waits up to the read timeout for it).
    public func isClosedByServer() -> Bool {
        if reader.hasBufferedBytes { return false }
        _ = reader.readToEnd()
        return reader.closedByPeer
    }

    private func failure(_ what: String) -> Failure {
        reader.timedOut ? .timedOut(what) : .closed(what)
    }
}
