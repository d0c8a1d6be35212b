import Foundation
import Logging
import ServiceLifecycle

/// Runs `services` in one `ServiceGroup` while `body` runs, then shuts them down gracefully and
/// waits for them, also when `body` throws: the scaffold of every test with a service in it.
public func withRunningServices<T: Sendable>(
    _ services: [any Service], _ body: () async throws -> T
) async throws -> T {
    try await withRunningServices(services) { (_: ServiceGroup) in try await body() }
}

/// The same, giving `body` the group (to start its graceful shutdown while work is in flight).
public func withRunningServices<T: Sendable>(
    _ services: [any Service], _ body: (ServiceGroup) async throws -> T
) async throws -> T {
    let group = ServiceGroup(services: services, logger: Logger(label: "test"))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let result: T
        do {
            result = try await body(group)
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return result
    }
}

/// Polls `condition` every 100 ms (or `every`) until it holds; throws after `seconds`. The one
/// way tests wait for something to happen: never a loop without a bound.
public func waitUntil(
    _ seconds: Double, _ what: String, every interval: Duration = .milliseconds(100), _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: interval)
    }
    if try await condition() { return }
    throw HarnessError(description: "timed out after \(seconds) s waiting for \(what)")
}

/// The port a server wrote to `path` once listening (`--port-file`), waited for up to `seconds`.
public func portWritten(to path: String, within seconds: Double = 5) async throws -> Int {
    var port: Int?
    try await waitUntil(seconds, "a port in \(path)", every: .milliseconds(10)) {
        port = (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        return port != nil
    }
    return port!
}
