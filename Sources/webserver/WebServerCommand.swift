import ArgumentParser
import AutoscalerCLI
import Foundation
import Logging
import ServiceLifecycle
import WebServer

@main
struct WebServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webserver",
        abstract: "The web app an instance runs: GET / answers with the instance name.",
        discussion: """
            GET /            the instance name (also in the X-Instance header)
            GET /?work=MS    the same after spending MS milliseconds of CPU, so one instance has a limited capacity
            GET /healthz     {"status":"ok"} for health checks
            """)

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on; 0 picks a free one (see --port-file).") var port = 8000
    @Option(help: "Instance name to answer with (default: the host name).") var name: String?
    @Option(help: "Event-loop threads; 1 behaves like a one-vCPU VM.") var threads = 1
    @Option(help: "Write the bound port to this file once listening.") var portFile: String?
    @Option(help: "Seconds after it starts during which it answers 503, like an application still booting (default 0).")
    var readyAfter: Double = 0
    @OptionGroup var loggingOptions: LoggingOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be 1 to 256") }
        guard readyAfter >= 0, readyAfter <= 3600 else { throw ValidationError("--ready-after must be 0 to 3600 seconds") }
    }

    func run() async throws {
        let logger = loggingOptions.bootstrap(label: "webserver")
        var configuration = WebServer.Configuration(
            host: host, port: port, name: name ?? ProcessInfo.processInfo.hostName, threads: threads, portFile: portFile)
        configuration.readyAfter = .milliseconds(Int64(readyAfter * 1000))
        let server = WebServer(configuration: configuration, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
