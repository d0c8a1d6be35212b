import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A blocking loopback TCP exchange: sends bytes as they are and reads until the server closes,
/// for requests an HTTP client library would refuse to send.
public enum RawHTTP {
    /// What the server sent before it closed the connection; throws
    /// ``RawHTTPClient/Failure/timedOut(_:)`` when it did not close within `timeoutSeconds` (a
    /// hung server must not pass for one that answered nothing).
    public static func exchange(port: Int, _ request: String, timeoutSeconds: Int = 5) async throws -> String {
        try await onThread { try exchangeBlocking(port: port, request, timeoutSeconds: timeoutSeconds) }
    }

    private static func exchangeBlocking(port: Int, _ request: String, timeoutSeconds: Int) throws -> String {
        let client = try RawHTTPClient(port: port, timeoutSeconds: timeoutSeconds)
        client.send(request)
        return try client.readToClose()
    }

    /// A connected loopback socket (also held open on its own, for connection-limit tests).
    public final class Connection {
        let fd: Int32

        public init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw POSIXError(.EIO) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                Glibc.close(fd)
                throw POSIXError(.ECONNREFUSED)
            }
        }

        public func close() {
            Glibc.close(fd)
        }
    }
}
