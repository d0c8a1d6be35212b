import NIOCore

/// A deadline checked by at most one scheduled task, rescheduled lazily.
///
/// Moving a deadline (every request, on a busy keep-alive connection) only stores a time: the
/// scheduled task, when it fires early, re-arms itself for the current deadline. That keeps timer
/// heap work, and any allocation, off the per-request path. Confined to one event loop.
struct DeadlineTimer {
    private(set) var deadline: NIODeadline?
    private var scheduled: Scheduled<Void>?
    private var scheduledAt: NIODeadline?
    /// What runs once the deadline passed; set once by the owner (a closure made per request
    /// would be an allocation per request).
    var fire: () -> Void = {}

    /// Sets the deadline; ``fire`` runs on `loop` once it has passed.
    mutating func set(_ deadline: NIODeadline, on loop: any EventLoop) {
        self.deadline = deadline
        if let scheduledAt, scheduledAt <= deadline { return }
        scheduled?.cancel()
        scheduledAt = deadline
        scheduled = loop.scheduleTask(deadline: deadline, fire)
    }

    /// Forgets the deadline; a task already scheduled finds nothing to do when it runs.
    mutating func clear() {
        deadline = nil
    }

    /// Called by ``fire``: true when the deadline really passed; otherwise re-arms for it.
    mutating func hasPassed(on loop: any EventLoop) -> Bool {
        scheduled = nil
        scheduledAt = nil
        guard let deadline else { return false }
        if deadline <= .now() {
            self.deadline = nil
            return true
        }
        set(deadline, on: loop)
        return false
    }

    mutating func cancel() {
        scheduled?.cancel()
        scheduled = nil
        scheduledAt = nil
        deadline = nil
    }
}
