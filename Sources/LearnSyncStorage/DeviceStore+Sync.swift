public import Foundation
import GRDB
public import LearnSyncModels

/// The device's link to a server.
public struct SyncState: Hashable, Sendable {
    /// The server this device syncs with, if one was set.
    public var server: URL?
    /// The bearer token for the server (a device secret; never logged).
    public var token: String?
    /// How far this device has pulled the learner's change feed.
    public var cursor: Int64
    /// When the last successful sync round finished.
    public var lastSyncAt: Date?
    /// The random secret that proves this device owns its guest id (never logged).
    public var secret: String?
}

/// An event a server refused, kept aside with its reason.
public struct RejectedEvent: Hashable, Sendable {
    public var event: ProgressEvent
    /// A stable reason code from the protocol (`unknown-item`, `clock-skew`, ...).
    public var code: String
    /// A human explanation from the server.
    public var reason: String

    public init(event: ProgressEvent, code: String, reason: String) {
        self.event = event
        self.code = code
        self.reason = reason
    }
}

/// What one sync round trip brought back, stored in one transaction.
public struct SyncRoundResult: Sendable {
    /// The events that were pushed in the request, acknowledged by the answer.
    public var pushed: [ProgressEvent]
    /// The pushed events the server refused, with reasons (they leave the outbox too).
    public var rejected: [(id: EventID, code: String, reason: String)]
    /// Events of the learner that this device had not seen.
    public var pulled: [ProgressEvent]
    /// Guest → account edges of the learner.
    public var aliases: [(guest: LearnerID, account: LearnerID)]
    /// The new cursor.
    public var cursor: Int64

    public init(
        pushed: [ProgressEvent], rejected: [(id: EventID, code: String, reason: String)], pulled: [ProgressEvent],
        aliases: [(guest: LearnerID, account: LearnerID)], cursor: Int64
    ) {
        self.pushed = pushed
        self.rejected = rejected
        self.pulled = pulled
        self.aliases = aliases
        self.cursor = cursor
    }
}

extension DeviceStore {
    /// The server link, token and cursor.
    public func syncState() async throws -> SyncState {
        try await read { db in try Self.syncState(db) }
    }

    static func syncState(_ db: Database) throws -> SyncState {
        let row = try Row.fetchOne(db, sql: "SELECT server, token, secret, cursor, lastSyncAt FROM syncState WHERE id = 1")
        return SyncState(
            server: (row?["server"] as String?).flatMap(URL.init(string:)),
            token: row?["token"],
            cursor: row?["cursor"] ?? 0,
            lastSyncAt: (row?["lastSyncAt"] as Int64?).map { Date(timeIntervalSince1970: Double($0) / 1000) },
            secret: row?["secret"])
    }

    /// Sets the server and token this device syncs with. A new server starts from cursor 0.
    public func setServer(_ server: URL, token: String?) async throws {
        try await write { db in
            let current = try Self.syncState(db)
            let cursor = current.server == server ? current.cursor : 0
            try db.execute(
                sql: "UPDATE syncState SET server = ?, token = ?, cursor = ? WHERE id = 1",
                arguments: [server.absoluteString, token, cursor])
        }
    }

    /// Stores a new token (after registering, signing up or signing in).
    public func setToken(_ token: String?) async throws {
        try await write { db in try db.execute(sql: "UPDATE syncState SET token = ? WHERE id = 1", arguments: [token]) }
    }

    /// This device's guest secret, made (128 random bits) and stored on first use.
    public func deviceSecret() async throws -> String {
        try await write { db in
            if let secret = try String.fetchOne(db, sql: "SELECT secret FROM syncState WHERE id = 1") { return secret }
            let secret = IdentifierRules.randomToken() + IdentifierRules.randomToken()
            try db.execute(sql: "UPDATE syncState SET secret = ? WHERE id = 1", arguments: [secret])
            return secret
        }
    }

    /// The oldest events of the outbox, in the order they were recorded.
    public func pendingEvents(limit: Int) async throws -> [ProgressEvent] {
        try await read { db in
            try EventRow.fetchAll(
                db, sql: "SELECT \(EventRow.columns) FROM event WHERE pending = 1 ORDER BY seq LIMIT ?", arguments: [limit])
        }
    }

    /// How many events wait in the outbox.
    public func pendingCount() async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event WHERE pending = 1") ?? 0 }
    }

    /// The events servers refused, with their reasons.
    public func rejectedEvents() async throws -> [RejectedEvent] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT event, code, reason FROM rejectedEvent ORDER BY seq").map { row in
                RejectedEvent(
                    event: try JSONDecoder().decode(ProgressEvent.self, from: row["event"] as Data),
                    code: row["code"], reason: row["reason"])
            }
        }
    }

    /// Stores one round trip's answer in one transaction: the pushed events leave the outbox,
    /// refused ones are moved aside, pulled events and aliases are merged, and the cursor moves.
    /// If the transaction fails nothing changes, and the next round re-sends the same events
    /// (the server ignores duplicates).
    ///
    /// - Returns: whether events are still in the outbox (recorded while the round was out, or
    ///   beyond the round's page). An existence check: counting the outbox on every round of a
    ///   long catch-up made pushing quadratic in the outbox's size.
    @discardableResult
    public func apply(_ result: SyncRoundResult, now: Date = Date()) async throws -> Bool {
        let catalog = catalog
        return try await write { db in
            try Self.saveClock(db)
            var progress = try ProgressWriter(db: db, catalog: catalog)
            var needsRebuild = false

            let ack = try db.cachedStatement(sql: "UPDATE event SET pending = 0 WHERE replica = ? AND seq = ? AND pending = 1")
            for event in result.pushed {
                ack.setUncheckedArguments([event.id.replica.rawValue, event.id.seq])
                try ack.execute()
            }
            let encoder = JSONEncoder()
            for rejection in result.rejected {
                guard let event = result.pushed.first(where: { $0.id == rejection.id }) else { continue }
                try db.execute(
                    sql: "INSERT OR REPLACE INTO rejectedEvent (replica, seq, code, reason, event) VALUES (?, ?, ?, ?, ?)",
                    arguments: [event.id.replica.rawValue, event.id.seq, rejection.code, rejection.reason, try encoder.encode(event)])
                try db.execute(
                    sql: "DELETE FROM event WHERE replica = ? AND seq = ?", arguments: [event.id.replica.rawValue, event.id.seq])
                needsRebuild = true
            }
            for edge in result.aliases where try progress.insertAlias(guest: edge.guest, account: edge.account) {
                // A guest this device holds no events of changes no progress here.
                if try progress.hasEvents(of: edge.guest) { needsRebuild = true }
            }
            var latest = HLCTimestamp(rawValue: 0)
            for event in result.pulled where try EventRow.insert(event, pending: false, in: db) {
                latest = max(latest, event.timestamp)
                if !needsRebuild { try progress.apply(event) }
            }
            if needsRebuild { try progress.rebuild(learner: Self.currentRoot(db)) }
            try progress.flush()
            try db.execute(sql: "UPDATE device SET hlc = max(hlc, ?) WHERE id = 1", arguments: [latest.rawValue])
            try db.execute(
                sql: "UPDATE syncState SET cursor = ?, lastSyncAt = ? WHERE id = 1",
                arguments: [result.cursor, Int64(now.timeIntervalSince1970 * 1000)])
            return try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM event WHERE pending = 1)")) ?? false
        }
    }
}
