import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Spawning, probing and signalling detached child processes (POSIX, Linux `/proc`).
enum ChildProcess {
    /// glibc's `POSIX_SPAWN_SETSID` (since 2.26), which Swift does not see: it hides behind `_GNU_SOURCE`.
    static let spawnSetSID: Int32 = 0x80

    /// Starts `path` with `arguments` in a session of its own, so that a Ctrl-C meant for the parent
    /// does not reach it, with default signal handling whatever the parent ignores, stdin from
    /// `/dev/null` and stdout/stderr appended to `logPath`.
    static func spawnDetached(path: String, arguments: [String], logPath: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(spawnSetSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
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

    /// Whether the process that was `pid` at `startTime` still runs. Reaps it when it is our child.
    static func isAlive(_ pid: pid_t, startTime: UInt64?) -> Bool {
        var status: Int32 = 0
        _ = waitpid(pid, &status, WNOHANG)
        guard let current = self.startTime(of: pid) else { return false }
        return startTime == nil || current == startTime
    }

    /// Sends SIGTERM, waits up to `timeout` for the process to end, then SIGKILLs it.
    static func terminate(_ pid: pid_t, startTime: UInt64?, timeout: Duration) async throws {
        guard isAlive(pid, startTime: startTime) else { return }
        kill(pid, SIGTERM)
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if !isAlive(pid, startTime: startTime) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(pid, SIGKILL)
        for _ in 0..<250 where isAlive(pid, startTime: startTime) {
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
