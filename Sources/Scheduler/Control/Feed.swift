import Synchronization

/// Samples and events as they happen, for any number of listeners (the dashboard's stream).
/// A slow listener loses the oldest items rather than holding the scheduler up.
public final class Feed: Sendable {
    public enum Item: Sendable {
        case sample(Sample)
        case event(ScalingEvent)
    }

    private let listeners = Mutex<[Int: AsyncStream<Item>.Continuation]>([:])
    private let nextID = Atomic<Int>(0)

    public init() {}

    func publish(_ item: Item) {
        for continuation in listeners.withLock({ Array($0.values) }) { continuation.yield(item) }
    }

    /// A stream of what happens from now on, and a way to end it (graceful shutdown).
    public func subscribe() -> (AsyncStream<Item>, @Sendable () -> Void) {
        let id = nextID.add(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream.makeStream(of: Item.self, bufferingPolicy: .bufferingNewest(256))
        continuation.onTermination = { [weak self] _ in
            _ = self?.listeners.withLock { $0.removeValue(forKey: id) }
        }
        listeners.withLock { $0[id] = continuation }
        return (stream, { continuation.finish() })
    }
}
