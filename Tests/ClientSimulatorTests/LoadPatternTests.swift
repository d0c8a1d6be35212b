import AutoscalerAPI
import ClientSimulator
import Testing

@Suite("load patterns and arrival schedules")
struct LoadPatternTests {
    @Test(arguments: [
        (LoadPattern.constant(rate: 7), [(0.0, 7.0), (100, 7)]),
        (.ramp(from: 0, to: 10, seconds: 10), [(0, 0), (5, 5), (10, 10), (20, 10)]),
        (.step(base: 2, peak: 20, at: 10, length: 30), [(0, 2), (9.99, 2), (10, 20), (39.9, 20), (40, 2)]),
        (.sine(low: 1, high: 11, period: 100), [(0, 1), (25, 6), (50, 11), (75, 6), (100, 1)]),
        (.trace(Trace(points: [TracePoint(seconds: 0, rate: 3), TracePoint(seconds: 5, rate: 8)])), [(0, 3), (4.9, 3), (5, 8), (60, 8)]),
    ])
    func rateAtGivenTimes(pattern: LoadPattern, expected: [(Double, Double)]) {
        for (t, rate) in expected {
            #expect(abs(pattern.rate(at: t) - rate) < 1e-9, "\(pattern) at \(t)")
        }
    }

    /// Evenly spaced arrivals carry exactly the pattern's area: its integral over the run.
    @Test(arguments: [
        (LoadPattern.constant(rate: 10), 2.0, 20),
        (.ramp(from: 0, to: 10, seconds: 10), 10, 50),
        (.step(base: 2, peak: 20, at: 1, length: 1), 3, 24),
        (.sine(low: 0, high: 10, period: 10), 10, 50),
        (.trace(Trace(points: [TracePoint(seconds: 0, rate: 4), TracePoint(seconds: 2, rate: 0), TracePoint(seconds: 3, rate: 10)])), 4, 18),
        (.constant(rate: 0), 5, 0),
    ])
    func evenScheduleCountMatchesTheArea(pattern: LoadPattern, seconds: Double, expected: Int) {
        let arrivals = Array(ArrivalSchedule(pattern: pattern, duration: seconds))
        #expect(abs(arrivals.count - expected) <= 1, "\(pattern): \(arrivals.count)")
        #expect(arrivals == arrivals.sorted())
        #expect(arrivals.allSatisfy { $0 >= 0 && $0 < seconds })
    }

    @Test func constantScheduleIsEvenlySpaced() {
        let arrivals = Array(ArrivalSchedule(pattern: .constant(rate: 4), duration: 1))
        #expect(arrivals == [0, 0.25, 0.5, 0.75])
    }

    @Test func poissonIsRepeatableAndHasTheRightMean() {
        let first = Array(ArrivalSchedule(pattern: .constant(rate: 100), duration: 20, poisson: true, seed: 7))
        let again = Array(ArrivalSchedule(pattern: .constant(rate: 100), duration: 20, poisson: true, seed: 7))
        let other = Array(ArrivalSchedule(pattern: .constant(rate: 100), duration: 20, poisson: true, seed: 8))
        #expect(first == again)
        #expect(first != other)
        #expect(abs(first.count - 2000) < 150)  // ±3.4 standard deviations
        let gaps = zip(first.dropFirst(), first).map { $0 - $1 }
        let mean = gaps.reduce(0, +) / Double(gaps.count)
        let variance = gaps.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(gaps.count)
        // Exponential gaps: the standard deviation equals the mean (even spacing would give 0).
        #expect(abs(variance.squareRoot() / mean - 1) < 0.1)
    }

    @Test func poissonFollowsAVaryingRate() {
        let arrivals = Array(ArrivalSchedule(pattern: .step(base: 10, peak: 100, at: 10, length: 10), duration: 30, poisson: true, seed: 3))
        let inSpike = arrivals.filter { $0 >= 10 && $0 < 20 }.count
        #expect(abs(inSpike - 1000) < 120)
        #expect(abs(arrivals.count - inSpike - 200) < 50)
    }

    @Test func randomTrafficIsRepeatablePerSeedAndAlternates() {
        let a = RandomTraffic(seed: 42)
        #expect(a == RandomTraffic(seed: 42))
        #expect(a != RandomTraffic(seed: 43))
        for (index, segment) in a.segments.enumerated() {
            #expect((15...45).contains(segment.length))
            #expect(index % 2 == 0 ? (6...15).contains(segment.rate) : (0.2...1).contains(segment.rate))
        }
        let pattern = LoadPattern.random(a)
        #expect(pattern.rate(at: 0) == a.segments[0].rate)
        #expect(pattern.rate(at: a.cycleLength + 0.5) == a.segments[0].rate)
    }

    @Test(arguments: [
        ("0,5\n10,20\n", 2),
        ("seconds,rate\n0,5\n", 1),
        ("# comment\n\n0, 5\r\n1 ,6\n", 2),
    ])
    func traceParses(text: String, rows: Int) throws {
        #expect(try LoadPattern.parseTrace(text).points.count == rows)
    }

    @Test(arguments: [
        ("", "trace has no rows"),
        ("0,5\nx,1\n", "trace line 2"),
        ("0,5\n0,6\n", "seconds must increase"),
        ("0,-1\n", "≥ 0"),
        ("0,5,6\n", "expected 'seconds,rate'"),
    ])
    func badTraceSaysWhere(text: String, message: String) {
        #expect {
            try LoadPattern.parseTrace(text)
        } throws: { error in
            String(describing: error).contains(message)
        }
    }

    @Test func patternDefaultsAndBadNumbers() throws {
        #expect(try LoadPattern.make(.constant) == .constant(rate: 10))
        #expect(try LoadPattern.make(.step, rate: 40) == .step(base: 2, peak: 40, at: 10, length: 30))
        #expect(throws: LoadPattern.OptionError.self) { try LoadPattern.make(.constant, rate: -1) }
        #expect(throws: LoadPattern.OptionError.self) { try LoadPattern.make(.sine, rate: 1, base: 5) }
        #expect(throws: LoadPattern.OptionError.self) { try LoadPattern.make(.ramp, period: 0) }
        #expect(throws: LoadPattern.OptionError.self) { try LoadPattern.make(.trace) }
    }

    @Test(arguments: [
        ("http://127.0.0.1:8080/", ClientSimulator.Target(host: "127.0.0.1", port: 8080, path: "/")),
        ("http://localhost", ClientSimulator.Target(host: "localhost", port: 80, path: "/")),
        ("http://[::1]:9000/x?y=1", ClientSimulator.Target(host: "::1", port: 9000, path: "/x?y=1")),
    ])
    func targetURLs(url: String, expected: ClientSimulator.Target) {
        #expect(ClientSimulator.Target(url: url) == expected)
    }

    @Test(arguments: ["https://127.0.0.1/", "127.0.0.1:8080", "http://", "http://host:0/", "http://host:99999/", "http://a b/", "http://u@h/"])
    func badTargetURLs(url: String) {
        #expect(ClientSimulator.Target(url: url) == nil)
    }
}
