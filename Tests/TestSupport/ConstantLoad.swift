import ClientSimulator
import Logging

/// Real traffic for tests: the client simulator at a constant rate against 127.0.0.1.
public enum ConstantLoad {
    /// `rate` requests per second to `port` for `seconds`, with `?work=` and a concurrency cap;
    /// returns what the clients saw.
    public static func run(
        port: Int, path: String = "/", rate: Double, seconds: Double, work: Int? = nil, concurrency: Int = 256
    ) async throws -> LoadReport {
        var configuration = ClientSimulator.Configuration()
        configuration.target = .init(host: "127.0.0.1", port: port, path: path)
        configuration.pattern = .constant(rate: rate)
        configuration.duration = seconds
        configuration.workMilliseconds = work
        configuration.concurrency = concurrency
        let simulator = ClientSimulator(configuration: configuration, logger: Logger(label: "clientsim"))
        try await simulator.run()
        return simulator.report
    }
}
