import LearnSyncModels
import LearnSyncPostgres
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncTestSupport
import LearnSyncTesting
import Testing

/// A write PostgreSQL ends between running a statement and committing it must not be answered
/// as done. In the extended protocol a statement outside `BEGIN` … `COMMIT` commits at the
/// `Sync` after its `CommandComplete`, and a backend ended in between (an administrator's
/// `pg_terminate_backend`, a fast shutdown, a failover) sends the buffered `CommandComplete`
/// before its `FATAL`: postgres-nio has reported the statement done by then. Here a deferred
/// trigger holds each commit in an interruptible sleep while the test ends the backend.
@Suite(.tags(.postgres)) struct AcknowledgedWriteTests {
    /// A trigger that sleeps at the commit of every transaction that wrote `table`.
    static func slowCommits(of tables: [String], _ location: PostgresLocation) async throws {
        var sql = "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(60); RETURN NULL; END $$;"
        for table in tables {
            sql += """
                CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT OR UPDATE ON \(table)
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit();
                """
        }
        _ = try await TestPostgres.query(location, sql)
    }

    /// A call's answer or error.
    static func outcome<T>(_ call: () async throws -> T) async -> Result<T, any Error> {
        do { return .success(try await call()) } catch { return .failure(error) }
    }

    /// Ends the first backend found sleeping in `slow_commit`, and returns the first word of its
    /// statement; nil when none slept within 60 s.
    static func endSleepingBackend(_ location: PostgresLocation) async throws -> String? {
        let started = ContinuousClock.now
        while started.duration(to: .now) < .seconds(60) {
            let ended = try await TestPostgres.query(
                location,
                """
                WITH sleeping AS MATERIALIZED (SELECT pid, query FROM pg_stat_activity
                    WHERE wait_event = 'PgSleep' AND datname = current_database() AND pid <> pg_backend_pid())
                SELECT split_part(query, ' ', 1) FROM sleeping WHERE pg_terminate_backend(pid)
                """)
            if !ended.isEmpty { return ended }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// Pushes of one event (``QuickPush``'s call) and of 40 (a transaction) whose backend ends
    /// while it commits: each is answered with an error, or stored.
    @Test(arguments: [(1, "CALL"), (40, "COMMIT")]) func aPushIsAnsweredOnlyOnceCommitted(events count: Int, committedBy statement: String) async throws {
        let running = try await RunningPostgresStore("\(#function)-\(count)")
        let server = try TestServer(store: running.store, running: running)
        let (learner, token) = try await server.registerGuest()
        try await Self.slowCommits(of: ["event"], running.location)
        let replica = ReplicaID.random()
        let now = server.clock.millisecondsSince1970()
        let events = try (1...Int64(count)).map { seq in
            try ProgressEvent(
                id: EventID(replica: replica, seq: seq), learner: learner, timestamp: HLCTimestamp(physicalMilliseconds: now - 1_000 + seq),
                course: SampleCatalog.courseID, payload: .lessonStarted(lesson: "keep-secure"))
        }
        let location = running.location
        let ending = Task { try await Self.endSleepingBackend(location) }
        let request = SyncRequest(replica: replica, lastSeq: Int64(count), cursor: 0, cursorMark: nil, events: events, limit: 100)
        let answer = await Self.outcome { try await server.service.sync(request, authorization: "Bearer \(token)") }
        let slept = try await ending.value
        #expect(slept == statement, "the commit did not sleep in the push's \(statement) but in \(slept ?? "none")")
        let stored = try await TestPostgres.query(location, "SELECT count(*) FROM event WHERE replica = '\(replica.rawValue)'")
        if case .success = answer {
            #expect(stored == "\(count)", "the push was answered, and \(stored) of \(count) events are stored")
        }
        print("AcknowledgedWriteTests: a push of \(count) answered \(answer), \(stored) stored")
    }

    /// A sign-out whose backend ends while it commits: answered with an error, or the token is
    /// refused after it.
    @Test func aSignOutIsAnsweredOnlyOnceCommitted() async throws {
        let running = try await RunningPostgresStore(#function)
        let server = try TestServer(store: running.store, running: running)
        let token = try await server.registerGuest().token
        try await Self.slowCommits(of: ["session"], running.location)
        let location = running.location
        let ending = Task { try await Self.endSleepingBackend(location) }
        let answer = await Self.outcome { try await server.service.signOut(authorization: "Bearer \(token)") }
        let slept = try await ending.value
        #expect(slept == "COMMIT", "the commit did not sleep in the sign-out's COMMIT but in \(slept ?? "none")")
        if case .success = answer {
            let request = SyncRequest(replica: ReplicaID.random(), lastSeq: 0, cursor: 0, cursorMark: nil, events: [], limit: 100)
            let after = await Self.outcome { try await server.service.sync(request, authorization: "Bearer \(token)") }
            #expect(after.refusal == .unauthorized, "the sign-out was answered, and then a sync answered \(after)")
        }
        print("AcknowledgedWriteTests: a sign-out answered \(answer)")
    }
}

extension Result {
    /// The code of the `Problem` this failed with.
    fileprivate var refusal: ProblemCode? {
        guard case .failure(let error) = self else { return nil }
        return (error as? Problem)?.knownCode
    }
}
