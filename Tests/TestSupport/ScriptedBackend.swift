import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A raw-socket HTTP backend on 127.0.0.1 that answers each request with the bytes a script gives,
/// byte for byte: close-delimited bodies, bodies cut short, interim answers, garbage. The framing
/// the balancer must cope with is written out by hand here, where `webserver` (NIO) would always
/// send a well-formed answer.
///
/// One thread accepts, one thread serves each connection; sockets time out after 5 s, so no thread
/// outlives a test by long. ``stop()`` closes the listener.
public final class ScriptedBackend: Sendable {
    /// A request as the backend read it.
    public struct Request: Sendable {
        /// The request line and headers, without the blank line.
        public let head: String
        public let body: [UInt8]
        /// Which accepted connection it came on, counting from 1.
        public let connection: Int

        public var method: String { String(head.prefix { $0 != " " }) }
        public var target: String { String(head.split(separator: " ", maxSplits: 2).dropFirst().first ?? "") }
    }

    /// What the backend does in answer to a request.
    public enum Step: Sendable {
        case send(String)
        case pause(milliseconds: Int)
        /// Closes the connection; later steps are ignored.
        case close
        /// Resets the connection (RST, as a crashed server's kernel does); later steps are ignored.
        case reset
    }

    public typealias Script = @Sendable (Request) -> [Step]

    public let port: Int
    private let listener: Int32
    private let script: Script
    private let state = Mutex(State())

    private struct State {
        var connections = 0
        var requests: [Request] = []
        /// Bytes read that did not make a well-formed request (bad chunk sizes, for one).
        var malformed = 0
        var stopped = false
    }

    /// Connections accepted so far.
    public var connectionsAccepted: Int { state.withLock { $0.connections } }
    /// Requests read completely so far.
    public var requests: [Request] { state.withLock { $0.requests } }
    /// Requests whose framing the backend could not read.
    public var malformedRequests: Int { state.withLock { $0.malformed } }

    public init(script: @escaping Script) throws {
        self.script = script
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw POSIXError(.EIO) }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 64) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        guard bound else {
            Glibc.close(listener)
            throw POSIXError(.EADDRINUSE)
        }
        self.listener = listener
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit { stop() }

    /// Stops accepting; connections being served end at their next read.
    public func stop() {
        let first = state.withLock { state in
            defer { state.stopped = true }
            return !state.stopped
        }
        if first {
            shutdown(listener, Int32(SHUT_RDWR))
            Glibc.close(listener)
        }
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            let number = state.withLock { state in
                state.connections += 1
                return state.connections
            }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let thread = Thread { [self] in serve(fd, connection: number) }
            thread.start()
        }
    }

    private func serve(_ fd: Int32, connection: Int) {
        defer { Glibc.close(fd) }
        let reader = SocketReader(fd: fd)
        while let head = reader.readHead() {
            guard let body = Self.readBody(of: head, from: reader) else {
                state.withLock { $0.malformed += 1 }
                return
            }
            let request = Request(head: head, body: body, connection: connection)
            state.withLock { $0.requests.append(request) }
            for step in script(request) {
                switch step {
                case .send(let text):
                    guard SocketReader.send(text, on: fd) else { return }
                case .pause(let milliseconds):
                    usleep(useconds_t(milliseconds * 1000))
                case .close:
                    return
                case .reset:
                    var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                    setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                    return
                }
            }
        }
    }

    /// The body as its headers frame it; nil when the framing is malformed or the peer went away.
    private static func readBody(of head: String, from reader: SocketReader) -> [UInt8]? {
        let headers = head.lowercased().split(separator: "\r\n").dropFirst()
        if headers.contains(where: { $0.hasPrefix("transfer-encoding:") && $0.contains("chunked") }) {
            var body: [UInt8] = []
            while true {
                guard let line = reader.readLine(), let size = Int(line.prefix { $0 != ";" }, radix: 16), size >= 0 else { return nil }
                if size == 0 {
                    while let trailer = reader.readLine(), !trailer.isEmpty {}
                    return body
                }
                guard let chunk = reader.read(count: size), reader.readLine() == "" else { return nil }
                body += chunk
            }
        }
        if let header = headers.first(where: { $0.hasPrefix("content-length:") }) {
            guard let length = Int(header.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) else { return nil }
            return reader.read(count: length)
        }
        return []
    }
}

/// Buffered reads from a blocking socket, for hand-written HTTP in tests.
final class SocketReader {
    let fd: Int32
    private var buffer: [UInt8] = []
    /// The peer closed the connection (recv returned 0).
    private(set) var closedByPeer = false
    /// A read waited longer than the socket's receive timeout.
    private(set) var timedOut = false

    init(fd: Int32) {
        self.fd = fd
    }

    /// Reads more bytes into the buffer; false at the end of the stream or on a timeout.
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else {
            if count == 0 { closedByPeer = true } else if errno == EAGAIN || errno == EWOULDBLOCK { timedOut = true }
            return false
        }
        buffer += chunk[0..<count]
        return true
    }

    /// Up to and without the next CRLF; nil when the stream ends first.
    func readLine() -> String? {
        var searched = 0
        while true {
            if buffer.count >= 2, let index = (max(searched, 1)..<buffer.count).first(where: { buffer[$0 - 1] == 13 && buffer[$0] == 10 }) {
                let line = String(decoding: buffer[0..<(index - 1)], as: UTF8.self)
                buffer.removeFirst(index + 1)
                return line
            }
            searched = buffer.count
            guard fill() else { return nil }
        }
    }

    /// The lines up to the blank line, joined with CRLF; nil when the stream ends first.
    func readHead() -> String? {
        var lines: [String] = []
        while let line = readLine() {
            if line.isEmpty {
                if lines.isEmpty { continue }
                return lines.joined(separator: "\r\n")
            }
            lines.append(line)
        }
        return nil
    }

    /// Exactly `count` bytes; nil when the stream ends first.
    func read(count: Int) -> [UInt8]? {
        while buffer.count < count {
            guard fill() else { return nil }
        }
        defer { buffer.removeFirst(count) }
        return Array(buffer[0..<count])
    }

    /// Everything until the peer closes (a close-delimited body).
    func readToEnd() -> [UInt8] {
        while fill() {}
        defer { buffer = [] }
        return buffer
    }

    /// Writes `text` to `fd`; false when the peer is gone.
    static func send(_ text: String, on fd: Int32) -> Bool {
        Array(text.utf8).withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } >= 0
    }

    /// Whether bytes are buffered that were not read yet.
    var hasBufferedBytes: Bool { !buffer.isEmpty }
}
