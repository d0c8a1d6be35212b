import Foundation
import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The web app an instance runs: names itself on `GET /`, answers `/healthz`, burns `?work=MS` of CPU.
///
/// A `Service`: it listens until graceful shutdown, then stops accepting, lets open requests finish
/// and closes idle keep-alive connections (NIOExtras' quiescing helper).
public final class WebServer: Service {
    public let configuration: Configuration
    let logger: Logger
    let group: MultiThreadedEventLoopGroup

    public init(configuration: Configuration, logger: Logger = Logger(label: "webserver")) {
        self.configuration = configuration
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.threads))
    }

    public func run() async throws {
        defer { group.shutdownGracefully { _ in } }
        let quiesce = ServerQuiescingHelper(group: group)
        var responder = WebServerHandler.Responder(name: configuration.name, maxWorkMilliseconds: configuration.maxWorkMilliseconds)
        let (seconds, attoseconds) = configuration.readyAfter.components
        responder.readyAt = .now() + .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(WebServerHandler(responder: responder))
                }
            }
            .bind(host: configuration.host, port: configuration.port).get()
        let port = channel.localAddress?.port ?? configuration.port
        if let portFile = configuration.portFile {
            try "\(port)\n".write(toFile: portFile, atomically: true, encoding: .utf8)
        }
        logger.info("serving", metadata: ["instance": "\(configuration.name)", "address": "\(configuration.host):\(port)"])

        let finished = group.next().makePromise(of: Void.self)
        try await withGracefulShutdownHandler {
            try await channel.closeFuture.get()
            try await finished.futureResult.get()
        } onGracefulShutdown: { [logger] in
            logger.info("shutting down: finishing open requests")
            quiesce.initiateShutdown(promise: finished)
        }
        logger.info("stopped")
    }
}
