import Foundation
import HummingbirdTesting
import LearnSyncPostgres
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncTesting
import Testing

/// What a PostgreSQL server does when a database it needs cannot be reached.
@Suite(.tags(.postgres), .enabled(if: !TestPostgres.isSkipped, "LEARNSYNC_SKIP_POSTGRES=1"))
struct PostgresReachabilityTests {
    /// A listening location (`serve --listen-database`) that cannot be reached stops the server
    /// at start, as the database itself does, rather than leaving live notices unheard across
    /// processes with nothing but warnings in the log.
    @Test func anUnreachableListeningLocationFailsThePreparation() async throws {
        let location = try await TestPostgres.freshDatabase("listen")
        let nowhere = try PostgresLocation(url: "postgres://learnsync@127.0.0.1:1/\(location.database)?sslmode=disable")
        // Time enough for the database itself on a loaded machine.
        let store = PostgresServerStore(location: location, listenLocation: nowhere, connectDeadline: .seconds(5))
        let running = Task { try await store.run() }
        defer { running.cancel() }
        let error = await #expect(throws: ServerError.self) { try await store.prepare() }
        #expect(error?.description == "The listening PostgreSQL at 127.0.0.1:1 could not be reached within 5 s", "\(String(describing: error))")
    }

    /// A login PostgreSQL refuses for good is said at once, rather than as a server that could
    /// not be reached once the start-up deadline has passed: a database or role that does not
    /// exist, in PostgreSQL's words, and a URL that requires TLS of a PostgreSQL without it (the
    /// test cluster has none).
    @Test(arguments: [RefusedLogin.noDatabase, .noTLS])
    func aLoginPostgreSQLRefusesStopsThePreparationAtOnce(_ refusal: RefusedLogin) async throws {
        var location = try await TestPostgres.freshDatabase("refused")
        switch refusal {
        case .noDatabase: location.database = "no_such_database"
        case .noTLS: location.tls = .require
        }
        let store = PostgresServerStore(location: location, connectDeadline: .seconds(30))
        let running = Task { try await store.run() }
        defer { running.cancel() }
        let asked = ContinuousClock.now
        let error = await #expect(throws: ServerError.self) { try await store.prepare() }
        #expect(asked.duration(to: .now) < .seconds(15), "refused after \(asked.duration(to: .now))")
        let said = switch refusal {
        case .noDatabase: "refused the login: database \"no_such_database\" does not exist (SQLSTATE 3D000)"
        case .noTLS: "does not offer TLS, which the URL's sslmode=require asks for"
        }
        #expect(error?.description == "PostgreSQL at \(location.host):\(location.port) \(said)", "\(String(describing: error))")
    }

    enum RefusedLogin: String, CustomTestStringConvertible {
        case noDatabase, noTLS
        var testDescription: String { rawValue }
    }

    /// The listening location must hear what the store notifies: the same database, reached
    /// directly. Another database, or the pooler in transaction mode named without its
    /// `pool_mode` (where a `LISTEN` is lost), stops the server at start.
    @Test func aListeningLocationThatHearsNothingFailsThePreparation() async throws {
        // The store itself reaches the database directly (a pooler is slow to connect through
        // on a loaded machine); what matters is where it listens.
        let pooled = try await TestPostgres.freshDatabase("hearing", throughPooler: true)
        let location = try await TestPostgres.direct(pooled)
        var pooler = pooled
        pooler.poolMode = .session
        let elsewhere = try await TestPostgres.freshDatabase("elsewhere")
        for (listen, hears) in [(location, true), (pooler, false), (elsewhere, false)] {
            let store = PostgresServerStore(location: location, listenLocation: listen, connectDeadline: .seconds(5))
            let running = Task { try await store.run() }
            let following = Task { await store.followLiveNotices { _ in } }
            defer {
                following.cancel()
                running.cancel()
            }
            if hears {
                try await store.prepare()
            } else {
                let error = await #expect(throws: ServerError.self, "\(listen)") { try await store.prepare() }
                #expect(error?.description.contains("were not heard at \(listen) within 5 s") == true, "\(String(describing: error))")
            }
        }
    }

    /// PostgreSQL shutting down, or a pooler that cannot log in to it, ends statements with a
    /// connection-class SQLSTATE: answered `503` like no connection at all, not `500`. A trigger
    /// raises the codes here.
    @Test(arguments: ["08P01", "57P01", "53300"]) func aDatabaseGoingAwayIsAnsweredUnavailable(_ state: String) async throws {
        let running = try await RunningPostgresStore("goingaway")
        let server = try TestServer(store: running.store, running: running)
        try await server.test { client in
            let (learner, token) = try await client.registerGuest()
            _ = try await TestPostgres.query(running.location, """
                CREATE FUNCTION going_away() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'going away' USING ERRCODE = '\(state)'; END $$;
                CREATE TRIGGER going_away BEFORE INSERT ON event FOR EACH ROW EXECUTE FUNCTION going_away();
                """)
            var phone = EventFactory(learner: learner)
            let event = try phone.make(.lessonStarted(lesson: "keep-secure"))
            let answer = try await client.post(
                "/v1/sync", json: SyncRequest(replica: phone.replica, lastSeq: phone.seq, cursor: 0, events: [event]), token: token)
            #expect(answer.status.code == 503, "\(state): \(String(buffer: answer.body))")
            #expect(answer.headers[.retryAfter] == "5")
        }
    }

    /// While PostgreSQL is down, the pool keeps trying to connect, and postgres-nio's lease waits
    /// as long: a request waits at most the store's lease deadline and is then answered as if
    /// unreachable (`503`), rather than held for a minute and more.
    @Test func aRequestWaitsForAConnectionAtMostTheLeaseDeadline() async throws {
        let nowhere = try PostgresLocation(url: "postgres://learnsync@127.0.0.1:1/none?sslmode=disable")
        let store = PostgresServerStore(location: nowhere, leaseDeadline: .seconds(1))
        let running = Task { try await store.run() }
        defer { running.cancel() }
        for attempt in 1...2 {
            let asked = ContinuousClock.now
            await #expect(throws: StoreUnreachable.self) { _ = try await store.session(tokenHash: "none", now: 0) }
            let took = asked.duration(to: .now)
            #expect(took >= .seconds(1) && took < .seconds(5), "attempt \(attempt) answered after \(took)")
        }
    }

    /// A statement PostgreSQL does not answer (a frozen server, a network that drops packets
    /// without a reset; here, a lock held by another session) ends at the store's statement
    /// deadline: its connection closes and the request is answered as if unreachable, rather
    /// than held, with the server's shutdown behind it. The store serves again afterwards.
    @Test func aStatementPostgreSQLDoesNotAnswerEndsAtTheDeadline() async throws {
        let location = try await TestPostgres.freshDatabase("unanswered")
        let store = PostgresServerStore(location: location, statementDeadline: .seconds(1))
        let running = Task { try await store.run() }
        defer { running.cancel() }
        try await store.prepare()
        let holder = Task {
            try await TestPostgres.query(location, "BEGIN; LOCK TABLE session IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT;")
        }
        let locked = try await eventually(timeout: .seconds(5), every: .milliseconds(50)) {
            try await TestPostgres.query(location, "SELECT count(*) FROM pg_locks WHERE relation = 'session'::regclass AND mode = 'AccessExclusiveLock'")
                .trimmingCharacters(in: .whitespacesAndNewlines) == "1"
        }
        #expect(locked)
        let asked = ContinuousClock.now
        await #expect(throws: StoreUnreachable.self) { _ = try await store.session(tokenHash: "none", now: 0) }
        let took = asked.duration(to: .now)
        #expect(took >= .seconds(1) && took < .seconds(4), "answered after \(took)")
        _ = try await holder.value
        #expect(try await store.session(tokenHash: "none", now: 0) == nil)
    }

    /// A request that gets no connection (the pool gave up on the database) is answered
    /// `503 storage-failed` with `Retry-After`, as a full disk is: nothing was stored, and the
    /// device sends it again later.
    @Test func aRequestWithoutAConnectionIsAnsweredUnavailable() async throws {
        let running = try await RunningPostgresStore("unreachable")
        let server = try TestServer(store: running.store, running: running)
        try await server.test { client in
            let (learner, token) = try await client.registerGuest()
            // The pool stops: every later lease fails at once, as after the pool gave up.
            running.stop()
            var phone = EventFactory(learner: learner)
            let event = try phone.make(.lessonStarted(lesson: "keep-secure"))
            let answer = try await client.post(
                "/v1/sync", json: SyncRequest(replica: phone.replica, lastSeq: phone.seq, cursor: 0, events: [event]), token: token)
            #expect(answer.status.code == 503)
            #expect(answer.headers[.retryAfter] == "5")
            #expect(String(buffer: answer.body).contains("\"storage-failed\""), "\(String(buffer: answer.body))")
        }
    }
}
