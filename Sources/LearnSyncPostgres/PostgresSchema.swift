import LearnSyncServer
import Logging
import PostgresNIO

/// The PostgreSQL database's versioned migrations. Never edit a shipped migration; add one.
///
/// Every server process runs them at start, under a transaction-level advisory lock: when
/// several start at once, one migrates and the others find it done. A database migrated by a
/// newer server (a version this one does not know) is refused rather than used.
enum PostgresSchema {
    struct Migration {
        let version: Int
        let name: String
        let statements: [String]
    }

    /// The lock key of migrations (any constant; "LSYN" in ASCII).
    static let lockKey: Int64 = 0x4C53_594E

    static let migrations: [Migration] = [
        Migration(version: 1, name: "learners, sessions, aliases, per-learner feeds, replicas, tombstones", statements: [
            // Guests hold only a hash of their device secret; accounts a username and a bcrypt
            // password hash. `last_seen_at` (guests only, to the hour) drives guest expiry.
            """
            CREATE TABLE learner (
                id TEXT PRIMARY KEY,
                secret_hash TEXT,
                username TEXT UNIQUE,
                password_hash TEXT,
                created_at BIGINT NOT NULL,
                last_seen_at BIGINT
            )
            """,
            "CREATE INDEX learner_idle_guests ON learner (last_seen_at) WHERE username IS NULL",
            // Bearer tokens, by SHA-256 hash only.
            """
            CREATE TABLE session (
                token_hash TEXT PRIMARY KEY,
                learner TEXT NOT NULL REFERENCES learner (id) ON DELETE CASCADE,
                expires_at BIGINT NOT NULL,
                revoked BOOLEAN NOT NULL DEFAULT FALSE
            )
            """,
            "CREATE INDEX session_by_learner ON session (learner)",
            "CREATE TABLE alias (guest TEXT PRIMARY KEY, account TEXT NOT NULL)",
            "CREATE INDEX alias_by_account ON alias (account)",
            // The feeds: `root` is the learner whose feed holds the event (the account once a
            // guest is attached), `pos` its position there, the cursor. Positions are given
            // under the root learner's row lock and committed before the next writer of that
            // feed takes it, so a reader never sees a later position without the earlier ones.
            """
            CREATE TABLE event (
                root TEXT NOT NULL,
                pos BIGINT NOT NULL,
                replica TEXT NOT NULL,
                seq BIGINT NOT NULL,
                learner TEXT NOT NULL,
                hlc BIGINT NOT NULL,
                course TEXT NOT NULL,
                type TEXT NOT NULL,
                item TEXT,
                answers TEXT,
                choice TEXT,
                amount BIGINT,
                sent_hlc BIGINT,
                PRIMARY KEY (root, pos),
                UNIQUE (replica, seq)
            )
            """,
            // Who owns each replica id and the highest counter stored under it.
            "CREATE TABLE replica (id TEXT PRIMARY KEY, owner TEXT NOT NULL, last_seq BIGINT NOT NULL)",
            "CREATE INDEX replica_by_owner ON replica (owner)",
            // What is left of an erased or expired learner, and the token hashes of erased ones.
            "CREATE TABLE tombstone (learner TEXT PRIMARY KEY, reason TEXT NOT NULL, at BIGINT NOT NULL)",
            "CREATE TABLE erased_session (token_hash TEXT PRIMARY KEY, learner TEXT NOT NULL)",
        ]),
        // An attached guest's events stay in its own feed (`root` = the guest), at positions
        // first_pos...last_pos, and show in the account's feed at those plus pos_offset: a range
        // reserved after the account's last position when the guest attached. Guests attached
        // before had their rows moved to the account's feed; their columns stay NULL.
        Migration(version: 2, name: "attached guests' feeds mapped, not moved", statements: [
            "ALTER TABLE alias ADD COLUMN pos_offset BIGINT, ADD COLUMN first_pos BIGINT, ADD COLUMN last_pos BIGINT",
        ]),
        // An expired guest's id could be registered again with any secret, after which its real
        // device got 409: the tombstone keeps the hash of the device secret (a hash of random
        // bytes, nothing about the learner), and only that secret restarts the guest.
        Migration(version: 3, name: "an expired guest keeps its secret's hash", statements: [
            "ALTER TABLE tombstone ADD COLUMN secret_hash TEXT",
        ]),
        // Every course version the server served, as it first served it: attempts graded under a
        // version it stops serving stay graded, and a version served again with other content
        // is refused at start.
        Migration(version: 4, name: "every course version served", statements: [
            "CREATE TABLE course_version (id TEXT NOT NULL, version BIGINT NOT NULL, content TEXT NOT NULL, PRIMARY KEY (id, version))",
        ]),
        // The hash of an expired or revoked token and its learner, kept for a while after the
        // session row is swept: an account erased later still answers `learner-erased` to the
        // device holding it.
        Migration(version: 5, name: "the hashes of ended tokens", statements: [
            "CREATE TABLE retired_session (token_hash TEXT PRIMARY KEY, learner TEXT NOT NULL, retired_at BIGINT NOT NULL)",
            "CREATE INDEX retired_session_by_learner ON retired_session (learner)",
            "CREATE INDEX retired_session_by_time ON retired_session (retired_at)",
        ]),
        // A number drawn at random by the request that stored the row: a device's cursor names
        // the row's mark, and a server that forgot the row (restored from a dump, a standby
        // promoted before it replayed the last commits) holds none there, or one stored again
        // with another mark. Rows from before hold NULL, read as 0.
        Migration(version: 6, name: "feed rows carry their request's mark", statements: [
            "ALTER TABLE event ADD COLUMN stamp BIGINT",
        ]),
        // 32 random bytes (two random UUIDs' 244 random bits), made once: the server attests each
        // guest → account attachment it sends with this key, and makes an attested attachment
        // again after a restore.
        Migration(version: 7, name: "the key of alias attestations", statements: [
            "CREATE TABLE attestation_key (id INT PRIMARY KEY CHECK (id = 1), key BYTEA NOT NULL)",
            "INSERT INTO attestation_key (id, key) VALUES (1, decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'))",
        ]),
        // As the wire names them: `answers` keeps a quiz's answers, a reset's seen set moves to
        // `seen`; `amount` splits into a time-spent event's `seconds`, a resume event's
        // `position` and a quiz attempt's course `version`.
        Migration(version: 8, name: "payload columns named for what they hold", statements: [
            "ALTER TABLE event ADD COLUMN seen TEXT, ADD COLUMN seconds BIGINT, ADD COLUMN position BIGINT, ADD COLUMN version BIGINT",
            "UPDATE event SET seen = COALESCE(answers, ''), answers = NULL WHERE type = 'course.reset'",
            "UPDATE event SET seconds = amount WHERE type = 'time.spent'",
            "UPDATE event SET position = amount WHERE type = 'resume'",
            "UPDATE event SET version = amount WHERE type = 'quiz.attempt'",
            "ALTER TABLE event DROP COLUMN amount",
        ]),
        // The usual push, from a device at its feed's end, in one round trip (``QuickPush``).
        Migration(version: 9, name: "a push from a device at its feed's end in one statement", statements: [QuickPush.function]),
        // The quick push committed before its answer is sent (``QuickPush/procedure``).
        Migration(version: 10, name: "the one-statement push commits before it answers", statements: [QuickPush.procedure]),
    ]

    /// Runs the pending migrations in one transaction.
    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS learnsync_migration (
                    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                """, logger: logger)
            var applied = Set<Int>()
            for try await version in try await connection.query("SELECT version FROM learnsync_migration", logger: logger).decode(Int.self) {
                applied.insert(version)
            }
            let known = migrations.last?.version ?? 0
            if let newest = applied.max(), newest > known {
                throw ServerError("the PostgreSQL database is at schema version \(newest), newer than this server knows (\(known)): upgrade the server")
            }
            for migration in migrations where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO learnsync_migration (version, name) VALUES (\(migration.version), \(migration.name))", logger: logger)
                logger.notice("migrated the PostgreSQL database", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            }
        }
    }
}
