import LearnSyncModels
import LearnSyncTesting
import Testing

@Suite struct HybridLogicalClockTests {
    @Test func ticksAreStrictlyIncreasingEvenWhenWallTimeStandsStillOrGoesBack() {
        var clock = HybridLogicalClock()
        var last = HLCTimestamp(rawValue: 0)
        for now: Int64 in [1000, 1000, 1000, 999, 500, 1001, 1001] {
            let next = clock.tick(now: now)
            #expect(next > last)
            last = next
        }
        #expect(last.physicalMilliseconds >= 1001)
    }

    @Test func followsWallTimeWhenItMovesForward() {
        var clock = HybridLogicalClock()
        _ = clock.tick(now: 1000)
        #expect(clock.tick(now: 5000) == HLCTimestamp(physicalMilliseconds: 5000))
    }

    @Test func ordersAfterReceivedTimestamps() {
        var clock = HybridLogicalClock()
        let remote = HLCTimestamp(physicalMilliseconds: 9000)
        clock.receive(remote)
        #expect(clock.tick(now: 1000) > remote)
    }

    @Test func randomSequencesStayMonotonic() {
        let seed = SeededGenerator.seedFromEnvironment()
        print("HybridLogicalClockTests seed: \(seed)")
        var generator = SeededGenerator(seed: seed)
        var clock = HybridLogicalClock()
        var last = HLCTimestamp(rawValue: 0)
        for _ in 0..<10_000 {
            if Bool.random(using: &generator) {
                clock.receive(HLCTimestamp(rawValue: Int64.random(in: 0...2_000_000, using: &generator)))
            }
            let next = clock.tick(now: Int64.random(in: 0...2000, using: &generator))
            #expect(next > last, "seed \(seed)")
            last = next
        }
    }
}
