import Synchronization

/// A call to a host that may hang rather than fail: its result if it comes within a time limit.
///
/// A libvirt call cannot be interrupted, so one to a daemon that stopped answering would hold up
/// everything awaiting it (the scheduler's tick, the API) until keepalive ends it, some 20 s
/// later. Here the caller goes on after the limit; the call runs to its end in a task of its
/// own and its result is dropped.
enum LateCall {
    /// The value of `operation`, or nil when it has not finished after `limit`.
    static func value<T: Sendable>(within limit: Duration, _ operation: @escaping @Sendable () async -> T) async -> T? {
        await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
            let once = Once(continuation)
            let timer = Task {
                do { try await Task.sleep(for: limit) } catch { return }  // cancelled: the value came
                once.resume(with: nil)
            }
            Task {
                let value = await operation()
                once.resume(with: value)
                timer.cancel()
            }
        }
    }

    /// Resumes the continuation with whichever comes first, the value or the time limit.
    private final class Once<T: Sendable>: Sendable {
        private let continuation: Mutex<CheckedContinuation<T?, Never>?>

        init(_ continuation: CheckedContinuation<T?, Never>) {
            self.continuation = Mutex(continuation)
        }

        func resume(with value: T?) {
            continuation.withLock { $0.take() }?.resume(returning: value)
        }
    }
}
