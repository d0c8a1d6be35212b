import AutoscalerAPI
import Testing

@Suite("traces")
struct TraceTests {
    @Test func aHeaderMayFollowComments() throws {
        let trace = try Trace.parse("# World Cup 98, per minute\nseconds,rate\n0,5\n60,7\n")
        #expect(trace.points == [TracePoint(seconds: 0, rate: 5), TracePoint(seconds: 60, rate: 7)])
        #expect(trace.end == 120)
    }

    @Test func onlyOneHeaderAndOnlyBeforeTheRows() {
        #expect(throws: Trace.FormatError("trace line 2: expected 'seconds,rate', got 'time,rate'")) { try Trace.parse("seconds,rate\ntime,rate\n0,5\n") }
        #expect(throws: Trace.FormatError("trace line 2: expected 'seconds,rate', got 'seconds,rate'")) { try Trace.parse("0,5\nseconds,rate\n") }
    }

    /// A rate of 10^19 made the simulator's request counter trap (found by scripts/fuzz.sh csv).
    @Test func ratesAndTimesBeyondAnyRealTraceAreRefused() throws {
        let message = "seconds must be ≤ 10^10 and rate ≤ 10^9 requests per second"
        #expect(throws: Trace.FormatError("trace line 2: \(message)")) { try Trace.parse("0,1\n60,9223372036854775807\n") }
        #expect(throws: Trace.FormatError("trace line 1: \(message)")) { try Trace.parse("1e11,1\n") }
        #expect(try Trace.parse("1700000000,1000000000\n").points.count == 1)
    }

    @Test func theRateHoldsUntilTheNextRow() {
        let trace = Trace(points: [TracePoint(seconds: 10, rate: 3), TracePoint(seconds: 20, rate: 8)])
        #expect(trace.rate(at: 0) == 0 && trace.rate(at: 10) == 3 && trace.rate(at: 19.9) == 3 && trace.rate(at: 25) == 8)
    }
}
