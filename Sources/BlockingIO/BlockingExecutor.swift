import Dispatch

/// Runs blocking calls (libvirt RPCs) on threads of its own, off event loops and the cooperative pool.
///
/// A libvirt call can block for seconds (starting a domain, a slow daemon); running it on Swift's
/// cooperative pool would starve every other task. Calls run on a private concurrent queue, so a
/// slow call does not hold up the others.
public final class BlockingExecutor: Sendable {
    private let queue: DispatchQueue

    /// - Parameter label: names the queue in stack traces and debuggers.
    public init(label: String = "autoscaler.libvirt") {
        self.queue = DispatchQueue(label: label, qos: .userInitiated, attributes: .concurrent)
    }

    /// Runs `body` on the executor's queue and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// The process-wide executor for libvirt calls.
    public static let shared = BlockingExecutor()
}
