import AutoscalerAPI

extension LoadBalancer {
    /// What a reload does, worked out from the running settings and the new ones by
    /// ``LoadBalancer/Configuration/reloadPlan(to:)``: a pure comparison, the I/O is ``reload(_:)``'s.
    public struct ReloadPlan: Sendable, Equatable {
        /// Backends of the config that are new or moved: registered (they take traffic after a
        /// passing check, as with `PUT /api/v1/backends/{name}`).
        public var register: [Registration] = []
        /// Backends that left the config: drained (those added through the admin API are not
        /// the config's, and stay).
        public var drain: [String] = []
        /// Settings applied, as `name: old → new`: the algorithm at once, limits and timeouts for
        /// the connections opened from now on.
        public var applied: [String] = []
        /// Settings that changed but only take effect on a restart (listeners, threads, tokens,
        /// health checks), as `name: old → new`.
        public var needRestart: [String] = []
        /// Backends that left the config but stay, because no other backend passed a check.
        public var keptForLackOfOthers: [String] = []

        public struct Registration: Sendable, Equatable {
            public var name: String
            public var endpoint: Endpoint
        }

        public var isEmpty: Bool { register.isEmpty && drain.isEmpty && applied.isEmpty && needRestart.isEmpty }
    }
}

extension LoadBalancer.Configuration {
    /// The settings a reload can change while connections stay open.
    private static let reloadable: [(name: String, value: @Sendable (Self) -> String, copy: @Sendable (inout Self, Self) -> Void)] = [
        ("balance", { "\($0.algorithm)" }, { $0.algorithm = $1.algorithm }),
        ("maxConnections", { "\($0.maxConnections)" }, { $0.maxConnections = $1.maxConnections }),
        ("maxBodyBytes", { $0.maxBodyBytes.map { "\($0)" } ?? "none" }, { $0.maxBodyBytes = $1.maxBodyBytes }),
        ("maxHeaderBytes", { "\($0.maxHeaderBytes)" }, { $0.maxHeaderBytes = $1.maxHeaderBytes }),
        ("maxRequestLineBytes", { "\($0.maxRequestLineBytes)" }, { $0.maxRequestLineBytes = $1.maxRequestLineBytes }),
        ("responseTimeout", { "\($0.responseTimeout)" }, { $0.responseTimeout = $1.responseTimeout }),
        ("headerTimeout", { "\($0.headerTimeout)" }, { $0.headerTimeout = $1.headerTimeout }),
        ("idleTimeout", { "\($0.idleTimeout)" }, { $0.idleTimeout = $1.idleTimeout }),
    ]

    /// The settings only a restart changes: the listeners and their threads are bound, the
    /// health checker and the per-loop connection pools are made, at start.
    private static let restartOnly: [(name: String, value: @Sendable (Self) -> String)] = [
        ("host", { $0.host }), ("port", { "\($0.port)" }), ("threads", { "\($0.threads)" }),
        ("adminHost", { $0.adminHost }), ("adminPort", { "\($0.adminPort)" }),
        ("adminToken", { $0.adminToken == nil ? "none" : "set" }),
        ("healthChecks", { "\($0.health.enabled)" }), ("checkInterval", { "\($0.health.interval)" }),
        ("failTimeout", { "\($0.health.failTimeout)" }), ("connectTimeout", { "\($0.connectTimeout)" }),
        ("maxIdlePerBackend", { "\($0.maxIdlePerBackend)" }), ("shutdownGrace", { "\($0.shutdownGrace)" }),
        ("tls", { $0.tls == nil ? "off" : "on" }), ("redirectHttp", { $0.redirectHTTPPort.map { "\($0)" } ?? "none" }),
    ]

    /// What going from these settings to `new` takes.
    public func reloadPlan(to new: Self) -> LoadBalancer.ReloadPlan {
        var plan = LoadBalancer.ReloadPlan()
        for (name, value, _) in Self.reloadable where value(self) != value(new) {
            plan.applied.append("\(name): \(value(self)) → \(value(new))")
        }
        for (name, value) in Self.restartOnly where value(self) != value(new) {
            plan.needRestart.append(name == "adminToken" ? "adminToken: changed" : "\(name): \(value(self)) → \(value(new))")
        }
        let old = Dictionary(backends.map { ($0.name, $0.endpoint) }, uniquingKeysWith: { first, _ in first })
        for backend in new.backends where old[backend.name] != backend.endpoint {
            plan.register.append(.init(name: backend.name, endpoint: backend.endpoint))
        }
        let kept = Set(new.backends.map(\.name))
        plan.drain = backends.map(\.name).filter { !kept.contains($0) }
        // The certificate files are read again on every reload (a renewed certificate keeps its
        // path), while TLS stays on: turning it on or off needs a restart.
        if let files = new.tls, tls != nil {
            plan.applied.append("tls: \(files.certificate) and \(files.key) read again")
        }
        return plan
    }

    /// These settings with `new`'s reloadable ones and backends; the rest as they run.
    func applying(_ new: Self) -> Self {
        var result = self
        for (_, _, copy) in Self.reloadable { copy(&result, new) }
        result.backends = new.backends
        if tls != nil, new.tls != nil { result.tls = new.tls }
        return result
    }
}

extension LoadBalancer {
    /// Applies `new` settings without dropping a connection (SIGHUP's path): the algorithm at
    /// once, limits, timeouts and the TLS certificate for new connections, the config's backends
    /// registered or drained. Returns what it did, and what needs a restart (left as it runs).
    /// Throws, having changed nothing, when the TLS files do not make a context.
    @discardableResult
    public func reload(_ new: Configuration) async throws -> ReloadPlan {
        let running = context.configuration
        let plan = running.reloadPlan(to: new)
        let applied = running.applying(new)
        if let files = applied.tls { context.tlsContext = try Self.makeTLSContext(files) }
        context.configuration = applied
        pool.algorithm = applied.algorithm
        // Make before break: the new backends are registered (their first check awaited) before
        // the old ones drain. The other way round, a swap left no backend for a moment, and
        // every keep-alive client got a 503 and a close (found by the reload test).
        for backend in plan.register { _ = await register(name: backend.name, endpoint: backend.endpoint) }
        // And the old ones drain only if something else serves: a new config whose backends all
        // fail their first check would otherwise leave every request a 503.
        let leaving = Set(plan.drain)
        if !leaving.isEmpty, !pool.all.contains(where: { !leaving.contains($0.name) && $0.isEligible }) {
            logger.warning(
                "reload: no other backend passed a check, so these stay until a reload finds one that does",
                metadata: ["kept": "\(plan.drain)"])
            var kept = plan
            kept.drain = []
            kept.keptForLackOfOthers = plan.drain
            return kept
        }
        for name in plan.drain { _ = drain(name: name) }
        return plan
    }
}
