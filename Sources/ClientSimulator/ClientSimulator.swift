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
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let start = ContinuousClock.now
        started.withLock { $0 = start }
        logger.info(
            "sending", metadata: ["target": "\(configuration.target)", "pattern": "\(configuration.pattern.summary)",
                                  "duration": "\(configuration.duration.map { "\($0) s" } ?? "until Ctrl-C")"])
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.reportStatus(start: start) }
                let address = self.targetAddress
                try? await loop.flatSubmit { self.sendAll(on: loop, address: address) }.get()
                let elapsed = (ContinuousClock.now - start).seconds
                let stoppedEarly = self.stopping.load(ordering: .relaxed)
                self.sendingSeconds.withLock { $0 = stoppedEarly ? elapsed : (self.configuration.duration ?? elapsed) }
                // The status task stops once the senders are done.
                self.stopping.store(true, ordering: .relaxed)
            }
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .relaxed)
        }
    }

    /// The open loop on `loop`: every request at its due time (or skipped at the cap), then the
    /// wait for those in flight; the connections close at the end.
    private func sendAll(on loop: any EventLoop, address: SocketAddress?) -> EventLoopFuture<Void> {
        var path = configuration.target.path
        if let work = configuration.workMilliseconds { path += (path.contains("?") ? "&" : "?") + "work=\(work)" }
        let client = LoadClient(
            loop: loop, host: configuration.target.host, port: configuration.target.port, address: address, path: path,
            timeout: .nanoseconds(Int64(configuration.timeout * 1_000_000_000)), concurrency: configuration.concurrency
        ) { [recorder] error, instance, latency in
            if let error { self.logFirst(error) }
            recorder.finished(error: error, instance: instance, latencyMicroseconds: latency)
        }
        let arrivals = ArrivalSchedule(
            pattern: configuration.pattern, duration: configuration.duration, poisson: configuration.poisson, seed: configuration.seed)
        let openLoop = OpenLoop(
            client: client, arrivals: arrivals, start: .now(), isStopping: { self.stopping.load(ordering: .relaxed) }
        ) { [recorder] sent in recorder.scheduledRequest(sent: sent) }
        return openLoop.run().assumeIsolated().map { client.close() }.nonisolated()
    }

    /// The target's address when it is an IP address; nil for a name, which each connection
    /// resolves (NIO races its IPv4 and IPv6 addresses: `localhost` may be ::1 first while the
    /// server listens on 127.0.0.1 only).
    private var targetAddress: SocketAddress? {
        try? SocketAddress(ipAddress: configuration.target.host, port: configuration.target.port)
    }

    private let loggedKinds = Mutex<Set<ErrorKind>>([])

    /// Logs the first error of each kind (the counts say the rest).
    private func logFirst(_ kind: ErrorKind) {
        let first = loggedKinds.withLock { $0.insert(kind).inserted }
        if first { logger.warning("request failed", metadata: ["kind": "\(kind.rawValue)"]) }
    }

    static func classify(_ error: any Error) -> ErrorKind {
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout: return .timeout
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed, .inputClosed: return .connection
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

