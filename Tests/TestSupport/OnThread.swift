import Foundation

/// Runs blocking code (raw sockets with timeouts) on a thread of its own, so that it does not hold
/// one of the cooperative pool's threads (two on a 2-core machine) while it waits.
public func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
