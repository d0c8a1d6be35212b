import AutoscalerAPI
import CProcessSpawn
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Spawning, probing and signalling detached child processes (POSIX, Linux `/proc`).
package enum ChildProcess {

    /// Starts `path` with `arguments` detached (see `autoscaler_spawn_detached`): its own session, default
    /// signal handling, stdin from `/dev/null`, output appended to `logPath`, no inherited descriptors.
    static func spawnDetached(path: String, arguments: [String], logPath: String) throws -> pid_t {
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = autoscaler_spawn_detached(path, argv, environ, logPath, &pid)
        guard result == 0 else {
            throw AutoscalerError.provider("cannot start \(path): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// The start time (clock ticks since boot) of `pid`, or nil when it does not exist or is a zombie.
    static func startTime(of pid: pid_t) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let closing = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after "(comm)": state is field 3, starttime field 22.
        let fields = stat[stat.index(after: closing)...].split(separator: " ")
        guard fields.count > 19, fields[0] != "Z", fields[0] != "X" else { return nil }
        return UInt64(fields[19])
    }

    /// The CPU time `pid` has used, user and system (fields 14 and 15 of `/proc/<pid>/stat`, in
    /// clock ticks), or nil when it does not exist. What the `cpu` scaling metric reads of a
    /// process instance, as libvirt's `cpu.time` of a VM.
    package static func cpuTime(of pid: pid_t) -> Duration? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let closing = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: closing)...].split(separator: " ")
        guard fields.count > 12, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { return nil }
        let ticksPerSecond = max(1, UInt64(sysconf(Int32(_SC_CLK_TCK))))
        return .nanoseconds(Int64((user + system) * (1_000_000_000 / ticksPerSecond)))
    }

    /// Whether `pid` is stopped by a signal (SIGSTOP): state `T` in `/proc/<pid>/stat`.
    static func isStopped(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let closing = stat.lastIndex(of: ")") else {
            return false
        }
        return stat[stat.index(after: closing)...].split(separator: " ").first == "T"
    }

    /// Whether the process that was `pid` at `startTime` still runs. Reaps it when it is our child.
    static func isAlive(_ pid: pid_t, startTime: UInt64?) -> Bool {
        var status: Int32 = 0
        _ = waitpid(pid, &status, WNOHANG)
        guard let current = self.startTime(of: pid) else { return false }
        return startTime == nil || current == startTime
    }

    /// Sends SIGTERM, waits up to `timeout` for the process to end, then SIGKILLs it. Blocking.
    ///
    /// Blocking on purpose (run it on a `BlockingExecutor`): it is also the clean-up of a cancelled
    /// task, where `Task.sleep` would throw at once and leave the process running.
    static func terminate(_ pid: pid_t, startTime: UInt64?, timeout: Duration) {
        guard isAlive(pid, startTime: startTime) else { return }
        kill(pid, SIGTERM)
        // A stopped (warm) process acts on SIGTERM only once continued.
        kill(pid, SIGCONT)
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if !isAlive(pid, startTime: startTime) { return }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        for _ in 0..<500 where isAlive(pid, startTime: startTime) {
            usleep(10_000)
        }
    }
}
