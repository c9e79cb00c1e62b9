import Foundation
import GRDB
import LearnSyncSQLite

/// The server database's named migrations. Never edit a shipped migration; add a new one.
enum ServerSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: learners, sessions, aliases, feed") { db in
            try db.execute(sql: """
                -- Guests hold only a hash of their device secret; accounts a username and a
                -- bcrypt password hash. Nothing else about a learner is stored.
                CREATE TABLE learner (
                    id TEXT PRIMARY KEY NOT NULL,
                    secretHash TEXT,
                    username TEXT UNIQUE,
                    passwordHash TEXT,
                    createdAt INTEGER NOT NULL
                );
                -- Bearer tokens, by SHA-256 hash only.
                CREATE TABLE session (
                    tokenHash TEXT PRIMARY KEY NOT NULL,
                    learner TEXT NOT NULL REFERENCES learner(id) ON DELETE CASCADE,
                    expiresAt INTEGER NOT NULL,
                    revoked INTEGER NOT NULL DEFAULT 0
                );
                CREATE INDEX session_by_learner ON session(learner);
                CREATE TABLE alias (
                    guest TEXT PRIMARY KEY NOT NULL,
                    account TEXT NOT NULL
                );
                CREATE INDEX alias_by_account ON alias(account);
                -- The change feed: `feed` is the cursor, `root` the learner whose feed holds the
                -- event (the account once a guest is attached).
                CREATE TABLE event (
                    feed INTEGER PRIMARY KEY AUTOINCREMENT,
                    root TEXT NOT NULL,
                    replica TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    learner TEXT NOT NULL,
                    hlc INTEGER NOT NULL,
                    course TEXT NOT NULL,
                    type TEXT NOT NULL,
                    item TEXT,
                    answers TEXT,
                    choice TEXT,
                    amount INTEGER,
                    UNIQUE (replica, seq)
                );
                CREATE INDEX event_feed ON event(root, feed);
                """)
        }
        migrator.registerMigration("v2: replica owners, sent times") { db in
            try db.execute(sql: """
                -- Who owns each replica id (the learner whose session first pushed under it) and
                -- the highest counter stored under it: a device behind it was restored or cloned.
                CREATE TABLE replica (
                    id TEXT PRIMARY KEY NOT NULL,
                    owner TEXT NOT NULL,
                    lastSeq INTEGER NOT NULL
                ) WITHOUT ROWID;
                -- The time an event carried when the server stored it at its own time instead
                -- (it was more than a minute ahead); NULL when stored as sent. A re-sent copy is
                -- the same event when it matches the time it was sent with.
                ALTER TABLE event ADD COLUMN sentHLC INTEGER;
                """)
        }
        migrator.registerMigration("v3: erasure, guest expiry") { db in
            try db.execute(sql: """
                -- When an unattached guest last registered or synced (to the hour): guests idle for
                -- longer than the retention period are deleted. Not kept for accounts.
                ALTER TABLE learner ADD COLUMN lastSeenAt INTEGER;
                UPDATE learner SET lastSeenAt = createdAt WHERE username IS NULL;
                CREATE INDEX learner_idle_guests ON learner(lastSeenAt) WHERE username IS NULL;
                CREATE INDEX replica_by_owner ON replica(owner);
                -- What is left of an erased or expired learner: its random id, why and when.
                CREATE TABLE tombstone (
                    learner TEXT PRIMARY KEY NOT NULL,
                    reason TEXT NOT NULL,
                    at INTEGER NOT NULL
                ) WITHOUT ROWID;
                -- The token hashes of erased learners, so that their devices are told.
                CREATE TABLE erasedSession (
                    tokenHash TEXT PRIMARY KEY NOT NULL,
                    learner TEXT NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v4: per-learner feed positions") { db in
            try db.execute(sql: """
                -- The cursor is a position in the learner's own feed, not in the server's: it
                -- tells a device nothing about other learners' activity. Existing rows keep their
                -- old number as position, so cursors devices hold stay valid; new events of a
                -- learner take the next position after that learner's last.
                ALTER TABLE event ADD COLUMN pos INTEGER;
                UPDATE event SET pos = feed;
                CREATE UNIQUE INDEX event_by_root_pos ON event(root, pos);
                DROP INDEX event_feed;
                """)
        }
        migrator.registerMigration("v5: attached guests' feeds mapped, not moved") { db in
            try db.execute(sql: """
                -- An attached guest's events stay in its own feed (`root` = the guest), at positions
                -- firstPos...lastPos, and show in the account's feed at those plus posOffset: a range
                -- reserved after the account's last position when the guest attached. Guests attached
                -- before had their rows moved to the account's feed; their columns stay NULL.
                ALTER TABLE alias ADD COLUMN posOffset INTEGER;
                ALTER TABLE alias ADD COLUMN firstPos INTEGER;
                ALTER TABLE alias ADD COLUMN lastPos INTEGER;
                """)
        }
        migrator.registerMigration("v6: a replica's counter is the log's") { db in
            // Every push raised `replica.lastSeq` to the highest counter it stored: one more row
            // written per push, on a page of its own. The log's `(replica, seq)` index holds the
            // same number (erasure and expiry delete a learner's events and replica rows together).
            try db.execute(sql: "ALTER TABLE replica DROP COLUMN lastSeq")
        }
        migrator.registerMigration("v7: an expired guest keeps its secret's hash") { db in
            // An expired guest's id could be registered again with any secret, after which its
            // real device got 409: the tombstone keeps the hash of the device secret (a hash of
            // random bytes, nothing about the learner), and only that secret restarts the guest.
            try db.execute(sql: "ALTER TABLE tombstone ADD COLUMN secretHash TEXT")
        }
        migrator.registerMigration("v8: every course version served") { db in
            // Every course version the server served, as it first served it: attempts graded
            // under a version it stops serving stay graded, and a version served again with
            // other content is refused at start.
            try db.execute(sql: """
                CREATE TABLE courseVersion (
                    id TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    content BLOB NOT NULL,
                    PRIMARY KEY (id, version)
                ) WITHOUT ROWID
                """)
        }
        migrator.registerMigration("v9: the hashes of ended tokens") { db in
            // The hash of an expired or revoked token and its learner, kept for a while after the
            // session row is swept: an account erased later still answers `learner-erased` to
            // the device holding it (a phone unused for months, or signed out everywhere).
            try db.execute(sql: """
                CREATE TABLE retiredSession (
                    tokenHash TEXT PRIMARY KEY NOT NULL,
                    learner TEXT NOT NULL,
                    retiredAt INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX retiredSession_by_learner ON retiredSession(learner);
                CREATE INDEX retiredSession_by_time ON retiredSession(retiredAt);
                """)
        }
        migrator.registerMigration("v10: feed rows carry their request's mark") { db in
            // A number drawn at random by the request that stored the row: a device's cursor names
            // the row's mark, and a server that forgot the row (restored from a backup, lost its
            // last commits) holds none there, or one stored again with another mark. Rows from
            // before hold NULL, read as 0.
            try db.execute(sql: "ALTER TABLE event ADD COLUMN stamp INTEGER")
        }
        migrator.registerMigration("v11: the key of alias attestations") { db in
            // 32 random bytes, made once: the server attests each guest → account attachment it
            // sends with this key, and makes an attested attachment again after a restore.
            try db.execute(sql: "CREATE TABLE attestationKey (id INTEGER PRIMARY KEY CHECK (id = 1), key BLOB NOT NULL)")
            var generator = SystemRandomNumberGenerator()
            let key = Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
            try db.execute(sql: "INSERT INTO attestationKey (id, key) VALUES (1, ?)", arguments: [key])
        }
        migrator.registerMigration("v12: payload columns named for what they hold") { db in
            try db.execute(sql: EventPayloadMigration.splitSQL)
        }
        return migrator
    }
}
