/// Bursts and quiet spells, as the original client simulator sent: a repeating sequence of
/// segments of random length, each either a burst (`burstRate` range) or a quiet spell
/// (`quietRate` range), drawn once from a seeded generator so that a seed replays the same run.
public struct RandomTraffic: Sendable, Equatable {
    public struct Segment: Sendable, Equatable {
        public var start: Double
        public var length: Double
        public var rate: Double
    }

    public let seed: UInt64
    /// The drawn segments covering one cycle; the cycle repeats after ``cycleLength``.
    public let segments: [Segment]
    public var cycleLength: Double { segments.last.map { $0.start + $0.length } ?? 0 }

    /// Defaults fit the original's thresholds with two VMs (scale up above 20 requests per VM per
    /// 10 s, i.e. 4 req/s for two; down below 1 req/s): bursts of 6–15 req/s, quiet spells of
    /// 0.2–1 req/s, each 15–45 s long, alternating, starting with a burst.
    public init(
        seed: UInt64, burstRate: ClosedRange<Double> = 6...15, quietRate: ClosedRange<Double> = 0.2...1,
        segmentSeconds: ClosedRange<Double> = 15...45, segmentCount: Int = 40
    ) {
        self.seed = seed
        var generator = SplitMix64(seed: seed)
        var segments: [Segment] = []
        var start = 0.0
        for index in 0..<max(2, segmentCount) {
            let length = Double.random(in: segmentSeconds, using: &generator)
            let burst = index % 2 == 0  // start with a burst: something to see at once
            let rate = Double.random(in: burst ? burstRate : quietRate, using: &generator)
            segments.append(Segment(start: start, length: length, rate: rate))
            start += length
        }
        self.segments = segments
    }

    func rate(at t: Double) -> Double {
        let cycle = cycleLength
        guard cycle > 0, t >= 0 else { return 0 }
        let offset = t.truncatingRemainder(dividingBy: cycle)
        return segments.last { $0.start <= offset }?.rate ?? 0
    }
}
