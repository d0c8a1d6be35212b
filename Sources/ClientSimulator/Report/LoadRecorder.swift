import Histogram
import Synchronization

/// Collects results from concurrent requests: counts, errors by kind, instances, and latencies in
/// two HDR histograms (the whole run, and the interval since the last status line).
public final class LoadRecorder: Sendable {
    private struct State {
        var scheduled = 0
        var sent = 0
        var ok = 0
        var skippedAtCap = 0
        var errors: [ErrorKind: Int] = [:]
        var instances: [String: Int] = [:]
        var total = LoadRecorder.makeHistogram()
        var interval = LoadRecorder.makeHistogram()
        var intervalAnswers = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Microseconds from 1 µs to 10 minutes, 3 significant digits.
    static func makeHistogram() -> Histogram<UInt64> {
        Histogram(lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
    }

    func scheduledRequest(sent: Bool) {
        state.withLock {
            $0.scheduled += 1
            if sent { $0.sent += 1 } else { $0.skippedAtCap += 1 }
        }
    }

    /// An answer or a failure; `latency` from the scheduled time (answers and timeouts only).
    func finished(error: ErrorKind?, instance: String?, latencyMicroseconds: UInt64?) {
        state.withLock {
            if let error {
                $0.errors[error, default: 0] += 1
            } else {
                $0.ok += 1
                if let instance { $0.instances[instance, default: 0] += 1 }
            }
            if let latency = latencyMicroseconds {
                let clamped = min(max(latency, 1), 600_000_000)
                _ = $0.total.record(clamped)
                _ = $0.interval.record(clamped)
                $0.intervalAnswers += 1
            }
        }
    }

    /// Figures for a status line; resets the interval.
    func takeInterval() -> StatusFigures {
        state.withLock {
            let figures = StatusFigures(
                sent: $0.sent, ok: $0.ok, errors: $0.errors, skippedAtCap: $0.skippedAtCap, intervalAnswers: $0.intervalAnswers,
                p50Milliseconds: $0.interval.totalCount > 0 ? Double($0.interval.valueAtPercentile(50)) / 1000 : nil,
                p99Milliseconds: $0.interval.totalCount > 0 ? Double($0.interval.valueAtPercentile(99)) / 1000 : nil)
            $0.interval.reset()
            $0.intervalAnswers = 0
            return figures
        }
    }

    func report(target: String, pattern: String, seconds: Double) -> LoadReport {
        state.withLock {
            let h = $0.total
            func ms(_ value: UInt64) -> Double { h.totalCount > 0 ? Double(value) / 1000 : 0 }
            return LoadReport(
                target: target, pattern: pattern, seconds: seconds, scheduled: $0.scheduled, sent: $0.sent, ok: $0.ok,
                errors: $0.errors, skippedAtCap: $0.skippedAtCap,
                achievedRate: seconds > 0 ? Double($0.sent) / seconds : 0,
                latencyMilliseconds: .init(
                    p50: ms(h.valueAtPercentile(50)), p90: ms(h.valueAtPercentile(90)), p99: ms(h.valueAtPercentile(99)),
                    p999: ms(h.valueAtPercentile(99.9)), max: ms(h.max), mean: h.totalCount > 0 ? h.mean / 1000 : 0),
                instances: $0.instances)
        }
    }
}

/// What a live status line shows.
public struct StatusFigures: Sendable {
    public var sent: Int
    public var ok: Int
    public var errors: [ErrorKind: Int]
    public var skippedAtCap: Int
    public var intervalAnswers: Int
    public var p50Milliseconds: Double?
    public var p99Milliseconds: Double?
}
