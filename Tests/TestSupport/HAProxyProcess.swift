import Foundation

/// A real HAProxy in master-worker mode, in the foreground, with a Runtime API socket at
/// `socketPath` and a frontend on `port` in front of the backend `web`. Test helper; needs the
/// `haproxy` executable (Debian's package; `scripts/test.sh` installs it).
public final class HAProxyProcess: @unchecked Sendable {
    public let directory: String
    public let socketPath: String
    public let port: Int
    let process: Process

    /// Starts it with `backend` as the body of `backend web` (algorithm, checks, static servers)
    /// and waits until its socket answers.
    public init(backend: String) async throws {
        guard let executable = ["/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"].first(where: FileManager.default.isExecutableFile)
        else { throw HarnessError(description: "haproxy is not installed: apt-get install haproxy (scripts/test.sh does)") }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("haproxy-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        socketPath = directory + "/admin.sock"
        port = try Self.freePort()
        let configuration = """
            global
                master-worker
                stats socket \(socketPath) mode 600 level admin expose-fd listeners
            defaults
                mode http
                timeout connect 2s
                timeout client 10s
                timeout server 10s
            frontend fe
                bind 127.0.0.1:\(port)
                default_backend web
            backend web
            \(backend.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))

            """
        try configuration.write(toFile: directory + "/haproxy.cfg", atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-W", "-db", "-S", directory + "/master.sock", "-f", directory + "/haproxy.cfg"]
        let log = directory + "/haproxy.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        // The master's "Loading success." comes once it handles signals: a SIGUSR2 before that
        // (the socket may be there already) would kill it instead of reloading.
        try await waitUntil(10, "HAProxy's master ready", every: .milliseconds(50)) {
            FileManager.default.fileExists(atPath: self.socketPath)
                && ((try? String(contentsOfFile: log, encoding: .utf8))?.contains("Loading success") ?? false)
        }
    }

    /// Reloads as `systemctl reload haproxy` does: a new worker from the configuration file,
    /// without the servers added at run time. Through the master CLI's `reload` rather than
    /// SIGUSR2: a child of the test process may inherit a signal mask that blocks it. Returns at
    /// once; the old worker's socket passes to the new one, so wait for the effect.
    public func reload() throws {
        let fd = try connectToMaster()
        defer { close(fd) }
        let command = Array("reload\n".utf8)
        guard write(fd, command, command.count) == command.count else { throw HarnessError(description: "cannot send reload") }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while read(fd, &buffer, buffer.count) > 0 {}
    }

    /// A connection to the master CLI. Retried for up to 5 s: a master that is busy (a CI machine
    /// running the whole suite) can refuse for a moment; once refused with "cannot connect".
    private func connectToMaster() throws -> Int32 {
        let path = Array((directory + "/master.sock").utf8)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.enumerated() where index < raw.count - 1 { raw[index] = byte }
        }
        var lastError: Int32 = 0
        for _ in 0..<100 {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw HarnessError(description: "socket() failed") }
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
            }
            if connected { return fd }
            lastError = errno
            close(fd)
            usleep(50_000)
        }
        throw HarnessError(description: "cannot connect to HAProxy's master socket: \(String(cString: strerror(lastError))); log: \(log)")
    }

    /// What HAProxy wrote to stderr (its master's and workers' notices).
    public var log: String { (try? String(contentsOfFile: directory + "/haproxy.log", encoding: .utf8)) ?? "" }

    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw HarnessError(description: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
