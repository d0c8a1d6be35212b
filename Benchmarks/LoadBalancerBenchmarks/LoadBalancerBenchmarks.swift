import AutoscalerAPI
import InstanceProviders
import Libvirt
import Benchmark
import LoadBalancer
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Foundation
import Prometheus
import Scheduler
import TestSupport

/// The per-request hot path, without the kernel: a whole proxied exchange over in-memory channels
/// (the same handlers as a real connection), and the choice of a backend.
let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .mallocCountTotal, .throughput]
    // A thousand iterations per sample: setting up and tearing down the objects under test (a pool
    // of 1,000 backends takes ~40 µs to free) would otherwise be most of each sample.
    Benchmark.defaultConfiguration = .init(metrics: metrics, scalingFactor: .kilo, maxDuration: .seconds(3), maxIterations: 100_000)

    Benchmark("proxy exchange, keep-alive GET (in memory)") { benchmark in
        let exchange = try InMemoryExchange()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { try exchange.run() }
    }

    // The scheduler's tick with 1,000 instances, without its two round trips (the balancer's
    // stats, the provider's listing): decode the balancer's stats JSON, join it with the
    // instances, slide the window, and plan with the scheduler's own planner.
    Benchmark("scheduler tick work, 1000 instances", configuration: .init(metrics: metrics, scalingFactor: .one)) { benchmark in
        let instances = (1...1000).map {
            Instance(name: "web_vm\($0)", endpoint: Endpoint(host: "127.0.0.1", port: 20_000 + $0), state: .running, origin: .created, createdAt: Date())
        }
        let stats = BalancerStats(
            requestsTotal: 1_000_000,
            backends: instances.map {
                BackendStatus(name: $0.name, address: $0.endpoint!.description, state: .active, healthy: true, requestsTotal: 1000, failuresTotal: 0, inFlight: 1)
            },
            latency: LatencyBuckets(boundsSeconds: LatencyBuckets.defaultBoundsSeconds, counts: Array(repeating: 10, count: 16), count: 160, sumSeconds: 1))
        let json = try JSONEncoder().encode(stats)
        var planner = ScalingPlanner(policy: .threshold(up: 20, down: 5), rules: { var rules = ScalingRules(); rules.maximum = 2000; return rules }())
        var window = LoadWindow(seconds: 10)
        var tick = 0.0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            tick += 1
            let decoded = try JSONDecoder().decode(BalancerStats.self, from: json)
            let backends = Dictionary(decoded.backends.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            let statuses = instances.map { InstanceStatus.make($0, backend: backends[$0.name]) }
            window.add(time: tick, requestsTotal: decoded.requestsTotal + Int(tick) * 100, latency: decoded.latency)
            blackHole(planner.plan(.init(now: tick, date: Date(), instances: statuses, window: window.summary)))
        }
    }

    // The cpu metric's read for 1,000 running domains (issue 20): one virConnectGetAllDomainStats
    // call, as the scheduler makes per tick. The test driver has no bulk cpu-total group, so this
    // is the listing plus the per-domain virDomainGetInfo fallback, in process (no daemon RPC).
    Benchmark("libvirt cpu stats, 1000 running domains (test driver)", configuration: .init(metrics: metrics, scalingFactor: .one)) { benchmark in
        let connection = try LibvirtConnection(uri: "test:///default")
        let run = UUID().uuidString.prefix(8)
        let domains = try (0..<1000).map { number in
            let domain = try connection.defineDomain(xml: """
                <domain type='test'><name>bench-\(run)-\(number)</name><memory unit='MiB'>64</memory>
                <os><type arch='x86_64'>hvm</type></os></domain>
                """)
            try domain.start()
            return domain
        }
        defer {
            for domain in domains {
                try? domain.destroy()
                try? domain.undefine()
            }
        }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let stats = try connection.cpuStats()
            precondition(stats.count >= 1000, "\(stats.count) domains read")
            blackHole(stats)
        }
    }

    // A placement decision over 10 hosts of 100 instances each: count ours per host from the
    // listing, place a new one, and pick the scale-in target on the host the rule shrinks.
    Benchmark("placement, 10 hosts x 100 instances", configuration: .init(metrics: metrics, scalingFactor: .one)) { benchmark in
        let statuses = (1...1000).map { number in
            var status = InstanceStatus.make(
                Instance(name: "web_vm\(number)", endpoint: nil, state: .running, origin: .created, createdAt: Date(timeIntervalSince1970: Double(number))),
                backend: nil)
            status.host = "h\(number % 10)"
            return status
        }
        let order = (0..<10).map { "h\($0)" }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for rule in PlacementRule.allCases {
                let placement = Placement(rule: rule, hostMaximum: 150)
                var counts: [String: Int] = [:]
                for status in statuses { counts[status.host!, default: 0] += 1 }
                blackHole(placement.hostForNewInstance(order.map { HostLoad(name: $0, instances: counts[$0] ?? 0, freeMemoryKiB: 8_000_000, templateMemoryKiB: 65_536) }))
                blackHole(InstanceStatus.scaleInTarget(statuses, placement: placement, hostOrder: order))
            }
        }
    }

    for (algorithm, count) in [(BalanceAlgorithm.roundrobin, 2), (.roundrobin, 1000), (.p2c, 1000), (.leastconn, 1000)] {
        Benchmark("pick backend, \(algorithm) of \(count)") { benchmark in
            let pool = BackendPool(algorithm: algorithm)
            for index in 0..<count {
                pool.upsert(name: "web_vm\(index)", endpoint: Endpoint(host: "127.0.0.1", port: 20_000 + index), healthy: true)
            }
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { blackHole(pool.pick()) }
        }
    }
}

/// One client connection and one pooled backend connection on an embedded event loop.
final class InMemoryExchange {
    let proxy: InMemoryProxy
    let client: EmbeddedChannel
    let backend: EmbeddedChannel
    let request = ByteBuffer(string: "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n")
    let response = ByteBuffer(
        string: "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 30 Nov 2026 05:43:12 GMT\r\n"
            + "Content-Type: text/plain\r\nContent-Length: 17\r\nConnection: keep-alive\r\n\r\nhello from 39002\n")

    init() throws {
        let proxy = try InMemoryProxy()
        backend = try proxy.pooledConnection(to: "web_vm1")
        client = proxy.client
        self.proxy = proxy
    }

    /// Request in, forwarded request out, response in, forwarded response out.
    func run() throws {
        try client.writeInbound(request)
        var forwarded = 0
        while let part = try backend.readOutbound(as: IOData.self) { forwarded += part.readableBytes }
        precondition(forwarded > 0, "the request was not forwarded")
        try backend.writeInbound(response)
        var answered = 0
        while let part = try client.readOutbound(as: IOData.self) { answered += part.readableBytes }
        precondition(answered > 0, "the response was not forwarded")
    }
}
