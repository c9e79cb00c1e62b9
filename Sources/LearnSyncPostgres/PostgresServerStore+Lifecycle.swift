import Foundation
package import LearnSyncModels
import LearnSyncProtocol
package import LearnSyncServer
import Logging
import PostgresNIO

/// Erasure, export, password changes and retention on PostgreSQL (docs/PRIVACY.md).
extension PostgresServerStore {
    package func credentials(of learner: LearnerID) async throws -> LearnerCredentials? {
        try await withConnection { c in
            try await c.row(
                "SELECT username, password_hash FROM learner WHERE id = \(learner.rawValue)", as: (String?, String?).self, logger: logger
            ).map { LearnerCredentials(username: $0.0, passwordHash: $0.1) }
        }
    }

    package func mark(at position: Int64, inFeedOf learner: LearnerID) async throws -> Int64? {
        try await withConnection { c in try await Self.ownMark(at: position, of: learner, c, logger) }
    }

    /// The mark of the row at `position` of `learner`'s own feed (0 for a row from before marks),
    /// nil when there is none.
    static func ownMark(at position: Int64, of learner: LearnerID, _ c: StoreConnection, _ logger: Logger) async throws -> Int64? {
        try await c.value("SELECT COALESCE(stamp, 0) FROM event WHERE root = \(learner.rawValue) AND pos = \(position)", as: Int64.self, logger: logger)
    }

    package func tombstone(learner: LearnerID) async throws -> Tombstone? {
        try await withConnection { c in
            try await c.row("SELECT reason, at FROM tombstone WHERE learner = \(learner.rawValue)", as: (String, Int64).self, logger: logger)
                .flatMap { row in Tombstone.Reason(rawValue: row.0).map { Tombstone(learner: learner, reason: $0, at: row.1) } }
        }
    }

    package func tombstone(tokenHash: String) async throws -> Tombstone? {
        try await withConnection { c in
            try await c.row(
                """
                SELECT tombstone.learner, tombstone.reason, tombstone.at FROM erased_session
                JOIN tombstone ON tombstone.learner = erased_session.learner WHERE erased_session.token_hash = \(tokenHash)
                """, as: (String, String, Int64).self, logger: logger
            ).flatMap { row in Tombstone.Reason(rawValue: row.1).map { Tombstone(learner: LearnerID(unchecked: row.0), reason: $0, at: row.2) } }
        }
    }

    package func reapplyErasure(of learner: LearnerID, at: Int64) async throws -> Bool {
        if try await erase(learner, now: at) != nil { return true }
        let logger = logger
        return try await transaction { c in
            guard try await c.count("SELECT 1 FROM learner WHERE id = \(learner.rawValue)", logger: logger) == 0 else { return false }
            return try await c.count(
                """
                INSERT INTO tombstone (learner, reason, at) VALUES (\(learner.rawValue), 'erased', \(at))
                ON CONFLICT (learner) DO UPDATE SET reason = 'erased', at = excluded.at, secret_hash = NULL WHERE tombstone.reason <> 'erased'
                RETURNING 1
                """, logger: logger) > 0
        }
    }

    package func erase(_ learner: LearnerID, now: Int64) async throws -> ErasureReceipt? {
        let logger = logger
        return try await transaction { c in
            guard try await c.count("SELECT 1 FROM learner WHERE id = \(learner.rawValue) FOR UPDATE", logger: logger) == 1 else { return nil }
            // A guest attached since its token was checked: the account is not its to erase.
            let root = try await Self.root(of: learner, c, logger)
            guard root == learner else { return nil }
            // The root's lock stops its syncs; its guests' rows are locked as they are deleted.
            try await c.execute("SELECT 1 FROM learner WHERE id = \(root.rawValue) FOR UPDATE", logger: logger)
            let members = [root] + (try await Self.attached(to: root, c, logger)).aliases.map(\.guest)
            // The account's feed, and its guests' own feeds shown in it.
            var events = 0
            for member in members {
                events += try await c.count("DELETE FROM event WHERE root = \(member.rawValue) RETURNING 1", logger: logger)
            }
            for member in members {
                try await c.execute(
                    """
                    INSERT INTO erased_session (token_hash, learner)
                    SELECT token_hash, learner FROM session WHERE learner = \(member.rawValue)
                    UNION ALL SELECT token_hash, learner FROM retired_session WHERE learner = \(member.rawValue)
                    ON CONFLICT (token_hash) DO NOTHING
                    """, logger: logger)
                try await Self.delete(member, reason: .erased, now: now, c, logger)
            }
            try await c.execute("DELETE FROM alias WHERE account = \(root.rawValue)", logger: logger)
            return ErasureReceipt(guests: members.count - 1, events: events, guestIDs: Array(members.dropFirst()))
        }
    }

    package func record(tokenHash: String, now: Int64) async throws -> LearnerRecord? {
        let logger = logger
        return try await transaction(readOnly: true) { c in
            guard let root = try await Self.root(tokenHash: tokenHash, now: now, c, logger),
                  let row = try await c.row(
                      "SELECT username, created_at FROM learner WHERE id = \(root.rawValue)", as: (String?, Int64).self, logger: logger)
            else { return nil }
            let guests = try await c.rows(
                """
                SELECT learner.id, learner.created_at FROM alias JOIN learner ON learner.id = alias.guest
                WHERE alias.account = \(root.rawValue) ORDER BY learner.id COLLATE "C"
                """, as: (String, Int64).self, logger: logger
            ).map { (id: LearnerID(unchecked: $0.0), createdAt: $0.1) }
            let members = [root.rawValue] + guests.map(\.id.rawValue)
            let sessions = try await c.rows(
                "SELECT expires_at FROM session WHERE learner = ANY(\(members)) AND NOT revoked AND expires_at > \(now) ORDER BY expires_at",
                as: Int64.self, logger: logger)
            return LearnerRecord(
                learner: root, username: row.0, createdAt: row.1, guests: guests, sessions: sessions,
                feedEnd: try await Self.lastPosition(of: root, mapped: Self.attached(to: root, c, logger).mapped, c, logger))
        }
    }

    package func setPassword(_ account: LearnerID, from oldHash: String, to passwordHash: String, session: NewSession) async throws -> Bool {
        let logger = logger
        return try await transaction { c in
            let changed = try await c.count(
                "UPDATE learner SET password_hash = \(passwordHash) WHERE id = \(account.rawValue) AND password_hash = \(oldHash) RETURNING 1",
                logger: logger)
            guard changed == 1 else { return false }
            _ = try await Self.revokeSessions(of: account, c, logger)
            try await Self.insert(session, for: account, c, logger)
            return true
        }
    }

    package func revokeAll(tokenHash: String, now: Int64) async throws -> Int? {
        let logger = logger
        return try await transaction { c in
            guard let id = try await c.row(
                "SELECT learner FROM session WHERE token_hash = \(tokenHash) AND NOT revoked AND expires_at > \(now)", as: String.self, logger: logger)
            else { return nil }
            // The learner's lock orders this with an attachment, which locks the guest's row.
            try await c.execute("SELECT 1 FROM learner WHERE id = \(id) FOR UPDATE", logger: logger)
            let learner = LearnerID(unchecked: id)
            guard try await Self.root(of: learner, c, logger) == learner else { return nil }
            return try await Self.revokeSessions(of: learner, c, logger)
        }
    }

    package func keepCourses(_ courses: [StoredCourse]) async throws -> [StoredCourse] {
        try await prepare()
        let logger = logger
        return try await transaction { c in
            for course in courses {
                try await c.execute(
                    """
                    INSERT INTO course_version (id, version, content)
                    VALUES (\(course.id), \(Int64(course.version)), \(String(decoding: course.content, as: UTF8.self)))
                    ON CONFLICT (id, version) DO NOTHING
                    """, logger: logger)
            }
            return try await c.rows("SELECT id, version, content FROM course_version ORDER BY id, version", as: (String, Int64, String).self, logger: logger)
                .map { StoredCourse(id: $0.0, version: Int($0.1), content: Data($0.2.utf8)) }
        }
    }

    package func sweep(idleSince: Int64, now: Int64, batch: Int) async throws -> SweepReport {
        // The retention service starts with the server, maybe before the migrations ended.
        try await prepare()
        let logger = logger
        var report = SweepReport()
        while true {
            // Short transactions, so syncs wait at most one batch. Guests another process is
            // sweeping, or syncing, are skipped (their rows are locked).
            let (guests, events) = try await transaction { c -> (Int, Int) in
                let idle = try await c.rows(
                    """
                    SELECT id FROM learner WHERE username IS NULL AND last_seen_at < \(idleSince)
                    AND NOT EXISTS (SELECT 1 FROM alias WHERE alias.guest = learner.id) LIMIT \(Int64(batch)) FOR UPDATE SKIP LOCKED
                    """, as: String.self, logger: logger)
                var events = 0
                for guest in idle {
                    events += try await c.count("DELETE FROM event WHERE root = \(guest) RETURNING 1", logger: logger)
                    try await Self.delete(LearnerID(unchecked: guest), reason: .expired, now: now, c, logger)
                }
                return (idle.count, events)
            }
            report.expiredGuests += guests
            report.events += events
            if guests < batch { break }
        }
        report.sessions = try await transaction { c in
            try await c.execute(
                """
                INSERT INTO retired_session (token_hash, learner, retired_at)
                SELECT token_hash, learner, \(now) FROM session WHERE expires_at <= \(now) OR revoked
                ON CONFLICT (token_hash) DO NOTHING
                """, logger: logger)
            let sessions = try await c.count("DELETE FROM session WHERE expires_at <= \(now) OR revoked RETURNING 1", logger: logger)
            try await c.execute("DELETE FROM retired_session WHERE retired_at < \(now &- retiredTokenRetention)", logger: logger)
            return sessions
        }
        return report
    }

    /// Deletes one learner's row, sessions and replica records, leaving a tombstone.
    private static func delete(_ learner: LearnerID, reason: Tombstone.Reason, now: Int64, _ c: StoreConnection, _ logger: Logger) async throws {
        let id = learner.rawValue
        // An expired guest's tombstone keeps its secret's hash: only its device may restart it.
        try await c.execute(
            """
            INSERT INTO tombstone (learner, reason, at, secret_hash)
            VALUES (\(id), \(reason.rawValue), \(now), CASE WHEN \(reason == .expired) THEN (SELECT secret_hash FROM learner WHERE id = \(id)) END)
            ON CONFLICT (learner) DO UPDATE SET reason = excluded.reason, at = excluded.at, secret_hash = excluded.secret_hash
            """, logger: logger)
        try await c.execute("DELETE FROM session WHERE learner = \(id)", logger: logger)
        try await c.execute("DELETE FROM retired_session WHERE learner = \(id)", logger: logger)
        try await c.execute("DELETE FROM replica WHERE owner = \(id)", logger: logger)
        try await c.execute("DELETE FROM learner WHERE id = \(id)", logger: logger)
    }

    /// Revokes the live sessions of a root learner and its guests; returns how many.
    private static func revokeSessions(of root: LearnerID, _ c: StoreConnection, _ logger: Logger) async throws -> Int {
        try await c.count(
            """
            UPDATE session SET revoked = TRUE WHERE NOT revoked
            AND (learner = \(root.rawValue) OR learner IN (SELECT guest FROM alias WHERE account = \(root.rawValue))) RETURNING 1
            """, logger: logger)
    }
}
