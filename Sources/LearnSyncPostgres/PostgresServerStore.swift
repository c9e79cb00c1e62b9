package import Foundation
package import LearnSyncModels
package import LearnSyncProtocol
package import LearnSyncServer
import LearnSyncSQLite
package import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle

/// The server store on PostgreSQL, for several server processes sharing one database.
///
/// It keeps the same rules as ``SQLiteServerStore`` (one conformance suite runs against both).
/// Where SQLite has one writer, this store takes row locks: a sync locks its learner's row (so
/// feed positions are given, and committed, one writer at a time per learner) and then the
/// replica's row (so a replica's events are judged against everything stored under it).
/// Transactions that meet a deadlock or a serialization failure are run again.
///
/// It is a `Service`: run it in the server's service group, which runs its connection pool,
/// and call ``prepare()`` (the migrations) before the first request.
package final class PostgresServerStore: ServiceBackedStore {
    let client: PostgresClient
    /// The client of the connection that listens for live notices, when not `client`'s.
    private let listenClient: PostgresClient?
    private let listenLocation: PostgresLocation?
    let logger: Logger
    /// The pool's use, for operators.
    let metrics: PoolMetrics
    /// Each leased connection's close, for the statements waiting on it.
    let watches = ConnectionWatches()
    /// The database this store uses.
    package let location: PostgresLocation
    /// How long ``prepare()`` waits for a first connection before it gives up; nil waits as long
    /// as the pool keeps trying.
    package let connectDeadline: Duration?
    /// How long a request waits for a connection of the pool before it is answered that the
    /// database cannot be reached (`503 storage-failed`).
    package let leaseDeadline: Duration
    /// How long a statement may go unanswered (a PostgreSQL that froze, or a network that
    /// drops packets without a reset): then its connection is closed and the request answered
    /// that the database cannot be reached.
    package let statementDeadline: Duration
    /// The waits for a lease and for a statement's answer, kept by one task.
    let deadlines = Deadlines()
    private let migration = Locked<Task<Void, any Error>?>(nil)
    /// The probe of the listening connection sent (``checkListening(at:within:)``), and
    /// whether it was heard.
    private let probe = Locked<(sent: String?, heard: Bool)>((nil, false))
    /// How many pushes this store ran as ``QuickPush``'s one statement, and how many as the
    /// general transaction (for the tests).
    package let pushPaths = Locked((quick: 0, general: 0))
    /// The same, for operators: `learnsync_postgres_pushes_total{path="one-statement"}` and
    /// `{path="transaction"}`.
    private let pushCounters = (
        quick: Counter(label: "learnsync_postgres_pushes_total", dimensions: [("path", "one-statement")]),
        general: Counter(label: "learnsync_postgres_pushes_total", dimensions: [("path", "transaction")]))

    /// Counts a push by the path it took.
    func counted(quick: Bool) {
        pushPaths.withLock { quick ? ($0.quick += 1) : ($0.general += 1) }
        (quick ? pushCounters.quick : pushCounters.general).increment()
    }

    /// A store on `location`; nothing connects until the store runs.
    /// - Parameters:
    ///   - location: the database.
    ///   - listenLocation: where to listen for live notices, when not through `location`'s
    ///     pool: needed behind a pooler in transaction mode (``PostgresLocation/PoolMode``),
    ///     which cannot hold a `LISTEN`. Without one there, this process's streams hear only of
    ///     its own notices (the other processes still hear of them).
    ///   - logger: the connection pool's and the store's logger.
    ///   - connectDeadline: how long ``prepare()`` waits for a first connection (`serve` gives 15
    ///     seconds); nil waits as long as the pool keeps trying.
    ///   - leaseDeadline: how long a request waits for a connection of the pool.
    ///   - statementDeadline: how long a statement may go unanswered.
    package init(
        location: PostgresLocation, listenLocation: PostgresLocation? = nil, logger: Logger = Logger(label: "learnsync.postgres"),
        connectDeadline: Duration? = nil, leaseDeadline: Duration = .seconds(10), statementDeadline: Duration = .seconds(60)
    ) {
        self.location = location
        self.logger = logger
        self.connectDeadline = connectDeadline
        self.leaseDeadline = leaseDeadline
        self.statementDeadline = statementDeadline
        client = PostgresClient(configuration: location.clientConfiguration, backgroundLogger: logger)
        self.listenLocation = listenLocation
        listenClient = listenLocation.map { listen in
            // One connection listens for as long as the server runs; the other is for
            // ``prepare()``'s check that the location can be reached, and closes when idle.
            var pair = listen
            pair.maxConnections = 2
            return PostgresClient(configuration: pair.clientConfiguration, backgroundLogger: logger)
        }
        hearsLiveNotices = location.poolMode == .session || listenClient != nil
        metrics = PoolMetrics(maxConnections: location.maxConnections)
    }

    /// Runs the connection pool (and the listening connection's, if its own) until the service
    /// group shuts down (after the HTTP server, so that requests in flight finish).
    package func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.client.run() }
                if let listenClient = self.listenClient { group.addTask { await listenClient.run() } }
            }
        }
    }

    /// Runs the pending migrations (under an advisory lock: one process of several migrates),
    /// once; later calls wait for that run and share its outcome. It gives up when no connection
    /// (to the database, then to the listening location, if any) is made within
    /// ``connectDeadline``, and at once when the calling task is cancelled
    /// (`serve` stopped by Ctrl-C or SIGTERM while it starts). The migrations themselves have no
    /// deadline: a busy database may take its time.
    package func prepare() async throws {
        let migration = migration.withLock { running in
            if let running { return running }
            let (client, logger, location, deadline) = (client, logger, location, connectDeadline)
            let listen = listenClient.flatMap { client in listenLocation.map { (client, $0) } }
            let task = Task {
                do {
                    if let deadline {
                        try await Self.reach(client, at: location, "PostgreSQL at \(location.host):\(location.port)", within: deadline, logger)
                        if let (client, location) = listen {
                            try await Self.reach(client, at: location, "The listening PostgreSQL at \(location.host):\(location.port)", within: deadline, logger)
                        }
                    }
                    try await PostgresSchema.migrate(client, logger: logger)
                    if let deadline, let (_, location) = listen { try await self.checkListening(at: location, within: deadline) }
                } catch let error as ServerError {
                    throw error
                } catch where Task.isCancelled {
                    // Stopped (Ctrl-C, SIGTERM) while preparing: not a failure of the database.
                    throw CancellationError()
                } catch {
                    throw ServerError("cannot prepare the PostgreSQL database at \(location): \(String(reflecting: error))", cause: error)
                }
            }
            running = task
            return task
        }
        try await withTaskCancellationHandler { try await migration.value } onCancel: { migration.cancel() }
    }

    /// Notifies a probe through the pool until the listening connection hears it, at most
    /// `deadline`: a listening location that is another database, another cluster, or a
    /// pooler in transaction mode (where a `LISTEN` is lost) would leave the other processes'
    /// notices unheard for as long as the server runs.
    /// - Throws: ``ServerError`` when the probe is not heard in time.
    private func checkListening(at listen: PostgresLocation, within deadline: Duration) async throws {
        // Every process ignores a payload that is no notice.
        let payload = "probe " + UUID().uuidString
        probe.withLock { $0 = (payload, false) }
        let started = ContinuousClock.now
        while started.duration(to: .now) < deadline {
            try await withConnection { [logger] c in
                try await c.execute("SELECT pg_notify(\(Self.liveChannel), \(payload))", logger: logger)
            }
            for _ in 0..<10 {
                if probe.withLock({ $0.heard }) { return }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        throw ServerError(
            "live notices sent to \(location) were not heard at \(listen) within \(deadline.components.seconds) s: the listening location must reach the same database directly, not through a pooler in transaction mode")
    }

    /// Waits for `client`'s first connection, at most `deadline`.
    /// - Throws: ``ServerError`` naming `what` when none was made in time, or at once when
    ///   PostgreSQL refuses `location`'s login for good (``refusedLogin(_:_:_:)``).
    private static func reach(
        _ client: PostgresClient, at location: PostgresLocation, _ what: String, within deadline: Duration, _ logger: Logger
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.withConnection { _ in } }
            group.addTask { try await refusedLogin(location, what, logger) }
            group.addTask {
                try await Task.sleep(for: deadline)
                throw ServerError("\(what) could not be reached within \(deadline.components.seconds) s")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Fails as soon as PostgreSQL refuses `location`'s login for good (no such database or
    /// role, a wrong password, no right to connect, no TLS where the URL requires it), which
    /// the pool would only try again until the deadline; otherwise it waits until cancelled.
    /// A direct connection is tried each second until one is made (PostgreSQL may be starting).
    /// - Throws: ``ServerError`` with PostgreSQL's message and SQLSTATE.
    private static func refusedLogin(_ location: PostgresLocation, _ what: String, _ logger: Logger) async throws {
        while true {
            do {
                let connection = try await PostgresConnection.connect(configuration: try location.connectionConfiguration(), id: 0, logger: logger)
                try? await connection.close()
                try await Task.sleep(for: .seconds(86_400))
            } catch let error as PSQLError where error.code == .server {
                let state = error.serverInfo?[.sqlState] ?? ""
                if ["3D000", "28000", "28P01", "42501"].contains(state) {
                    throw ServerError("\(what) refused the login: \(error.serverInfo?[.message] ?? "no message") (SQLSTATE \(state))", cause: error)
                }
            } catch let error as PSQLError where error.code == .sslUnsupported {
                throw ServerError("\(what) does not offer TLS, which the URL's sslmode=require asks for", cause: error)
            } catch is CancellationError {
                throw CancellationError()
            } catch {}
            try await Task.sleep(for: .seconds(1))
        }
    }

    // MARK: Live streams

    /// The channel of live notices (``LiveNotice/payload``): pushes that grew a feed, revocations
    /// and erasures, told after they commit, a batch at a time.
    static let liveChannel = "learnsync_live"

    /// Every process sharing the database hears this one's notices, through a pooler too.
    package var tellsLiveNotices: Bool { true }

    /// Whether this process hears every process's notices: false behind a pooler in
    /// transaction mode without a listening location of its own.
    package let hearsLiveNotices: Bool

    package func tell(_ notices: [LiveNotice]) async throws {
        guard !notices.isEmpty else { return }
        let payloads = notices.map(\.payload)
        try await withConnection { [logger] connection in
            try await connection.execute(
                "SELECT pg_notify(\(Self.liveChannel), payload) FROM unnest(\(payloads)::TEXT[]) AS payload", logger: logger)
        }
    }

    /// Listens on ``liveChannel`` on a connection of its own, for as long as the server runs; a
    /// lost connection is opened again, after a wait that doubles up to 5 s. A notice given while
    /// no connection listens is lost: devices that missed a push pull it at their next sync or
    /// stream.
    package func followLiveNotices(_ handler: @escaping @Sendable (LiveNotice) -> Void) async {
        guard hearsLiveNotices else { return }
        let client = listenClient ?? client
        var failures = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { [client, logger] in
                    try await client.withConnection { connection in
                        try await connection.listen(on: Self.liveChannel) { notifications in
                            for try await notification in notifications {
                                if let notice = LiveNotice(payload: notification.payload) {
                                    handler(notice)
                                } else {
                                    self.probe.withLock { if $0.sent == notification.payload { $0.heard = true } }
                                }
                            }
                        }
                    }
                    logger.debug("the feed channel's connection ended")
                }
                failures = 0
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                failures += 1
                logger.warning("listening for live notices failed; trying again", metadata: ["error": "\(String(reflecting: error))"])
                try? await Task.sleep(for: .milliseconds(min(5_000, 100 << min(failures, 10))))
            }
        }
    }

    // MARK: Guests and accounts

    package func registerGuest(_ claim: GuestClaim, session: NewSession) async throws -> AttachOutcome {
        let logger = logger
        return try await transaction { c in
            let claimed = try await Self.claimGuest(claim, now: session.createdAt, c, logger)
            guard claimed == .attached || claimed == .restarted else { return claimed }
            guard try await Self.root(of: claim.learner, c, logger) == claim.learner else { return .attachedElsewhere }
            try await Self.insert(session, for: claim.learner, c, logger)
            return claimed
        }
    }

    package func account(username: String) async throws -> (id: LearnerID, passwordHash: String)? {
        try await withConnection { c in
            try await c.row("SELECT id, password_hash FROM learner WHERE username = \(username)", as: (String, String).self, logger: logger)
                .map { (LearnerID(unchecked: $0.0), $0.1) }
        }
    }

    package func createAccount(_ id: LearnerID, username: String, passwordHash: String, guest: GuestClaim?, session: NewSession) async throws -> AttachOutcome {
        let logger = logger
        return try await AttachRefusal.catching {
            try await transaction { c in
                // The unique username decides between two processes signing up the same name.
                let created = try await c.count(
                    """
                    INSERT INTO learner (id, username, password_hash, created_at) VALUES (\(id.rawValue), \(username), \(passwordHash), \(session.createdAt))
                    ON CONFLICT (username) DO NOTHING RETURNING 1
                    """, logger: logger)
                guard created == 1 else { return .usernameTaken }
                return try await Self.attach(guest, to: id, session: session, c, logger)
            }
        }
    }

    package func signIn(_ account: LearnerID, passwordHash: String, guest: GuestClaim?, session: NewSession) async throws -> AttachOutcome {
        let logger = logger
        return try await AttachRefusal.catching {
            try await transaction { c in
                // The share lock orders this with a password change (which updates the row): one
                // that came first is seen here; one that comes later revokes this session.
                let current = try await c.row(
                    "SELECT password_hash FROM learner WHERE id = \(account.rawValue) FOR SHARE", as: String?.self, logger: logger)
                guard current == .some(passwordHash) else { return .passwordChanged }
                return try await Self.attach(guest, to: account, session: session, c, logger)
            }
        }
    }

    package func revoke(tokenHash: String) async throws -> Bool {
        // In a transaction, though one statement: alone, it would commit after its answer
        // (``QuickPush/procedure``), and a sign-out must not be answered before it holds.
        let logger = logger
        return try await transaction { c in
            try await c.count(
                "UPDATE session SET revoked = TRUE WHERE token_hash = \(tokenHash) AND NOT revoked RETURNING 1", logger: logger) > 0
        }
    }

    package func session(tokenHash: String, now: Int64) async throws -> SessionRecord? {
        try await withConnection { c in
            try await c.row(
                "SELECT learner, expires_at FROM session WHERE token_hash = \(tokenHash) AND NOT revoked AND expires_at > \(now)",
                as: (String, Int64).self, logger: logger
            ).map { SessionRecord(learner: LearnerID(unchecked: $0.0), expiresAt: $0.1) }
        }
    }

    /// Attaches the guest (if any), then stores the session. A refusal throws, rolling back.
    private static func attach(
        _ guest: GuestClaim?, to account: LearnerID, session: NewSession, _ c: StoreConnection, _ logger: Logger
    ) async throws -> AttachOutcome {
        var outcome = AttachOutcome.attached
        if let guest {
            outcome = try await claimGuest(guest, now: session.createdAt, c, logger)
            guard outcome == .attached || outcome == .restarted else { throw AttachRefusal(outcome) }
            let current = try await root(of: guest.learner, c, logger)
            if current != account {
                guard current == guest.learner else { throw AttachRefusal(.attachedElsewhere) }
                try await attachRows(guest.learner, to: account, c, logger)
            }
        }
        try await insert(session, for: account, c, logger)
        return outcome
    }

    /// Attaches an unattached guest whose row is locked: its feed shows after the end of the
    /// account's, so that every device of the account pulls it after its cursor; its rows stay
    /// where they are. Its tokens are revoked.
    static func attachRows(_ guest: LearnerID, to account: LearnerID, _ c: StoreConnection, _ logger: Logger) async throws {
        // The account's feed is written next.
        try await c.execute("SELECT 1 FROM learner WHERE id = \(account.rawValue) FOR UPDATE", logger: logger)
        var mapped: MappedFeed?
        if let range = try await c.row(
            "SELECT MIN(pos), MAX(pos) FROM event WHERE root = \(guest.rawValue)", as: (Int64?, Int64?).self, logger: logger),
            let first = range.0, let last = range.1
        {
            mapped = MappedFeed(guest: guest, first: first, last: last, after: try await lastPosition(of: account, mapped: attached(to: account, c, logger).mapped, c, logger))
        }
        try await c.execute(
            """
            INSERT INTO alias (guest, account, pos_offset, first_pos, last_pos)
            VALUES (\(guest.rawValue), \(account.rawValue), \(mapped?.offset), \(mapped?.first), \(mapped?.last))
            """, logger: logger)
        try await c.execute("UPDATE session SET revoked = TRUE WHERE learner = \(guest.rawValue)", logger: logger)
    }

    package func attestationKey() async throws -> Data {
        try await withConnection { c in
            guard let key = try await c.value("SELECT key FROM attestation_key WHERE id = 1", as: ByteBuffer.self, logger: logger) else {
                throw ServerError("the PostgreSQL database has no attestation key")
            }
            return Data(key.readableBytesView)
        }
    }

    package func reattach(_ aliases: [Alias], tokenHash: String, now: Int64) async throws {
        let logger = logger
        try await transaction { c in
            guard let root = try await Self.root(tokenHash: tokenHash, now: now, c, logger), !root.isGuest else { return }
            for alias in aliases {
                // The attested account: the root, or one the store does not know (forgotten).
                if alias.account != root {
                    let known = try await c.count(
                        "SELECT 1 FROM learner WHERE id = \(alias.account.rawValue) UNION ALL SELECT 1 FROM tombstone WHERE learner = \(alias.account.rawValue)",
                        logger: logger)
                    guard known == 0 else { continue }
                }
                let guest = alias.guest.rawValue
                // The guest's row first (made if missing, without a secret), locked like a claim's.
                try await c.execute(
                    """
                    INSERT INTO learner (id, created_at, last_seen_at) SELECT \(guest), \(now), \(now)
                    WHERE NOT EXISTS (SELECT 1 FROM tombstone WHERE learner = \(guest) AND reason = 'erased')
                    ON CONFLICT (id) DO NOTHING
                    """, logger: logger)
                guard try await c.count("SELECT 1 FROM learner WHERE id = \(guest) FOR UPDATE", logger: logger) == 1,
                      try await c.count("SELECT 1 FROM alias WHERE guest = \(guest)", logger: logger) == 0
                else { continue }
                try await Self.attachRows(alias.guest, to: root, c, logger)
            }
        }
    }

    /// Registers an unknown guest with its secret (again, after it expired: `.restarted`), or
    /// checks a known guest's secret and marks it seen; the guest's row stays locked until the
    /// transaction ends. An erased guest stays erased.
    ///
    /// A guest registered again after it expired keeps its `expired` tombstone, and every later
    /// claim of it answers `.restarted` too: the answer that told its device to send everything
    /// again may have been lost, and sending again costs only duplicates.
    static func claimGuest(_ claim: GuestClaim, now: Int64, _ c: StoreConnection, _ logger: Logger) async throws -> AttachOutcome {
        let id = claim.learner.rawValue
        while true {
            // The learner's row first: an erasure that deleted it meanwhile has committed its
            // tombstone by the time the lock is granted, and the read below sees it.
            if let existing = try await c.row("SELECT secret_hash FROM learner WHERE id = \(id) FOR UPDATE", as: String?.self, logger: logger) {
                // A guest made again from an attestation has no secret: the first its device proves is kept.
                guard let existing else {
                    try await c.execute("UPDATE learner SET secret_hash = \(claim.secretHash), last_seen_at = \(now) WHERE id = \(id)", logger: logger)
                    return .attached
                }
                guard constantTimeEquals(existing, claim.secretHash) else { return .wrongGuestSecret }
                try await c.execute("UPDATE learner SET last_seen_at = \(now) WHERE id = \(id)", logger: logger)
                let restarted = try await c.count("SELECT 1 FROM tombstone WHERE learner = \(id) AND reason = 'expired'", logger: logger) == 1
                return restarted ? .restarted : .attached
            }
            var outcome = AttachOutcome.attached
            if let tombstone = try await c.row(
                "SELECT reason, secret_hash FROM tombstone WHERE learner = \(id) FOR UPDATE", as: (String, String?).self, logger: logger)
            {
                guard tombstone.0 == Tombstone.Reason.expired.rawValue else { return .erased }
                if let kept = tombstone.1, !constantTimeEquals(kept, claim.secretHash) { return .wrongGuestSecret }
                outcome = .restarted
            }
            let inserted = try await c.count(
                """
                INSERT INTO learner (id, secret_hash, created_at, last_seen_at) VALUES (\(id), \(claim.secretHash), \(now), \(now))
                ON CONFLICT (id) DO NOTHING RETURNING 1
                """, logger: logger)
            // Another process registered the same guest meanwhile: check its secret instead.
            if inserted == 1 { return outcome }
        }
    }

    static func insert(_ session: NewSession, for learner: LearnerID, _ c: StoreConnection, _ logger: Logger) async throws {
        try await c.execute(
            "INSERT INTO session (token_hash, learner, expires_at) VALUES (\(session.tokenHash), \(learner.rawValue), \(session.expiresAt))",
            logger: logger)
    }

    // MARK: Shared lookups

    /// The feed root (the account, for an attached guest) of a live session's learner.
    static func root(tokenHash: String, now: Int64, _ c: StoreConnection, _ logger: Logger) async throws -> LearnerID? {
        try await c.row(SessionRoot.self, tokenHash, now, as: String.self, logger: logger).map { LearnerID(unchecked: $0) }
    }

    private enum SessionRoot: PreparedQuery {
        static let sql = sessionRoot
    }

    /// The feed root (column `root`) of the live session of token hash `$1` at time `$2`: its
    /// learner, or the account that learner is attached to.
    static let sessionRoot = """
        SELECT COALESCE(alias.account, session.learner) AS root FROM session LEFT JOIN alias ON alias.guest = session.learner
        WHERE session.token_hash = $1 AND NOT session.revoked AND session.expires_at > $2
        """

    static func root(of learner: LearnerID, _ c: StoreConnection, _ logger: Logger) async throws -> LearnerID {
        try await c.value("SELECT account FROM alias WHERE guest = \(learner.rawValue)", as: String.self, logger: logger)
            .map { LearnerID(unchecked: $0) } ?? learner
    }

    /// The guests attached to `root`, in one read of its `alias` rows, in byte order of their
    /// ids (as SQLite orders them).
    static func attached(to root: LearnerID, _ c: StoreConnection, _ logger: Logger) async throws -> AttachedGuests {
        // Only accounts have guests attached.
        guard !root.isGuest else { return .none }
        let rows = try await c.rows(AttachedRows.self, root.rawValue, as: (String, Int64?, Int64?, Int64?).self, logger: logger)
        return AttachedGuests(account: root, rows: rows.map { (guest: $0.0, offset: $0.1, first: $0.2, last: $0.3) })
    }

    private enum AttachedRows: PreparedQuery {
        static let sql = "SELECT guest, pos_offset, first_pos, last_pos FROM alias WHERE account = $1 ORDER BY guest COLLATE \"C\""
    }

    /// The last position in `root`'s feed (0 when empty), the ranges reserved for its attached
    /// guests (`mapped`) included.
    static func lastPosition(of root: LearnerID, mapped: [MappedFeed], _ c: StoreConnection, _ logger: Logger) async throws -> Int64 {
        let own: Int64 = try await c.row(OwnLastPosition.self, root.rawValue, as: Int64.self, logger: logger) ?? 0
        return MappedFeed.lastPosition(own: own, mapped: mapped)
    }

    private enum OwnLastPosition: PreparedQuery {
        static let sql = "SELECT COALESCE(MAX(pos), 0)::BIGINT FROM event WHERE root = $1"
    }

    /// Reads `root`'s feed after `cursor` in feed order, `limit` rows at most, handing each row's
    /// event columns, its position in the feed and its mark to `body`, until it returns false.
    static func readFeed(
        of root: LearnerID, mapped: [MappedFeed], after cursor: Int64, limit: Int, _ c: StoreConnection, _ logger: Logger,
        _ body: (EventColumns, Int64, Int64) throws -> Bool
    ) async throws {
        var left = Int64(limit)
        for read in MappedFeed.reads(of: root, mapped: mapped, after: cursor) where left > 0 {
            var previous: EventColumns?
            // Read whole (``StoreConnection/allRows(_:logger:)``): a page's rows take many reads.
            for row in try await c.allRows(FeedRows.self, read.root.rawValue, read.after, read.through, left, logger: logger) {
                var cells = row.makeIterator()
                let position = try cells.next(Int64.self)
                let columns = try EventColumns(&cells, previous: previous)
                previous = columns
                left -= 1
                guard try body(columns, position + read.offset, try cells.next(Int64.self)) else { return }
            }
        }
    }

    private enum FeedRows: PreparedQuery {
        static let sql = """
            SELECT pos, \(EventColumns.names), COALESCE(stamp, 0) FROM event
            WHERE root = $1 AND pos > $2 AND pos <= $3 ORDER BY pos LIMIT $4
            """
    }

}
