import Testing

@testable import InstanceProviders

/// A call that hangs is given up at its time limit and runs on; one that answers in time is used.
@Suite("late call")
struct LateCallTests {
    @Test func answerInTime() async {
        let value = await LateCall.value(within: .seconds(60)) { 42 }
        #expect(value == 42)
    }

    @Test func hangingCallIsGivenUpAndRunsOn() async {
        // The call waits on a gate that opens only after LateCall has given up on it.
        let (gate, open) = AsyncStream<Void>.makeStream()
        let (done, finished) = AsyncStream<Int>.makeStream()
        let value = await LateCall.value(within: .milliseconds(50)) { () -> Int in
            for await _ in gate { break }
            finished.yield(1)
            return 1
        }
        #expect(value == nil)
        // Not cancelled: it finishes once it can.
        open.yield(())
        var results = done.makeAsyncIterator()
        #expect(await results.next() == 1)
    }
}
