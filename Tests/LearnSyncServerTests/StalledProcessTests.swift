import LearnSyncModels
import Testing

@testable import LearnSyncPostgres

/// A process held up (its threads starved) does not blame PostgreSQL for the time it lost:
/// the deadlines of the waits it watches move by that time, up to twice their length.
@Suite struct StalledProcessTests {
    @Test func aStallOfTheProcessMovesTheDeadlinesItHeldUp() async throws {
        // The keeper's first look comes 3 s late, as when the process's threads were starved.
        let looks = Locked(0)
        let deadlines = Deadlines(sleep: { tick in
            let first = looks.withLock { looks in
                looks += 1
                return looks == 1
            }
            try? await Task.sleep(for: first ? .seconds(3) : tick)
        })
        let (expiries, expired) = AsyncStream<ContinuousClock.Instant>.makeStream()
        let added = ContinuousClock.now
        _ = deadlines.add(added + .seconds(2)) { expired.yield(.now) }
        var next = expiries.makeAsyncIterator()
        let at = try #require(await next.next())
        // Taken as it came, the late look would end the 2 s wait 3 s in; the 2.9 s lost move
        // its deadline to the latest, 4 s in.
        #expect(added.duration(to: at) >= .milliseconds(3_800), "the wait ended \(added.duration(to: at)) in")
    }
}
