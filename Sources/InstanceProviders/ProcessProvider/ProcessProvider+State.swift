import AutoscalerAPI
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The state directory: records, port files, logs and the lock. All blocking; run on the executor.
extension ProcessProvider {
    func recordPath(of name: String) -> String { "\(instancesDirectory)/\(name).json" }
    func portFilePath(of name: String) -> String { "\(instancesDirectory)/\(name).port" }
    func logPath(of name: String) -> String { "\(instancesDirectory)/\(name).log" }

    func records() throws -> [ProcessRecord] {
        let files = try FileManager.default.contentsOfDirectory(atPath: instancesDirectory).filter { $0.hasSuffix(".json") }
        return files.sorted().compactMap { file in
            guard let data = FileManager.default.contents(atPath: "\(instancesDirectory)/\(file)") else { return nil }
            do {
                return try JSONDecoder.iso8601.decode(ProcessRecord.self, from: data)
            } catch {
                logger.warning("ignoring unreadable instance record", metadata: ["file": "\(file)", "error": "\(error)"])
                return nil
            }
        }
    }

    func record(named name: String) throws -> ProcessRecord {
        guard let data = FileManager.default.contents(atPath: recordPath(of: name)) else { throw AutoscalerError.notFound(name) }
        return try JSONDecoder.iso8601.decode(ProcessRecord.self, from: data)
    }

    /// Writes a record atomically, so a reader never sees half of it.
    func write(_ record: ProcessRecord) throws {
        let data = try JSONEncoder.iso8601.encode(record)
        try data.write(to: URL(fileURLWithPath: recordPath(of: record.name)), options: .atomic)
    }

    func removeFiles(of name: String) {
        for path in [recordPath(of: name), portFilePath(of: name)] {
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// Spawns the `webserver` for `name` and records it (without a port yet), under the lock.
    func spawn(name: String, warm: WarmState?) throws -> ProcessRecord {
        try? FileManager.default.removeItem(atPath: portFilePath(of: name))
        let arguments =
            ["--host", configuration.host, "--port", "0", "--name", name, "--port-file", portFilePath(of: name)]
            + configuration.extraArguments
        let pid = try ChildProcess.spawnDetached(path: configuration.webserverPath, arguments: arguments, logPath: logPath(of: name))
        let record = ProcessRecord(
            name: name, pid: pid, startTime: ChildProcess.startTime(of: pid), host: configuration.host, port: nil, createdAt: Date(),
            warm: warm)
        try write(record)
        return record
    }

    /// Waits until the child wrote the port it bound; fails when it exits first or takes too long.
    func waitForPort(of record: ProcessRecord) async throws -> Int {
        let clock = ContinuousClock()
        let deadline = clock.now + configuration.startTimeout
        let path = portFilePath(of: record.name)
        while clock.now < deadline {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
                let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                return port
            }
            guard ChildProcess.isAlive(record.pid, startTime: record.startTime) else {
                let log = (try? String(contentsOfFile: logPath(of: record.name), encoding: .utf8)) ?? ""
                let lastLine = log.split(separator: "\n").last.map(String.init) ?? "no output"
                throw AutoscalerError.provider("webserver for \(record.name) exited at start: \(lastLine)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw AutoscalerError.timeout(instance: record.name, seconds: Int(configuration.startTimeout.seconds.rounded(.up)))
    }

    /// Runs `body` holding an exclusive `flock` on the state directory, across processes.
    func withStateLock<T>(_ body: () throws -> T) throws -> T {
        let fd = open(instancesDirectory + "/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AutoscalerError.provider("cannot open lock in \(instancesDirectory): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw AutoscalerError.provider("cannot lock \(instancesDirectory)") }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }
}

extension JSONEncoder {
    static let iso8601: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
}

extension JSONDecoder {
    static let iso8601: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
