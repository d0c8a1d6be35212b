import NIOCore

/// Sends the arrival schedule's requests at their due times on the client's event loop: each
/// tick sends what is due and sets a timer for the next one. The schedule does not wait for
/// answers (open loop); latency counts from the due time (no coordinated omission, as in wrk2).
///
/// Ticks are at least ``batch`` apart: a request due sooner than that after a tick waits for the
/// next one, as wrk2's do for its 1 ms timer. Its latency counts from the tick's planned time,
/// not its due time: the wait is the client's choice, not the server's doing. A tick that runs
/// late (a busy loop) still counts its lateness. Confined to the event loop.
final class OpenLoop {
    let client: LoadClient
    let start: NIODeadline
    let isStopping: () -> Bool
    private var arrivals: ArrivalSchedule
    private let scheduled: (_ sent: Bool) -> Void
    /// The next due time, taken from the schedule but not yet reached.
    private var next: NIODeadline?
    private let done: EventLoopPromise<Void>
    /// When the running tick was meant to run.
    private var planned: NIODeadline
    /// The shortest time between two ticks. Against nginx on loopback, 500 µs cut the CPU per
    /// request from 14 to 10 µs (fewer wake-ups of this loop and of the server) but lowered the
    /// rate kept without skipping from 55,000 to 45,000 req/s: bursts recover worse from a
    /// stall of the machine (2–4 ms here).
    static let batch = TimeAmount.microseconds(100)

    /// `scheduled` hears of each due request, sent or skipped at the cap.
    init(client: LoadClient, arrivals: ArrivalSchedule, start: NIODeadline, isStopping: @escaping () -> Bool, scheduled: @escaping (Bool) -> Void) {
        self.client = client
        self.arrivals = arrivals
        self.start = start
        self.isStopping = isStopping
        self.scheduled = scheduled
        planned = start
        done = client.loop.makePromise()
    }

    /// Runs the schedule; completes when it ran out or stopping was asked, and nothing is in
    /// flight any more.
    func run() -> EventLoopFuture<Void> {
        tick()
        return done.futureResult.assumeIsolated().flatMap { [client] in client.drained() }.nonisolated()
    }

    private func tick() {
        let now = NIODeadline.now()
        while !isStopping() {
            let due: NIODeadline
            if let next {
                due = next
            } else if let offset = arrivals.next() {
                due = start + .nanoseconds(Int64(offset * 1_000_000_000))
            } else {
                break
            }
            guard due <= now else {
                next = due
                // Checked again within 100 ms, so that a stop is seen at once in a quiet spell;
                // and not sooner than `batch` after this tick: at high rates a wake-up sends a
                // few requests rather than one (each wake-up of a sleeping loop costs more than
                // a request; the wait counts in their latency, which runs from the due time).
                let wake = min(max(due, now + Self.batch), now + .milliseconds(100))
                planned = wake
                client.loop.assumeIsolated().scheduleTask(deadline: wake) { [self] in tick() }
                return
            }
            next = nil
            scheduled(client.send(due: max(due, planned)))
        }
        done.succeed()
    }
}
