import Foundation
import LearnSyncModels
import LearnSyncTestSupport
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

    @Test func aTimestampIsADateToTheMillisecond() {
        let stamp = HLCTimestamp(rawValue: 1_765_000_000_123 * 1000 + 7)
        #expect(stamp.date == Date(timeIntervalSince1970: 1_765_000_000.123))
        #expect(HLCTimestamp(physicalMilliseconds: 0).date == Date(timeIntervalSince1970: 0))
    }

    @Test func followsWallTimeWhenItMovesForward() {
        var clock = HybridLogicalClock()
        _ = clock.tick(now: 1000)
        #expect(clock.tick(now: 5000) == HLCTimestamp(physicalMilliseconds: 5000))
    }

    @Test func ordersAfterReceivedTimestamps() {
        var clock = HybridLogicalClock()
        let remote = HLCTimestamp(physicalMilliseconds: 9000)
        clock.receive(remote, now: 1000)
        #expect(clock.tick(now: 1000) > remote)
    }

    @Test func aReadingFarAheadOfWallTimeIsNotCarriedForward() {
        var clock = HybridLogicalClock()
        let yearAhead: Int64 = 1_767_225_600_000 + 31_536_000_000
        // A remote reading a year ahead is not taken in.
        clock.receive(HLCTimestamp(physicalMilliseconds: yearAhead), now: 1_767_225_600_000)
        #expect(clock.tick(now: 1_767_225_600_000) == HLCTimestamp(physicalMilliseconds: 1_767_225_600_000))
        // A device whose own clock ran a year ahead starts again from corrected wall time.
        _ = clock.tick(now: yearAhead)
        #expect(clock.tick(now: 1_767_225_600_001) == HLCTimestamp(physicalMilliseconds: 1_767_225_600_001))
    }

    @Test func randomSequencesStayMonotonic() {
        let seed = SeededGenerator.seedFromEnvironment()
        print("HybridLogicalClockTests seed: \(seed)")
        var generator = SeededGenerator(seed: seed)
        var clock = HybridLogicalClock()
        var last = HLCTimestamp(rawValue: 0)
        for _ in 0..<10_000 {
            let now = Int64.random(in: 0...2000, using: &generator)
            if Bool.random(using: &generator) {
                clock.receive(HLCTimestamp(rawValue: Int64.random(in: 0...2_000_000, using: &generator)), now: now)
            }
            let next = clock.tick(now: now)
            #expect(next > last, "seed \(seed)")
            // Bounded: never more than a minute ahead of wall time, beyond the counter's carry.
            #expect(next.physicalMilliseconds <= now + HybridLogicalClock.maxAheadMilliseconds + 10_000, "seed \(seed)")
            last = next
        }
    }
}
