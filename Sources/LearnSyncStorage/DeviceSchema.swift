import GRDB
import LearnSyncSQLite

/// The device database's named migrations. Never edit a shipped migration; add a new one.
enum DeviceSchema {
    /// The migrations; credentials a store kept in its `syncState` row before the secret store
    /// move to `secrets`.
    static func migrator(movingCredentialsTo secrets: any SecretStore) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: events, outbox, progress") { db in
            // One row: who this device is and where its clocks stand.
            try db.execute(sql: """
                CREATE TABLE device (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    replica TEXT NOT NULL,
                    learner TEXT NOT NULL,
                    nextSeq INTEGER NOT NULL,
                    hlc INTEGER NOT NULL
                );
                -- The event log. `pending` = 1 while the event is in the outbox (not yet
                -- acknowledged by a server); only this replica's own events are ever pending.
                CREATE TABLE event (
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
                    pending INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (replica, seq)
                ) WITHOUT ROWID;
                CREATE INDEX event_by_course ON event(course, hlc);
                CREATE INDEX event_outbox ON event(seq) WHERE pending = 1;
                -- Events a server refused, kept aside with its reason so they are reported.
                CREATE TABLE rejectedEvent (
                    replica TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    code TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    event BLOB NOT NULL,
                    PRIMARY KEY (replica, seq)
                ) WITHOUT ROWID;
                -- Guest → account edges learned locally or from a server.
                CREATE TABLE alias (
                    guest TEXT PRIMARY KEY NOT NULL,
                    account TEXT NOT NULL
                );
                -- Materialized progress per (root learner, course), as JSON. A rowid table (and
                -- so is `alias`): SQLite does not report changes to WITHOUT ROWID tables, and
                -- progress observation depends on those reports.
                CREATE TABLE progress (
                    learner TEXT NOT NULL,
                    course TEXT NOT NULL,
                    state BLOB NOT NULL,
                    PRIMARY KEY (learner, course)
                );
                -- The link to a server: where, as whom, and how far this device has pulled.
                CREATE TABLE syncState (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    server TEXT,
                    token TEXT,
                    secret TEXT,
                    cursor INTEGER NOT NULL DEFAULT 0,
                    lastSyncAt INTEGER
                );
                INSERT INTO syncState (id) VALUES (1);
                """)
        }
        migrator.registerMigration("v2: refused events kept in the log, clock offset, server catalog, replica moves") { db in
            try db.execute(sql: """
                -- `event.pending` now says where an event stands: 0 stored by a server, 1 in the
                -- outbox, 2 held until the server's catalog changes, 3 refused for good. A refused
                -- event stays in the log and keeps counting on this device.
                DROP TABLE rejectedEvent;
                CREATE TABLE refusal (
                    replica TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    code TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    PRIMARY KEY (replica, seq)
                ) WITHOUT ROWID;
                -- Server time minus device time, in milliseconds, measured at each sync.
                ALTER TABLE device ADD COLUMN clockOffset INTEGER NOT NULL DEFAULT 0;
                -- The server's catalog fingerprint in its last answer, and the one fetched.
                ALTER TABLE syncState ADD COLUMN serverCatalog TEXT;
                ALTER TABLE syncState ADD COLUMN fetchedCatalog TEXT;
                -- Course versions fetched from the server (`GET /v1/catalog`), as JSON.
                CREATE TABLE serverCourse (
                    id TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    json BLOB NOT NULL,
                    PRIMARY KEY (id, version)
                ) WITHOUT ROWID;
                -- The outbox by replica: a sync pushes one replica's events at a time.
                DROP INDEX event_outbox;
                CREATE INDEX event_outbox ON event(replica, seq) WHERE pending = 1;
                -- Events this device gave a new id because a server held another event under the
                -- old one (a restored or cloned device).
                CREATE TABLE movedEvent (
                    replica TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    toReplica TEXT NOT NULL,
                    toSeq INTEGER NOT NULL,
                    PRIMARY KEY (replica, seq)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v3: why the device started over") { db in
            try db.execute(sql: """
                -- The last thing the learner must be told about their data on the server (their
                -- account was erased, their guest expired), with when it happened.
                ALTER TABLE syncState ADD COLUMN notice TEXT;
                ALTER TABLE syncState ADD COLUMN noticeAt INTEGER;
                """)
        }
        migrator.registerMigration("v4: the outbox in its own table") { db in
            try db.execute(sql: """
                -- The outbox: the ids of events no server has acknowledged yet. Acknowledging a
                -- batch deletes one range of this small table; flagging each event row instead
                -- rewrote every row of the batch and its entry in a partial index.
                CREATE TABLE outbox (
                    replica TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    PRIMARY KEY (replica, seq)
                ) WITHOUT ROWID;
                INSERT INTO outbox (replica, seq) SELECT replica, seq FROM event WHERE pending = 1;
                -- `event.pending` keeps only what a server said: 0 nothing (stored, or not sent
                -- yet: see `outbox`), 2 held until the server's catalog changes, 3 refused for good.
                UPDATE event SET pending = 0 WHERE pending = 1;
                DROP INDEX event_outbox;
                -- Held and refused events are few: a partial index finds them and costs nothing
                -- when an event is recorded or pulled.
                CREATE INDEX event_refused ON event(replica, seq) WHERE pending <> 0;
                """)
        }
        migrator.registerMigration("v5: no index by course") { db in
            // Only rebuilding a course's progress (after a reset, an attach or a catalog
            // change) looked events up by course; every recorded and pulled event paid for the
            // index. A rebuild scans the log instead.
            try db.execute(sql: "DROP INDEX event_by_course")
        }
        migrator.registerMigration("v6: recorded events need no outbox row") { db in
            // This replica's events past the mark are in the outbox without a row (`Outbox`).
            // Every unacknowledged event has its row so far: the mark starts past them all.
            try db.execute(sql: """
                ALTER TABLE device ADD COLUMN outboxThrough INTEGER NOT NULL DEFAULT 0;
                UPDATE device SET outboxThrough = COALESCE((SELECT MAX(seq) FROM event WHERE event.replica = device.replica), 0);
                """)
        }
        migrator.registerMigration("v7: the catalog progress was built under") { db in
            // The fingerprint of the (bundled and fetched) catalog the progress rows were built
            // under: an app update that bundles another catalog rebuilds them when the store
            // opens. NULL, as here, rebuilds them once.
            try db.execute(sql: "ALTER TABLE device ADD COLUMN progressCatalog TEXT")
        }
        migrator.registerMigration("v8: every course version the app bundled") { db in
            // Course versions the app bundled, kept after an update that bundles only newer
            // ones: attempts answered under them are graded under them, and a certificate
            // earned under their rule stays earned. `serverCourse` likewise keeps every
            // version a server served.
            try db.execute(sql: """
                CREATE TABLE bundledCourse (
                    id TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    json BLOB NOT NULL,
                    PRIMARY KEY (id, version)
                ) WITHOUT ROWID;
                ALTER TABLE device ADD COLUMN bundledCatalog TEXT;
                """)
        }
        migrator.registerMigration("v9: the mark of the row at the cursor") { db in
            // The server's mark of the feed row at the cursor, sent back with the cursor: a server
            // that forgot part of the feed no longer holds it, and answers from the feed's start.
            try db.execute(sql: "ALTER TABLE syncState ADD COLUMN cursorMark INTEGER")
        }
        migrator.registerMigration("v10: the guest this device was") { db in
            // The guest this device was before it signed up or in (its device secret proves it):
            // after a server forgot the account, signing in again attaches that guest anew.
            try db.execute(sql: "ALTER TABLE device ADD COLUMN guest TEXT")
        }
        migrator.registerMigration("v11: the server's attestations of aliases") { db in
            // The server's proof that it attached the guest to the account (`proofAccount`, which
            // stays when the device moves a forgotten account's progress into another): sent back
            // with the guest's events, it makes a restored server attach the guest again.
            try db.execute(sql: "ALTER TABLE alias ADD COLUMN proof TEXT; ALTER TABLE alias ADD COLUMN proofAccount TEXT")
        }
        migrator.registerMigration("v12: columns named for what they hold") { db in
            // Credentials of a store made before the secret store move there, and their columns go.
            if let row = try Row.fetchOne(db, sql: "SELECT token, secret FROM syncState WHERE token IS NOT NULL OR secret IS NOT NULL") {
                if let token: String = row["token"] { try secrets.setSecret(token, for: .token) }
                if let secret: String = row["secret"] { try secrets.setSecret(secret, for: .deviceSecret) }
            }
            try db.execute(sql: """
                ALTER TABLE syncState DROP COLUMN token;
                ALTER TABLE syncState DROP COLUMN secret;
                -- What a server said about the event (`Verdict`): 0 nothing, 2 held until the
                -- server's catalog changes, 3 refused for good.
                ALTER TABLE event RENAME COLUMN pending TO verdict;
                """)
            try db.execute(sql: EventPayloadMigration.splitSQL)
        }
        return migrator
    }
}
