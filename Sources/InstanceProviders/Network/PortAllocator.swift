#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Finds loopback TCP ports that nothing listens on.
public enum PortAllocator {
    /// Whether `port` can be bound on `host` (an IPv4 literal, e.g. `127.0.0.1`) right now.
    public static func isFree(_ port: Int, host: String = "127.0.0.1") -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        // Like the servers that will bind it: connections in TIME_WAIT do not make a port busy.
        var reuse: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return false }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return result == 0
    }

    /// The lowest port in `range` that is neither `reserved` nor bound on `host`, nor handed out
    /// in this process within the last 30 s: a port is free until the guest's qemu binds it,
    /// and two hosts on one machine (or two clones) must not both take it meanwhile.
    public static func firstFree(in range: ClosedRange<Int>, excluding reserved: Set<Int>, host: String = "127.0.0.1") -> Int? {
        let now = ContinuousClock.now
        return handedOut.withLock { handedOut in
            handedOut = handedOut.filter { now - $0.value < .seconds(30) }
            guard let port = range.first(where: { !reserved.contains($0) && handedOut["\(host):\($0)"] == nil && isFree($0, host: host) }) else {
                return nil
            }
            handedOut["\(host):\(port)"] = now
            return port
        }
    }

    private static let handedOut = Mutex<[String: ContinuousClock.Instant]>([:])
}
