import AsyncHTTPClient
import AutoscalerAPI
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Sends requests at their scheduled times whatever the server does (open loop), and records what
/// came back. A `Service`: it ends when the duration is over or on graceful shutdown, after the
/// requests in flight finished or timed out.
///
/// Latency is measured from each request's scheduled time, not from when it was sent: if the
/// server stalls, requests pile up and their latency shows it (no coordinated omission, as in
/// wrk2). When the concurrency cap is reached, due requests are skipped and counted.
public final class ClientSimulator: Service, Sendable {
    public let configuration: Configuration
    public let recorder = LoadRecorder()
    private let logger: Logger
    private let output: @Sendable (String) -> Void
    private let stopping = Atomic<Bool>(false)
    private let started = Mutex<ContinuousClock.Instant?>(nil)
    /// How long requests were being sent: the duration when it ran out, else until the stop.
    private let sendingSeconds = Mutex<Double?>(nil)

    /// `output` receives status lines (with a leading `\r` and no newline when they update in place).
    public init(configuration: Configuration, logger: Logger, output: @escaping @Sendable (String) -> Void = { _ in }) {
        self.configuration = configuration
        self.logger = logger
        self.output = output
    }

    /// The summary so far (complete once ``run()`` returned).
    public var report: LoadReport {
        let elapsed = started.withLock { $0 }.map { (ContinuousClock.now - $0).seconds } ?? 0
        let seconds = sendingSeconds.withLock { $0 } ?? elapsed
        return recorder.report(target: configuration.target.description, pattern: configuration.pattern.summary, seconds: seconds)
    }

    public func run() async throws {
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, configuration.concurrency))
        clientConfiguration.timeout = .init(connect: .seconds(Int64(max(1, configuration.timeout))))
        clientConfiguration.decompression = .disabled
        // A refused connection is an answer to count now, not something to retry until the timeout.
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: clientConfiguration)

        let start = ContinuousClock.now
        started.withLock { $0 = start }
        logger.info(
            "sending", metadata: ["target": "\(configuration.target)", "pattern": "\(configuration.pattern.summary)",
                                  "duration": "\(configuration.duration.map { "\($0) s" } ?? "until Ctrl-C")"])
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.reportStatus(start: start) }
                await self.schedule(start: start, client: client, group: &group)
                let elapsed = (ContinuousClock.now - start).seconds
                let stoppedEarly = self.stopping.load(ordering: .relaxed)
                self.sendingSeconds.withLock { $0 = stoppedEarly ? elapsed : (self.configuration.duration ?? elapsed) }
                // The status task stops once the senders are done.
                self.stopping.store(true, ordering: .relaxed)
            }
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .relaxed)
        }
        try await client.shutdown()
    }

    /// The open loop: wait for each due time, then send (or skip at the cap) without waiting for
    /// earlier answers.
    private func schedule(start: ContinuousClock.Instant, client: HTTPClient, group: inout DiscardingTaskGroup) async {
        var arrivals = ArrivalSchedule(
            pattern: configuration.pattern, duration: configuration.duration, poisson: configuration.poisson, seed: configuration.seed)
        let inFlight = InFlight()
        let uri = requestURI
        while let offset = arrivals.next() {
            let due = start + .microseconds(Int64(offset * 1_000_000))
            // Sleep in short slices so that Ctrl-C stops scheduling at once even in a quiet spell.
            while !stopping.load(ordering: .relaxed), due > .now {
                try? await Task.sleep(until: min(due, .now + .milliseconds(100)), clock: .continuous)
            }
            if stopping.load(ordering: .relaxed) { break }
            guard inFlight.enter(limit: configuration.concurrency) else {
                recorder.scheduledRequest(sent: false)
                continue
            }
            recorder.scheduledRequest(sent: true)
            group.addTask {
                await self.send(uri: uri, due: due, client: client)
                inFlight.leave()
            }
        }
    }

    private var requestURI: String {
        var path = configuration.target.path
        if let work = configuration.workMilliseconds { path += (path.contains("?") ? "&" : "?") + "work=\(work)" }
        let host = configuration.target.host.contains(":") ? "[\(configuration.target.host)]" : configuration.target.host
        return "http://\(host):\(configuration.target.port)\(path)"
    }

    private func send(uri: String, due: ContinuousClock.Instant, client: HTTPClient) async {
        var request = HTTPClientRequest(url: uri)
        request.method = .GET
        let error: ErrorKind?
        var instance: String?
        var measured = true
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(configuration.timeout * 1000)))
            instance = response.headers.first(name: "X-Instance")
            _ = try await response.body.collect(upTo: 16 << 20)
            switch response.status.code {
            case 500...: error = .http5xx
            case 400..<500: error = .http4xx
            default: error = nil
            }
        } catch {
            let kind = Self.classify(error)
            if kind != .timeout { measured = false }
            self.logFirst(kind, error)
            return finish(kind, instance: nil, due: due, measured: measured)
        }
        finish(error, instance: instance, due: due, measured: measured)
    }

    private func finish(_ error: ErrorKind?, instance: String?, due: ContinuousClock.Instant, measured: Bool) {
        let latency = measured ? UInt64(max(0, (ContinuousClock.now - due).seconds * 1_000_000)) : nil
        recorder.finished(error: error, instance: instance, latencyMicroseconds: latency)
    }

    private let loggedKinds = Mutex<Set<ErrorKind>>([])

    /// Logs the first error of each kind (the counts say the rest).
    private func logFirst(_ kind: ErrorKind, _ error: any Error) {
        let first = loggedKinds.withLock { $0.insert(kind).inserted }
        if first { logger.warning("request failed", metadata: ["kind": "\(kind.rawValue)", "error": "\(error)"]) }
    }

    static func classify(_ error: any Error) -> ErrorKind {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout: return .timeout
            case .remoteConnectionClosed, .cancelled: return .connection
            default: break
            }
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return .refused
            case ECONNRESET, EPIPE: return .connection
            default: break
            }
        }
        let text = String(describing: error).lowercased()
        if text.contains("refused") { return .refused }
        if text.contains("timeout") || text.contains("timed out") || text.contains("deadline") { return .timeout }
        if text.contains("reset") || text.contains("closed") { return .connection }
        return .other
    }

    private func reportStatus(start: ContinuousClock.Instant) async {
        let interactive = isatty(STDOUT_FILENO) == 1
        let interval = configuration.statusInterval ?? (interactive ? 1 : 5)
        var last = ContinuousClock.now
        while !stopping.load(ordering: .relaxed) {
            let next = last + .milliseconds(Int64(interval * 1000))
            while !stopping.load(ordering: .relaxed), next > .now {
                try? await Task.sleep(until: min(next, .now + .milliseconds(100)), clock: .continuous)
            }
            let now = ContinuousClock.now
            let figures = recorder.takeInterval()
            let line = StatusLine.format(figures, elapsed: (now - start).seconds, intervalSeconds: (now - last).seconds)
            last = now
            output(interactive ? "\r\u{1B}[2K" + line : line + "\n")
        }
        if interactive { output("\n") }
    }
}

/// Counts requests in flight against the cap; shared by the scheduling loop and the senders.
final class InFlight: Sendable {
    private let count = Atomic<Int>(0)

    func enter(limit: Int) -> Bool {
        if count.load(ordering: .relaxed) >= limit { return false }
        count.add(1, ordering: .relaxed)
        return true
    }

    func leave() {
        count.subtract(1, ordering: .relaxed)
    }
}
