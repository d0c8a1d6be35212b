import AutoscalerAPI
import AutoscalerClient
import Foundation
import BlockingIO
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Instances that are local `webserver` processes: the autoscaler without a hypervisor.
///
/// Each instance is a detached child on a loopback port the kernel picked, written down in
/// `<state>/instances/<name>.json` so that any later process adopts it. A lock file serializes
/// creates across processes, so two of them never take the same name.
public final class ProcessProvider: InstanceProvider {
    public let configuration: Configuration
    let executor: BlockingExecutor
    let probe: HTTPProbe
    let logger: Logger

    public var summary: String { "process \(configuration.stateDirectory) (\(configuration.webserverPath))" }

    var instancesDirectory: String { configuration.stateDirectory + "/instances" }

    public init(
        configuration: Configuration = Configuration(), executor: BlockingExecutor = .shared,
        probe: HTTPProbe = HTTPProbe(path: "/healthz"), logger: Logger = Logger(label: "autoscaler.process")
    ) throws {
        self.configuration = configuration
        self.executor = executor
        self.probe = probe
        self.logger = logger
        do {
            try FileManager.default.createDirectory(atPath: configuration.stateDirectory + "/instances", withIntermediateDirectories: true)
        } catch {
            throw AutoscalerError.provider("cannot create state directory \(configuration.stateDirectory): \(error.localizedDescription)")
        }
    }

    public func instances() async throws -> [Instance] {
        try await executor.run { [self] in try records().map(instance(of:)) }
    }

    public func cpuTimes() async throws -> [String: CPUTime] {
        try await executor.run { [self] in
            var times: [String: CPUTime] = [:]
            for record in try records() where ChildProcess.isAlive(record.pid, startTime: record.startTime) {
                if let used = ChildProcess.cpuTime(of: record.pid) { times[record.name] = CPUTime(used: used, cpus: 1) }
            }
            return times
        }
    }

    func instance(of record: ProcessRecord) -> Instance {
        let alive = ChildProcess.isAlive(record.pid, startTime: record.startTime)
        // A record without a port: whoever made it died before writing the port the child bound
        // (a killed scheduler); the child's own port file still says it.
        let port = record.port ?? (try? String(contentsOfFile: portFilePath(of: record.name), encoding: .utf8)).flatMap {
            Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return Instance(
            name: record.name,
            endpoint: port.map { Endpoint(host: record.host, port: $0) },
            state: alive ? (ChildProcess.isStopped(record.pid) ? .paused : .running) : .stopped,
            origin: .created,
            createdAt: record.createdAt,
            warm: record.warm,
            held: record.warm != nil && record.held == true)
    }

    public func create(name: String?, warm: WarmState?) async throws -> Instance {
        if let name, !InstanceNaming.isValid(name) { throw AutoscalerError.invalidName(name) }
        guard FileManager.default.isExecutableFile(atPath: configuration.webserverPath) else {
            throw AutoscalerError.provider(
                "webserver executable not found at \(configuration.webserverPath); build it (`swift build`) or pass --webserver-path")
        }
        // Reserve the name and spawn under the lock; waiting for the port happens outside it.
        var record = try await executor.run { [self] in
            try withStateLock {
                let taken = try records().map(\.name)
                let chosen = name ?? configuration.naming.nextName(notIn: taken)
                if taken.contains(chosen) { throw AutoscalerError.nameTaken(chosen) }
                return try spawn(name: chosen, warm: warm)
            }
        }
        do {
            record.port = try await waitForPort(of: record)
            let finished = record
            try await executor.run { [self] in try write(finished) }
        } catch {
            let failed = record
            try? await executor.run { [self] in
                ChildProcess.terminate(failed.pid, startTime: failed.startTime, timeout: .seconds(1))
                removeFiles(of: failed.name)
            }
            throw error
        }
        logger.info("started", metadata: ["instance": "\(record.name)", "pid": "\(record.pid)", "port": "\(record.port ?? 0)"])
        return instance(of: record)
    }

    public func waitUntilServing(_ instance: Instance, timeout: Duration) async throws {
        try await pollUntilServing(instance, timeout: timeout, probe: probe) {
            AutoscalerError.provider("\($0.name) exited; see \(logPath(of: $0.name))")
        }
    }

    public func stop(name: String, timeout: Duration) async throws {
        try await executor.run { [self] in
            let record = try self.record(named: name)
            ChildProcess.terminate(record.pid, startTime: record.startTime, timeout: timeout)
        }
    }

    public func delete(name: String) async throws {
        try await stop(name: name, timeout: .seconds(5))
        try await executor.run { [self] in removeFiles(of: name) }
        logger.info("deleted", metadata: ["instance": "\(name)"])
    }
}
