import AutoscalerAPI

/// The backend's counters and servers from the CSV of `show stat`.
///
/// Columns are found by the header's names (`# pxname,svname,...`), not by position, so a newer
/// HAProxy with more columns parses the same. What maps to ``BalancerStats``: the backend row's
/// `req_tot` (HTTP requests, monotonic until a reload resets it) is `requestsTotal`; per server,
/// `req_tot` requests, `econ + eresp` failures, `scur + qcur` in flight, and `status` the state:
/// `UP…` and `no check` active, `DRAIN`/`NOLB` draining, `DOWN…` and `MAINT` down. HAProxy has
/// no latency percentiles (only `rtime`/`ttime`, averages over its last 1,024 requests), so
/// `latency` stays nil.
public struct ShowStat: Sendable, Hashable {
    /// One server row.
    public struct Server: Sendable, Hashable {
        public var name: String
        /// `sid`: dynamic servers added by this client have ids from ``HAProxyBalancer/dynamicIDBase``.
        public var id: Int
        public var status: String
        public var address: String
        public var requestsTotal: Int
        public var failuresTotal: Int
        public var inFlight: Int
        public var currentSessions: Int
        public var queued: Int

        /// Drained by the Runtime API (`set server ... state drain`); not a drain an agent or
        /// `disable-on-404` asked for (`DRAIN (agent)`, `NOLB`), which this client never reaps.
        public var isAdminDrain: Bool { status == "DRAIN" || (status.hasPrefix("DRAIN ") && !status.contains("agent")) }

        public var state: BackendState {
            if status.hasPrefix("UP") || status == "no check" { return .active }
            if status.hasPrefix("DRAIN") || status.hasPrefix("NOLB") { return .draining }
            return .down
        }
    }

    public var backendFound: Bool
    public var requestsTotal: Int
    public var servers: [Server]

    /// Parses `csv` for `backend`; throws when it is not `show stat` output.
    public init(csv: String, backend: String) throws {
        var lines = csv.split(whereSeparator: \.isNewline).makeIterator()
        guard let header = lines.next(), header.hasPrefix("# ") else {
            throw AutoscalerError.balancer("unexpected answer to 'show stat': \(csv.prefix(200))")
        }
        let names = header.dropFirst(2).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let column = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        for required in ["pxname", "svname", "status", "req_tot", "scur", "qcur", "sid"] where column[required] == nil {
            throw AutoscalerError.balancer("'show stat' has no \(required) column")
        }
        backendFound = false
        requestsTotal = 0
        servers = []
        while let line = lines.next() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            func text(_ name: String) -> String {
                guard let index = column[name], index < fields.count else { return "" }
                return String(fields[index])
            }
            func number(_ name: String) -> Int { Int(text(name)) ?? 0 }
            // Saturating: the counters are HAProxy's, and a sum of two must not trap.
            func sum(_ first: String, _ second: String) -> Int {
                let (value, overflow) = number(first).addingReportingOverflow(number(second))
                return overflow ? .max : value
            }
            guard text("pxname") == backend else { continue }
            switch text("svname") {
            case "BACKEND":
                backendFound = true
                requestsTotal = number("req_tot")
            case "FRONTEND":
                continue
            case let name:
                servers.append(
                    Server(
                        name: name, id: number("sid"), status: text("status"), address: text("addr"), requestsTotal: number("req_tot"),
                        failuresTotal: sum("econ", "eresp"), inFlight: sum("scur", "qcur"),
                        currentSessions: number("scur"), queued: number("qcur")))
            }
        }
    }

    /// As the scheduler reads a balancer.
    public var balancerStats: BalancerStats {
        BalancerStats(
            requestsTotal: requestsTotal,
            backends: servers.map {
                BackendStatus(
                    name: $0.name, address: $0.address, state: $0.state, healthy: $0.state != .down, requestsTotal: $0.requestsTotal,
                    failuresTotal: $0.failuresTotal, inFlight: $0.inFlight)
            })
    }
}
