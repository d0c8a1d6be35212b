import Foundation

/// One row of a trace: from `seconds` on, requests arrive at `rate` per second.
public struct TracePoint: Sendable, Equatable {
    public var seconds: Double
    public var rate: Double

    public init(seconds: Double, rate: Double) {
        self.seconds = seconds
        self.rate = rate
    }
}

/// A request-rate trace: rows of `seconds,rate` (a header line and `#` comments allowed), each
/// rate holding until the next row. Replayed live by `clientsim trace` and offline by
/// `scheduler simulate`.
public struct Trace: Sendable, Equatable {
    /// At least one, with increasing times.
    public let points: [TracePoint]

    /// A trace that cannot be read, with the line that says why.
    public struct FormatError: Error, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }

        public init(_ message: String) {
            self.message = message
        }
    }

    /// The largest time a row may have (seconds; room for epoch times).
    public static let maximumSeconds = 1e10
    /// The largest rate a row may have (requests per second).
    public static let maximumRate = 1e9

    /// `points` must be non-empty with increasing times (``parse(_:)`` checks both).
    public init(points: [TracePoint]) {
        precondition(!points.isEmpty, "a trace has at least one row")
        self.points = points
    }

    /// Reads `seconds,rate` rows; an error names the line.
    public static func parse(_ text: String) throws(FormatError) -> Trace {
        var points: [TracePoint] = []
        var headerSeen = false
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 2, let seconds = Double(fields[0]), let rate = Double(fields[1]) else {
                if points.isEmpty && !headerSeen && fields.count == 2 && Double(fields[0]) == nil {  // a header, once, before the rows
                    headerSeen = true
                    continue
                }
                throw FormatError("trace line \(index + 1): expected 'seconds,rate', got '\(line)'")
            }
            guard seconds >= 0, rate >= 0, seconds.isFinite, rate.isFinite else {
                throw FormatError("trace line \(index + 1): seconds and rate must be numbers ≥ 0")
            }
            // Bounds far beyond any real trace (Wikipedia's busiest: ~10^5 req/s; epoch times:
            // ~2·10^9 s), so that counts and tick numbers derived from them stay within Int.
            guard seconds <= Self.maximumSeconds, rate <= Self.maximumRate else {
                throw FormatError("trace line \(index + 1): seconds must be ≤ 10^10 and rate ≤ 10^9 requests per second")
            }
            if let last = points.last, seconds <= last.seconds {
                throw FormatError("trace line \(index + 1): seconds must increase (\(seconds) after \(last.seconds))")
            }
            points.append(TracePoint(seconds: seconds, rate: rate))
        }
        guard !points.isEmpty else { throw FormatError("trace has no rows") }
        return Trace(points: points)
    }

    /// The rate at `t`: the last row at or before it; 0 before the first.
    public func rate(at t: Double) -> Double {
        guard let index = indexOfRow(at: t) else { return 0 }
        return points[index].rate
    }

    /// The index of the last row at or before `t` (binary search).
    public func indexOfRow(at t: Double) -> Int? {
        var low = 0
        var high = points.count
        while low < high {
            let middle = (low + high) / 2
            if points[middle].seconds <= t { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? nil : low - 1
    }

    /// Where the trace ends: its last row's time plus the step before it (1 s for one row).
    public var end: Double {
        let last = points[points.count - 1].seconds
        return points.count > 1 ? last + (last - points[points.count - 2].seconds) : last + 1
    }

    public var peakRate: Double { points.map(\.rate).max() ?? 0 }
}
