import AutoscalerAPI
import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension ProcessProvider {
    /// Stops the process with SIGSTOP, recorded as `paused` whatever was asked (a process has
    /// nothing like a save image).
    public func hold(name: String, as state: WarmState) async throws {
        try await executor.run { [self] in
            try withStateLock {
                var record = try record(named: name)
                guard ChildProcess.isAlive(record.pid, startTime: record.startTime) else {
                    throw AutoscalerError.provider("\(name) is not running")
                }
                record.warm = .paused
                record.held = false
                try write(record)
                kill(record.pid, SIGSTOP)
                // The signal is delivered asynchronously: wait until the process is seen stopped,
                // so that whoever lists it next sees a held member, not a running one.
                for _ in 0..<200 where !ChildProcess.isStopped(record.pid) { usleep(5_000) }
                guard ChildProcess.isStopped(record.pid) else { throw AutoscalerError.provider("\(name) did not stop on SIGSTOP") }
                record.held = true
                try write(record)
            }
            logger.info("held in the warm pool", metadata: ["instance": "\(name)", "state": "stopped (SIGSTOP)"])
        }
    }

    public func release(name: String) async throws -> Instance {
        try await executor.run { [self] in
            try withStateLock {
                var record = try record(named: name)
                guard ChildProcess.isAlive(record.pid, startTime: record.startTime) else {
                    throw AutoscalerError.provider("\(name) is not running; see \(logPath(of: name))")
                }
                kill(record.pid, SIGCONT)
                record.warm = nil
                record.held = nil
                try write(record)
                logger.info("released from the warm pool", metadata: ["instance": "\(name)"])
                return instance(of: record)
            }
        }
    }
}
