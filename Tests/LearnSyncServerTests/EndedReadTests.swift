import LearnSyncModels
import LearnSyncPostgres
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncTestSupport
import LearnSyncTesting
import Testing

/// Long reads whose backends PostgreSQL ends: postgres-nio (1.33) traps, ending the process,
/// when a row stream waits for its consumer and the connection ends without an error from
/// PostgreSQL, as when a backend blocked sending a large result is ended. The store reads
/// feed pages whole (``StoreConnection``'s `allRows`), which never leaves a stream waiting. A
/// trap here ends the test process.
@Suite(.tags(.postgres)) struct EndedReadTests {
    /// Pulls of 5,000-row pages, four at a time, with every backend of the database ended at a
    /// random moment of each round: each pull answers its page whole or fails, and none traps.
    @Test func pullsWhoseBackendsEndFailWithoutATrap() async throws {
        let running = try await RunningPostgresStore(#function)
        let server = try TestServer(store: running.store, running: running)
        let (learner, token) = try await server.registerGuest()
        let replica = ReplicaID.random()
        let now = server.clock.millisecondsSince1970()
        let batch = 2_000, batches = 3
        for index in 0..<batches {
            let events = try (1...batch).map { offset in
                let seq = Int64(index * batch + offset)
                return try ProgressEvent(
                    id: EventID(replica: replica, seq: seq), learner: learner, timestamp: HLCTimestamp(physicalMilliseconds: now - 100_000 + seq),
                    course: SampleCatalog.courseID, payload: .lessonStarted(lesson: "keep-secure"))
            }
            let request = SyncRequest(
                replica: replica, lastSeq: Int64((index + 1) * batch), cursor: Int64(index * batch), cursorMark: nil, events: events, limit: 1)
            _ = try await server.service.sync(request, authorization: "Bearer \(token)")
        }
        let seed = UInt64.random(in: 0...UInt64.max)
        print("EndedReadTests seed \(seed)")
        var random = SeededGenerator(seed: seed)
        let location = running.location, service = server.service
        var answered = 0, failed = 0
        for _ in 0..<6 {
            let delay = Duration.milliseconds(Int.random(in: 0...2_500, using: &random))
            let ending = Task {
                try await Task.sleep(for: delay)
                _ = try await TestPostgres.query(
                    location,
                    """
                    WITH others AS MATERIALIZED (SELECT pid FROM pg_stat_activity
                        WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend')
                    SELECT count(pg_terminate_backend(pid)) FROM others
                    """)
            }
            let pages = await withTaskGroup(of: Result<Int, any Error>.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        let request = SyncRequest(
                            replica: ReplicaID.random(), lastSeq: 0, cursor: 0, cursorMark: nil, events: [], limit: ProtocolLimits.maxPageSize)
                        do { return .success(try await service.sync(request, authorization: "Bearer \(token)").events.count) } catch { return .failure(error) }
                    }
                }
                var pages = [Result<Int, any Error>]()
                for await page in group { pages.append(page) }
                return pages
            }
            _ = await ending.result
            for page in pages {
                if case .success(let page) = page {
                    #expect(page == min(batch * batches, ProtocolLimits.maxPageSize), "a pull answered a page of \(page) rows")
                    answered += 1
                } else if case .failure(let error) = page {
                    #expect(error is StoreUnreachable, "a pull failed with \(error)")
                    failed += 1
                }
            }
        }
        print("EndedReadTests: \(answered) pulls answered, \(failed) failed (seed \(seed))")
        #expect(failed > 0, "no pull met its backend's end")
    }
}
