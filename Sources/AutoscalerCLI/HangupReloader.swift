import ServiceLifecycle
import UnixSignals

/// Runs `reload` on each SIGHUP, one at a time, as daemons do (`systemctl reload` sends it): the
/// commands re-read their config file there. A `Service` of the command's group, so that it stops
/// with the others; SIGHUP no longer ends the process once it runs.
public struct HangupReloader: Service {
    let reload: @Sendable () async -> Void

    public init(reload: @escaping @Sendable () async -> Void) {
        self.reload = reload
    }

    public func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        // A signal that arrives while a reload runs waits for it: reloads never overlap.
        for await _ in hangups.cancelOnGracefulShutdown() {
            await reload()
        }
    }
}
