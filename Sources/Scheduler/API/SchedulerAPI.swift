import APISupport
import AutoscalerAPI
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The scheduler's HTTP API on Hummingbird: status, instances, history, manual
/// scaling (token), Prometheus metrics.
public struct SchedulerAPI: Sendable {
    public let scheduler: Scheduler
    public init(scheduler: Scheduler) {
        self.scheduler = scheduler
    }

    public var application: some ApplicationProtocol & Service {
        let router = Router()
        let scheduler = self.scheduler
        router.add(middleware: LocalRequestMiddleware(policy: LocalRequestPolicy(listenHost: scheduler.configuration.apiHost)))
        let dashboard = Dashboard(token: scheduler.configuration.apiToken)
        router.get("/") { _, _ -> Response in dashboard.response("index.html") }
        router.get("/dashboard.css") { _, _ -> Response in dashboard.response("dashboard.css") }
        router.get("/dashboard.js") { _, _ -> Response in dashboard.response("dashboard.js") }
        router.get("/api/v1/stream") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    try await Self.stream(scheduler.feed, to: &writer)
                    try await writer.finish(nil)
                })
        }
        router.get("/metrics") { _, _ -> Response in
            APIResponse.metrics(scheduler.metrics.render())
        }
        router.get("/api/v1/status") { _, _ -> Response in
            try APIResponse.json(scheduler.status)
        }
        router.get("/api/v1/instances") { _, _ -> Response in
            try APIResponse.json(InstanceList(instances: scheduler.instances))
        }
        router.get("/api/v1/events") { request, _ -> Response in
            guard let since = Self.since(request) else { return try APIResponse.error(.badRequest, "since must be seconds since 1970") }
            return try APIResponse.json(EventList(events: try scheduler.history.events(since: since)))
        }
        router.get("/api/v1/quality") { request, _ -> Response in
            guard let since = Self.since(request) else { return try APIResponse.error(.badRequest, "since must be seconds since 1970") }
            let configuration = scheduler.configuration
            guard let capacity = configuration.capacity else {
                return try APIResponse.error(.conflict, "the demand needs an instance's capacity: start the scheduler with --capacity R (requests per second)")
            }
            let report = QualityReport(
                since: since, samples: try scheduler.history.latestSamples(since: since, limit: 700_000),
                events: try scheduler.history.events(since: since, limit: 100_000),
                capacity: capacity, step: configuration.interval.seconds, maximum: configuration.rules.maximum)
            return try APIResponse.json(report)
        }
        router.get("/api/v1/samples") { request, _ -> Response in
            guard let since = Self.since(request) else { return try APIResponse.error(.badRequest, "since must be seconds since 1970") }
            return try APIResponse.json(SampleList(samples: try scheduler.history.samples(since: since)))
        }
        router.post("/api/v1/scale") { request, _ -> Response in
            if let refusal = APIResponse.authorize(request, token: scheduler.configuration.apiToken) { return refusal }
            let body = try await request.body.collect(upTo: 16 * 1024)
            guard let scale = try? JSONDecoder().decode(ScaleRequest.self, from: body) else {
                return try APIResponse.error(.badRequest, #"body must be {"desired": n} or {"delta": ±n}"#)
            }
            let target: Int
            do {
                target = try scheduler.requestScale(scale)
            } catch {
                return try APIResponse.error(.badRequest, "\(error)")
            }
            return try APIResponse.json(ScaleRequest(desired: target), status: .accepted)
        }
        let configuration = scheduler.configuration
        return Application(
            router: router,
            configuration: .init(address: .hostname(configuration.apiHost, port: configuration.apiPort), serverName: nil),
            onServerRunning: { channel in
                scheduler.logger.info("API listening", metadata: ["address": "\(configuration.apiHost):\(channel.localAddress?.port ?? 0)"])
            },
            logger: Logger(label: "scheduler.api"))
    }

    /// Server-sent events: `sample` (one per tick, which also keeps the stream alive) and `event`
    /// items as JSON; ends on graceful shutdown or when the client leaves.
    static func stream(_ feed: Feed, to writer: inout any ResponseBodyWriter) async throws {
        let (items, stop) = feed.subscribe()
        try await writer.write(ByteBuffer(string: ": connected\n\n"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        try await withGracefulShutdownHandler {
            for await item in items {
                let (name, data): (String, Data)
                switch item {
                case .sample(let sample): (name, data) = ("sample", try encoder.encode(sample))
                case .event(let event): (name, data) = ("event", try encoder.encode(event))
                }
                var buffer = ByteBuffer(string: "event: \(name)\ndata: ")
                buffer.writeBytes(data)
                buffer.writeString("\n\n")
                try await writer.write(buffer)
            }
        } onGracefulShutdown: {
            stop()
        }
    }

    /// `?since=` (seconds since 1970, default 0); nil when it is not a number.
    static func since(_ request: Request) -> Double? {
        guard let text = request.uri.queryParameters.get("since") else { return 0 }
        return Double(text).flatMap { $0.isFinite ? $0 : nil }
    }
}

public struct InstanceList: Codable, Sendable {
    public var instances: [InstanceStatus]
}

public struct EventList: Codable, Sendable {
    public var events: [ScalingEvent]
}

public struct SampleList: Codable, Sendable {
    public var samples: [Sample]
}
