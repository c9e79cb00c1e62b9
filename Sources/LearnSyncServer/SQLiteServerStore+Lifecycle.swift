import GRDB
package import LearnSyncModels
import LearnSyncProtocol

/// Erasure, export, password changes and retention on the embedded store (docs/PRIVACY.md).
extension SQLiteServerStore {
    package func credentials(of learner: LearnerID) async throws -> LearnerCredentials? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT username, passwordHash FROM learner WHERE id = ?", arguments: [learner.rawValue])
                .map { LearnerCredentials(username: $0[0], passwordHash: $0[1]) }
        }
    }

    package func mark(at position: Int64, inFeedOf learner: LearnerID) async throws -> Int64? {
        try await writer.read { db in try Self.ownMark(at: position, of: learner, db) }
    }

    package func tombstone(learner: LearnerID) async throws -> Tombstone? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT reason, at FROM tombstone WHERE learner = ?", arguments: [learner.rawValue]).flatMap { row in
                Tombstone.Reason(rawValue: row["reason"]).map { Tombstone(learner: learner, reason: $0, at: row["at"]) }
            }
        }
    }

    package func tombstone(tokenHash: String) async throws -> Tombstone? {
        try await writer.read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT tombstone.learner, tombstone.reason, tombstone.at FROM erasedSession JOIN tombstone USING (learner) WHERE tokenHash = ?",
                arguments: [tokenHash]
            ).flatMap { row in
                Tombstone.Reason(rawValue: row["reason"]).map { Tombstone(learner: LearnerID(unchecked: row["learner"]), reason: $0, at: row["at"]) }
            }
        }
    }

    package func erase(_ learner: LearnerID, now: Int64) async throws -> ErasureReceipt? {
        let receipt = try await eraseRows(of: learner, now: now)
        // The deleted rows' pages are zeroed in the database file (`secure_delete`), but the
        // write-ahead log keeps copies of them until it starts over, which on a quiet server is
        // never: copy it into the file and cut it to nothing now. Readers (short reads) hold the
        // log; the checkpoint waits for them, up to the busy timeout.
        if receipt != nil {
            try await writer.writeWithoutTransaction { db in _ = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        }
        return receipt
    }

    package func reapplyErasure(of learner: LearnerID, at: Int64) async throws -> Bool {
        if try await erase(learner, now: at) != nil { return true }
        return try await writer.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM learner WHERE id = ?)", arguments: [learner.rawValue]) == false else {
                return false
            }
            try db.execute(
                sql: """
                    INSERT INTO tombstone (learner, reason, at) VALUES (?, 'erased', ?)
                    ON CONFLICT (learner) DO UPDATE SET reason = 'erased', at = excluded.at, secretHash = NULL WHERE reason <> 'erased'
                    """,
                arguments: [learner.rawValue, at])
            return db.changesCount > 0
        }
    }

    private func eraseRows(of learner: LearnerID, now: Int64) async throws -> ErasureReceipt? {
        try await writer.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM learner WHERE id = ?)", arguments: [learner.rawValue]) == true
            else { return nil }
            // A guest attached since its token was checked: the account is not its to erase.
            let root = try Self.root(of: learner, db)
            guard root == learner else { return nil }
            let members = [root] + (try Self.attached(to: root, db).aliases.map(\.guest))
            // The account's feed, and its guests' own feeds shown in it.
            var events = 0
            for member in members {
                try db.execute(sql: "DELETE FROM event WHERE root = ?", arguments: [member.rawValue])
                events += db.changesCount
            }
            for member in members {
                try db.execute(
                    sql: """
                        INSERT OR IGNORE INTO erasedSession (tokenHash, learner)
                        SELECT tokenHash, learner FROM session WHERE learner = ?1
                        UNION ALL SELECT tokenHash, learner FROM retiredSession WHERE learner = ?1
                        """,
                    arguments: [member.rawValue])
                try Self.delete(member, reason: .erased, now: now, db)
            }
            try db.execute(sql: "DELETE FROM alias WHERE account = ?", arguments: [root.rawValue])
            return ErasureReceipt(guests: members.count - 1, events: events, guestIDs: Array(members.dropFirst()))
        }
    }

    package func record(tokenHash: String, now: Int64) async throws -> LearnerRecord? {
        try await writer.read { db in
            guard let root = try Self.root(tokenHash: tokenHash, now: now, db),
                  let row = try Row.fetchOne(db, sql: "SELECT username, createdAt FROM learner WHERE id = ?", arguments: [root.rawValue])
            else { return nil }
            let guests = try Row.fetchAll(
                db, sql: "SELECT learner.id, learner.createdAt FROM alias JOIN learner ON learner.id = alias.guest WHERE alias.account = ? ORDER BY learner.id",
                arguments: [root.rawValue]
            ).map { (id: LearnerID(unchecked: $0[0]), createdAt: $0[1] as Int64) }
            let members = [root.rawValue] + guests.map(\.id.rawValue)
            var arguments = StatementArguments(members)
            arguments += [now]
            let sessions = try Int64.fetchAll(
                db, sql: "SELECT expiresAt FROM session WHERE learner IN (\(databaseQuestionMarks(count: members.count))) AND revoked = 0 AND expiresAt > ? ORDER BY expiresAt",
                arguments: arguments)
            return LearnerRecord(
                learner: root, username: row["username"], createdAt: row["createdAt"], guests: guests, sessions: sessions,
                feedEnd: try Self.lastPosition(of: root, mapped: Self.attached(to: root, db).mapped, db))
        }
    }

    package func setPassword(_ account: LearnerID, from oldHash: String, to passwordHash: String, session: NewSession) async throws -> Bool {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE learner SET passwordHash = ? WHERE id = ? AND passwordHash = ?", arguments: [passwordHash, account.rawValue, oldHash])
            guard db.changesCount == 1 else { return false }
            _ = try Self.revokeSessions(of: account, db)
            try db.execute(
                sql: "INSERT INTO session (tokenHash, learner, expiresAt) VALUES (?, ?, ?)",
                arguments: [session.tokenHash, account.rawValue, session.expiresAt])
            return true
        }
    }

    package func revokeAll(tokenHash: String, now: Int64) async throws -> Int? {
        try await writer.write { db in
            guard let learner = try String.fetchOne(
                db, sql: "SELECT learner FROM session WHERE tokenHash = ? AND revoked = 0 AND expiresAt > ?", arguments: [tokenHash, now])
                .map({ LearnerID(unchecked: $0) }), try Self.root(of: learner, db) == learner
            else { return nil }
            return try Self.revokeSessions(of: learner, db)
        }
    }

    package func keepCourses(_ courses: [StoredCourse]) async throws -> [StoredCourse] {
        try await writer.write { db in
            for course in courses {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO courseVersion (id, version, content) VALUES (?, ?, ?)",
                    arguments: [course.id, course.version, course.content])
            }
            return try Row.fetchAll(db, sql: "SELECT id, version, content FROM courseVersion ORDER BY id, version").map {
                StoredCourse(id: $0[0], version: $0[1], content: $0[2])
            }
        }
    }

    package func sweep(idleSince: Int64, now: Int64, batch: Int) async throws -> SweepReport {
        var report = SweepReport()
        while true {
            // Short transactions, so syncs wait at most one batch.
            let (guests, events) = try await writer.write { db -> (Int, Int) in
                let idle = try String.fetchAll(
                    db, sql: """
                        SELECT id FROM learner WHERE username IS NULL AND lastSeenAt < ?
                        AND NOT EXISTS (SELECT 1 FROM alias WHERE alias.guest = learner.id) LIMIT ?
                        """,
                    arguments: [idleSince, batch])
                var events = 0
                for guest in idle {
                    try db.execute(sql: "DELETE FROM event WHERE root = ?", arguments: [guest])
                    events += db.changesCount
                    try Self.delete(LearnerID(unchecked: guest), reason: .expired, now: now, db)
                }
                return (idle.count, events)
            }
            report.expiredGuests += guests
            report.events += events
            if guests < batch { break }
        }
        report.sessions = try await writer.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO retiredSession (tokenHash, learner, retiredAt) SELECT tokenHash, learner, ? FROM session WHERE expiresAt <= ? OR revoked = 1",
                arguments: [now, now])
            try db.execute(sql: "DELETE FROM session WHERE expiresAt <= ? OR revoked = 1", arguments: [now])
            let sessions = db.changesCount
            try db.execute(sql: "DELETE FROM retiredSession WHERE retiredAt < ?", arguments: [now &- retiredTokenRetention])
            return sessions
        }
        return report
    }

    /// Deletes one learner's row, sessions and replica records, leaving a tombstone.
    private static func delete(_ learner: LearnerID, reason: Tombstone.Reason, now: Int64, _ db: Database) throws {
        // An expired guest's tombstone keeps its secret's hash: only its device may restart it.
        try db.execute(
            sql: "INSERT OR REPLACE INTO tombstone (learner, reason, at, secretHash) VALUES (?, ?, ?, CASE WHEN ? THEN (SELECT secretHash FROM learner WHERE id = ?) END)",
            arguments: [learner.rawValue, reason.rawValue, now, reason == .expired, learner.rawValue])
        try db.execute(sql: "DELETE FROM session WHERE learner = ?", arguments: [learner.rawValue])
        try db.execute(sql: "DELETE FROM retiredSession WHERE learner = ?", arguments: [learner.rawValue])
        try db.execute(sql: "DELETE FROM replica WHERE owner = ?", arguments: [learner.rawValue])
        try db.execute(sql: "DELETE FROM learner WHERE id = ?", arguments: [learner.rawValue])
    }

    /// Revokes the live sessions of a root learner and its guests; returns how many.
    private static func revokeSessions(of root: LearnerID, _ db: Database) throws -> Int {
        try db.execute(
            sql: """
                UPDATE session SET revoked = 1 WHERE revoked = 0
                AND (learner = ? OR learner IN (SELECT guest FROM alias WHERE account = ?))
                """,
            arguments: [root.rawValue, root.rawValue])
        return db.changesCount
    }
}
