import NIOCore

/// A deadline checked by at most one scheduled task, rescheduled lazily.
///
/// Moving a deadline (every request, on a busy keep-alive connection) only stores a time: the
/// scheduled task, when it fires early, re-arms itself for the current deadline. That keeps timer
/// heap work off the per-request path. Confined to one event loop.
struct DeadlineTimer {
    private(set) var deadline: NIODeadline?
    private var scheduled: Scheduled<Void>?
    private var scheduledAt: NIODeadline?

    /// Sets (or clears, with nil) the deadline; `fire` runs on `loop` once it has passed.
    mutating func set(_ deadline: NIODeadline?, on loop: any EventLoop, fire: @escaping () -> Void) {
        self.deadline = deadline
        guard let deadline else { return }
        if let scheduledAt, scheduledAt <= deadline { return }
        scheduled?.cancel()
        scheduledAt = deadline
        scheduled = loop.scheduleTask(deadline: deadline, fire)
    }

    /// Called by `fire`: true when the deadline really passed; otherwise re-arms for it.
    mutating func hasPassed(on loop: any EventLoop, fire: @escaping () -> Void) -> Bool {
        scheduled = nil
        scheduledAt = nil
        guard let deadline else { return false }
        if deadline <= .now() {
            self.deadline = nil
            return true
        }
        set(deadline, on: loop, fire: fire)
        return false
    }

    mutating func cancel() {
        scheduled?.cancel()
        scheduled = nil
        scheduledAt = nil
        deadline = nil
    }
}
