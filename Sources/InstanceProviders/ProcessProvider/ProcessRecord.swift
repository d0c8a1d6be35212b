import Foundation

/// What the process provider writes down about one `webserver` child, so that a later process
/// (another `scale-down`, a restarted scheduler) adopts it.
struct ProcessRecord: Codable, Sendable, Hashable {
    var name: String
    var pid: Int32
    /// The process start time from `/proc/<pid>/stat`, to tell our process from a reused PID.
    var startTime: UInt64?
    var host: String
    var port: Int?
    var createdAt: Date
    /// Set while it is a warm-pool member (always `paused`: SIGSTOP), and once it is stopped.
    var warm: WarmState?
    var held: Bool?
}
