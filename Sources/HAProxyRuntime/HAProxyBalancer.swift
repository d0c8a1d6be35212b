import AutoscalerAPI
import NIOCore
import NIOPosix

/// A stock HAProxy (≥ 2.6) as the data plane: the members of one backend added, drained and
/// deleted over its Runtime API, with no reload.
///
/// Membership: `add server BACKEND/NAME ADDR:PORT id N check ...`, `enable health`,
/// `set server ... state ready`; removal: `state drain`, wait until the server has no sessions,
/// `state maint`, `del server`. Counters from `show stat` (see ``ShowStat``). Servers written in
/// haproxy.cfg are the user's: they have ids below ``dynamicIDBase`` and are never drained or
/// deleted. A reload drops every dynamic server; the scheduler adds the instances back on its
/// next tick, as it does for any running instance the balancer lacks.
public struct HAProxyBalancer: Balancer {
    /// Settings, with their defaults.
    public struct Configuration: Sendable {
        /// The backend the instances join (default `web`). Its algorithm must take dynamic
        /// servers (roundrobin, leastconn, random, first; not static-rr or a hash).
        public var backend: String
        /// Appended to every `add server`: dynamic servers take nothing from `default-server`, so
        /// the health check is spelled out (default every second, in after one pass, out after
        /// two failures; the check itself is the backend's `option httpchk`, if any).
        public var serverOptions: String
        /// Time allowed for one Runtime API command (default 5 s).
        public var commandTimeout: Duration
        /// How often a drain asks whether the server's sessions ended (default 100 ms).
        public var drainPollInterval: Duration

        public init(
            backend: String = "web", serverOptions: String = "check inter 1s rise 1 fall 2", commandTimeout: Duration = .seconds(5),
            drainPollInterval: Duration = .milliseconds(100)
        ) {
            self.backend = backend
            self.serverOptions = serverOptions
            self.commandTimeout = commandTimeout
            self.drainPollInterval = drainPollInterval
        }
    }

    /// The first id of servers this client adds; smaller ones are haproxy.cfg's (HAProxy numbers
    /// those from 1).
    public static let dynamicIDBase = 100_000

    public let address: HAProxyAddress
    public let configuration: Configuration
    let socket: RuntimeSocket

    public var location: String { "\(address) backend \(configuration.backend)" }

    /// Parses `url` (see ``HAProxyAddress``); nothing is sent until the first call.
    public init(url: String, configuration: Configuration = Configuration(), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton)
        throws
    {
        guard !configuration.backend.isEmpty, !configuration.backend.contains(where: { $0 == "/" || $0 == " " || $0 == ";" }) else {
            throw AutoscalerError.balancer("'\(configuration.backend)' is not an HAProxy backend name")
        }
        self.address = try HAProxyAddress(url: url)
        self.configuration = configuration
        self.socket = RuntimeSocket(address: address, group: group, timeout: configuration.commandTimeout)
    }

    /// `show stat` for the backend; throws when HAProxy has no such backend.
    public func showStat() async throws -> ShowStat {
        let stat = try ShowStat(csv: try await socket.send("show stat"), backend: configuration.backend)
        guard stat.backendFound else {
            throw AutoscalerError.balancer("HAProxy at \(address) has no backend '\(configuration.backend)' (--haproxy-backend)")
        }
        return stat
    }

    /// The counters; also finishes drains nobody waits for (a ``remove(name:)``): a dynamic
    /// server that is draining with no session left is deleted, as this project's balancer forgets
    /// a drained backend.
    public func stats() async throws -> BalancerStats {
        let stat = try await showStat()
        for server in stat.servers where server.id >= Self.dynamicIDBase && server.isAdminDrain && server.inFlight == 0 {
            try? await delete(server.name)
        }
        return stat.balancerStats
    }

    public func register(name: String, address endpoint: Endpoint) async throws {
        try Self.checkName(name)
        // Concurrent registrations (a step of several) may pick the same id: the loser reads the
        // servers again and takes the next.
        for _ in 0..<8 {
            if try await registerOnce(name: name, address: endpoint) { return }
        }
        throw AutoscalerError.balancer("could not find a free server id in HAProxy backend '\(configuration.backend)' for \(name)")
    }

    /// One try; false when the id it picked was taken meanwhile.
    private func registerOnce(name: String, address endpoint: Endpoint) async throws -> Bool {
        let target = "\(configuration.backend)/\(name)"
        let stat = try await showStat()
        if let server = stat.servers.first(where: { $0.name == name }) {
            guard server.id >= Self.dynamicIDBase else {
                guard server.address == endpoint.description else {
                    throw AutoscalerError.balancer("\(name) is a server of haproxy.cfg at \(server.address), not \(endpoint); left alone")
                }
                return true
            }
            if server.address != endpoint.description {
                let answer = try await socket.send("set server \(target) addr \(endpoint.host) port \(endpoint.port)")
                guard answer.contains("changed") || answer.contains("no need") else { throw refused("set server \(target) addr", answer) }
            }
            // Always: a drained server that is also down shows DOWN, not DRAIN, and must come
            // back all the same. Idempotent.
            try await expectSilence("set server \(target) state ready")
            return true
        }
        let id = max(Self.dynamicIDBase, (stat.servers.map(\.id).filter { $0 >= Self.dynamicIDBase }.max() ?? Self.dynamicIDBase - 1) + 1)
        let answer = try await socket.send("add server \(target) \(endpoint) id \(id) \(configuration.serverOptions)")
        guard answer.contains("New server registered") else {
            if answer.contains("already used") || answer.contains("already exists") || answer.contains("Already exists") { return false }
            if answer.contains("dynamic load balancing") {
                throw AutoscalerError.balancer(
                    "HAProxy backend '\(configuration.backend)' cannot take servers at run time: its 'balance' must be dynamic (roundrobin, leastconn, random or first; not static-rr or a hash): \(Self.oneLine(answer))")
            }
            throw refused("add server \(target)", answer)
        }
        do {
            if configuration.serverOptions.split(separator: " ").contains("check") { try await expectSilence("enable health \(target)") }
            try await expectSilence("set server \(target) state ready")
        } catch {
            try? await delete(name)
            throw error
        }
        return true
    }

    @discardableResult
    public func remove(name: String) async throws -> Bool {
        guard let server = try await showStat().servers.first(where: { $0.name == name }) else { return false }
        try refuseStatic(server)
        // A server that is down takes no traffic and goes at once (a drained one that is down
        // shows DOWN, not DRAIN, and would never be reaped). One that is up is drained first even
        // when idle: between reading it idle and `state maint`, HAProxy may send it a request.
        if server.state == .down {
            do {
                try await delete(name)
                return true
            } catch {
                // Idle connections HAProxy keeps can hold up `del server`: drain, reaped later.
            }
        }
        if !server.isAdminDrain { try await expectSilence("set server \(configuration.backend)/\(name) state drain") }
        return true
    }

    public func drain(name: String, timeout: Duration) async throws {
        guard try await remove(name: name) else { return }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var lastError: (any Error)?
        while clock.now < deadline {
            guard let server = try await showStat().servers.first(where: { $0.name == name }) else { return }
            if server.inFlight == 0 {
                do {
                    try await delete(name)
                    return
                } catch {
                    // Idle connections HAProxy keeps to the server hold up `del server` a moment.
                    lastError = error
                }
            }
            try await Task.sleep(for: configuration.drainPollInterval)
        }
        throw AutoscalerError.balancer(
            "\(name) still draining in HAProxy after \(Int(timeout.seconds)) s" + (lastError.map { ": \($0)" } ?? ""))
    }

    /// `state maint`, then `del server`.
    func delete(_ name: String) async throws {
        let target = "\(configuration.backend)/\(name)"
        try await expectSilence("set server \(target) state maint")
        let answer = try await socket.send("del server \(target)")
        guard answer.contains("Server deleted") else { throw refused("del server \(target)", answer) }
    }

    private func refuseStatic(_ server: ShowStat.Server) throws {
        guard server.id >= Self.dynamicIDBase else {
            throw AutoscalerError.balancer("\(server.name) is a server of haproxy.cfg (id \(server.id)); it is left alone")
        }
    }

    /// Commands that answer nothing when they work.
    private func expectSilence(_ command: String) async throws {
        let answer = try await socket.send(command)
        guard answer.allSatisfy(\.isWhitespace) else { throw refused(command, answer) }
    }

    private func refused(_ command: String, _ answer: String) -> AutoscalerError {
        .balancer("HAProxy refused '\(command)': \(Self.oneLine(answer))")
    }

    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.drop(while: \.isWhitespace) }.filter { !$0.isEmpty }.joined(separator: " ")
    }

    static func checkName(_ name: String) throws {
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "_-.:".contains($0) }) else {
            throw AutoscalerError.balancer("'\(name)' cannot be an HAProxy server name")
        }
    }
}
