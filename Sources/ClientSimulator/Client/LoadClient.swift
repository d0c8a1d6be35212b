import HTTP1Wire
import NIOCore
import NIOPosix

/// The open loop's HTTP/1.1 client: kept-alive connections on one event loop, each request written
/// as the same bytes at its due time, each answer read by ``HTTP1Decoder``. No task, future or
/// header string per request: with AsyncHTTPClient and a task per request, clientsim kept up
/// 5,000 req/s on a core where wrk does 100,000.
///
/// At most `concurrency` requests are in flight (and as many connections open); a request due
/// beyond that is skipped and counted. A request that finds no idle connection waits for the
/// next one free while a few connections are being made (a new connection each, 512 at once at
/// the start of a fast run, stalled the loop for 90 ms). Confined to its event loop.
final class LoadClient {
    /// What became of one request: `latency` from its due time, nil when not measured (a
    /// connection that failed before any answer says nothing about the server's latency).
    typealias Record = (_ error: ErrorKind?, _ instance: String?, _ latencyMicroseconds: UInt64?) -> Void

    let loop: any EventLoop
    let host: String
    let port: Int
    /// The server's address when `host` is an IP address (connections go straight to it); nil for
    /// a name, which each connection resolves.
    let address: SocketAddress?
    let request: ByteBuffer
    let timeout: TimeAmount
    let concurrency: Int
    let record: Record
    private var idle: [LoadConnection] = []
    /// Every connection open or being opened, for the time-out sweep.
    private var connections: [ObjectIdentifier: LoadConnection] = [:]
    private(set) var inFlight = 0
    /// Connections being made.
    private var connecting = 0
    /// Due times of requests waiting for a connection, oldest first.
    private var waiting = CircularBuffer<NIODeadline>()
    /// Connections made at once, at most.
    private static let maxConnecting = 8
    private var sweep: Scheduled<Void>?
    private let sweepPeriod: TimeAmount
    /// Completed once nothing is in flight, when asked for by ``drained()``.
    private var whenDrained: EventLoopPromise<Void>?

    init(
        loop: any EventLoop, host: String, port: Int, address: SocketAddress?, path: String, timeout: TimeAmount, concurrency: Int,
        record: @escaping Record
    ) {
        self.loop = loop
        self.host = host
        self.port = port
        self.address = address
        let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        request = ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: \(authority)\r\nUser-Agent: clientsim\r\n\r\n")
        self.timeout = timeout
        self.concurrency = max(1, concurrency)
        self.record = record
        // Time-outs are found by a sweep a few times a second, not by a timer per request.
        sweepPeriod = .nanoseconds(max(min(timeout.nanoseconds / 10, 100_000_000), 1_000_000))
        scheduleSweep()
    }

    private func scheduleSweep() {
        sweep = loop.assumeIsolated().scheduleTask(in: sweepPeriod) { [self] in
            expire()
            if sweep != nil { scheduleSweep() }
        }
    }

    /// Sends a request due at `due`; false when it is skipped at the concurrency cap.
    func send(due: NIODeadline) -> Bool {
        guard inFlight < concurrency else { return false }
        inFlight += 1
        if let connection = idle.popLast() {
            connection.send(request, due: due)
        } else if connecting < Self.maxConnecting && connections.count < concurrency {
            connect(due: due)
        } else {
            waiting.append(due)
        }
        return true
    }

    /// A connection is free: the oldest waiting request goes on it, or it waits in the pool.
    private func release(_ connection: LoadConnection) {
        if let due = waiting.popFirst() {
            connection.send(request, due: due)
        } else {
            idle.append(connection)
        }
    }

    /// Completes once no request is in flight.
    func drained() -> EventLoopFuture<Void> {
        if inFlight == 0 { return loop.makeSucceededVoidFuture() }
        let promise = whenDrained ?? loop.makePromise()
        whenDrained = promise
        return promise.futureResult
    }

    /// Closes every connection and stops the sweep.
    func close() {
        sweep?.cancel()
        sweep = nil
        for connection in connections.values { connection.close() }
        connections = [:]
        idle = []
    }

    private func connect(due: NIODeadline) {
        connecting += 1
        let connection = LoadConnection(client: self)
        connections[ObjectIdentifier(connection)] = connection
        connection.pending = due
        let bound = NIOLoopBound(connection, eventLoop: loop)
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(bound.value) }
            }
        // By address: connecting by name resolves it again for each connection, on a dispatch
        // thread that takes the loop's core, through a happy-eyeballs race.
        (address.map { bootstrap.connect(to: $0) } ?? bootstrap.connect(host: host, port: port))
            .assumeIsolated()
            .whenComplete { [self] result in
                connecting -= 1
                switch result {
                case .success:
                    // Sent unless the sweep gave up on it meanwhile.
                    if let due = connection.pending {
                        connection.pending = nil
                        connection.send(request, due: due)
                    } else {
                        release(connection)
                    }
                case .failure(let error):
                    connections.removeValue(forKey: ObjectIdentifier(connection))
                    if let due = connection.pending {
                        connection.pending = nil
                        let kind = ClientSimulator.classify(error)
                        finished(kind, instance: nil, due: due, measured: kind == .timeout)
                    }
                    // Those waiting try a connection of their own (and fail alike when nothing listens).
                    if let due = waiting.popFirst() { connect(due: due) }
                }
            }
    }

    /// A request ended: recorded, and its connection back to the idle ones when it can go on.
    func completed(_ connection: LoadConnection, error: ErrorKind?, instance: String?, due: NIODeadline, reusable: Bool) {
        if reusable {
            release(connection)
        } else {
            forget(connection)
            connection.close()
            if let due = waiting.popFirst() { connect(due: due) }
        }
        finished(error, instance: instance, due: due, measured: true)
    }

    /// A connection broke (or the server closed it) with a request on it, or while idle.
    func failed(_ connection: LoadConnection, error: ErrorKind, due: NIODeadline?) {
        forget(connection)
        if let due { finished(error, instance: nil, due: due, measured: error == .timeout) }
        if let waited = waiting.popFirst() { connect(due: waited) }
    }

    private func forget(_ connection: LoadConnection) {
        connections.removeValue(forKey: ObjectIdentifier(connection))
        if let index = idle.firstIndex(where: { $0 === connection }) { idle.remove(at: index) }
    }

    private func finished(_ error: ErrorKind?, instance: String?, due: NIODeadline, measured: Bool) {
        inFlight -= 1
        let latency = measured ? UInt64(max(0, (NIODeadline.now() - due).nanoseconds / 1000)) : nil
        record(error, instance, latency)
        if inFlight == 0, let promise = whenDrained {
            whenDrained = nil
            promise.succeed()
        }
    }

    /// Requests older than the time-out (a connect, or an answer, that did not come) end as
    /// time-outs; their connections close.
    private func expire() {
        let limit = NIODeadline.now() - timeout
        while let due = waiting.first, due < limit {
            waiting.removeFirst()
            finished(.timeout, instance: nil, due: due, measured: true)
        }
        for connection in Array(connections.values) {
            if let due = connection.pending ?? connection.due, due < limit {
                connection.pending = nil
                connection.due = nil
                forget(connection)
                connection.close()
                finished(.timeout, instance: nil, due: due, measured: true)
            }
        }
    }
}
