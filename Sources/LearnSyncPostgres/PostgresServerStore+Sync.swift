public import LearnSyncModels
import LearnSyncProtocol
public import LearnSyncServer
import Logging
import PostgresNIO

/// Sync on PostgreSQL: the rules of ``SyncRules`` over row locks.
extension PostgresServerStore {
    public func sync(
        tokenHash: String, now: Int64, replica: ReplicaID, lastSeq: Int64, events: [ProgressEvent], cursor: Int64, limit: Int
    ) async throws -> FeedPage? {
        let logger = logger
        guard !events.isEmpty else {
            // A pull stores nothing: it reads one snapshot.
            let (page, staleGuest) = try await transaction(readOnly: true) { c -> (FeedPage?, LearnerID?) in
                guard let root = try await Self.root(tokenHash: tokenHash, now: now, c, logger) else { return (nil, nil) }
                let held = try await c.row(ReplicaHeld.self, replica.rawValue, as: (String, Int64).self, logger: logger)
                var rules = SyncRules(root: root, replica: replica, lastSeq: lastSeq, now: now)
                rules.check(owner: held.map { LearnerID(unchecked: $0.0) }, storedLastSeq: held?.1 ?? 0)
                let page = try await Self.page(of: root, attached: Self.attached(to: root, c, logger), after: cursor, limit: limit, rules: rules, c, logger)
                let stale = try await Self.guestSeenBefore(root, now - SyncRules.seenGranularity, c, logger)
                return (page, stale ? root : nil)
            }
            if let staleGuest {
                try await client.withConnection { c in
                    try await c.execute(
                        "UPDATE learner SET last_seen_at = GREATEST(last_seen_at, \(now)) WHERE id = \(staleGuest.rawValue)", logger: logger)
                }
            }
            return page
        }
        return try await transaction { c in
            guard let (root, lastSeen) = try await Self.lockRoot(tokenHash: tokenHash, now: now, c, logger) else { return nil }
            if root.isGuest, let lastSeen, lastSeen < now - SyncRules.seenGranularity {
                try await c.execute("UPDATE learner SET last_seen_at = GREATEST(last_seen_at, \(now)) WHERE id = \(root.rawValue)", logger: logger)
            }
            // The replica's row, created for this learner if new, is locked: every event stored
            // under the replica id is visible to the checks below until the commit.
            let held = try await c.row(ReplicaLocked.self, replica.rawValue, root.rawValue, as: (String, Int64).self, logger: logger)
            var rules = SyncRules(root: root, replica: replica, lastSeq: lastSeq, now: now)
            rules.check(owner: held.map { LearnerID(unchecked: $0.0) }, storedLastSeq: held?.1 ?? 0)
            let attached = try await Self.attached(to: root, c, logger)
            let members = attached.members(of: root)
            var existing = try await Self.stored(replica, seqs: events.map(\.id.seq), c, logger)
            let strangers: [String] = Array(Set(events.map(\.learner).filter { !members.contains($0) }.map(\.rawValue)))
            let erased: Set<String> = strangers.isEmpty
                ? []
                : Set(try await c.rows(
                    "SELECT learner FROM tombstone WHERE reason = 'erased' AND learner = ANY(\(strangers))", as: String.self, logger: logger))
            var position = try await Self.lastPosition(of: root, mapped: attached.mapped, c, logger)
            var rows: [(position: Int64, columns: EventColumns, sentHLC: Int64?)] = []
            var highest: Int64 = 0
            for event in events {
                guard rules.admit(event, isMember: members.contains(event.learner), isErased: { erased.contains(event.learner.rawValue) })
                else { continue }
                let columns = EventColumns(event)
                if let stored = existing[columns.seq] {
                    rules.duplicate(event, same: stored.columns == columns, storedAt: stored.storedAt)
                    continue
                }
                let time = rules.storedTime(of: event)
                var storedColumns = columns
                storedColumns.hlc = time.rawValue
                position += 1
                rows.append((position, storedColumns, time == event.timestamp ? nil : columns.hlc))
                existing[columns.seq] = (columns, time)
                rules.stored(event, at: time, position: position)
                highest = max(highest, columns.seq)
            }
            try await Self.insert(rows, root: root, c, logger)
            if highest > (held?.1 ?? 0) {
                try await c.execute(ReplicaLastSeq.self, highest, replica.rawValue, logger: logger)
            }
            return try await Self.page(of: root, attached: attached, after: cursor, limit: limit, rules: rules, c, logger)
        }
    }

    public func learnerEvents(tokenHash: String, now: Int64) async throws -> (learner: LearnerID, events: [ProgressEvent])? {
        let logger = logger
        return try await transaction(readOnly: true) { c in
            guard let root = try await Self.root(tokenHash: tokenHash, now: now, c, logger) else { return nil }
            return (root, try await Self.events(of: root, c, logger))
        }
    }

    /// Finds the live session's feed root and locks its row, so that positions in its feed are
    /// given by one writer at a time; returns it with its last-seen time (kept for guests). An
    /// attachment that moved the learner to an account while this waited is seen after the
    /// lock (the account is locked instead).
    private static func lockRoot(
        tokenHash: String, now: Int64, _ c: PostgresConnection, _ logger: Logger
    ) async throws -> (LearnerID, lastSeen: Int64?)? {
        var locked = [LearnerID: Int64?]()
        while let root = try await root(tokenHash: tokenHash, now: now, c, logger) {
            if let lastSeen = locked[root] { return (root, lastSeen) }
            guard let row = try await c.row(LockLearner.self, root.rawValue, as: Int64?.self, logger: logger) else { return nil }
            locked[root] = row
        }
        return nil
    }

    /// Whether `learner` is an unattached guest last seen before `time`.
    private static func guestSeenBefore(_ learner: LearnerID, _ time: Int64, _ c: PostgresConnection, _ logger: Logger) async throws -> Bool {
        guard learner.isGuest else { return false }
        let seen: Int64? = try await c.row(LastSeen.self, learner.rawValue, as: Int64?.self, logger: logger) ?? nil
        return (seen ?? .max) < time
    }

    /// The events stored under `replica` with one of `seqs`: their columns as sent, and the time
    /// they are stored at.
    private static func stored(
        _ replica: ReplicaID, seqs: [Int64], _ c: PostgresConnection, _ logger: Logger
    ) async throws -> [Int64: (columns: EventColumns, storedAt: HLCTimestamp)] {
        var stored = [Int64: (columns: EventColumns, storedAt: HLCTimestamp)]()
        // Planned at every run, not prepared: a generic plan made while the table was small (a
        // sequential scan) stayed while a long push grew it, and filtering every row by the
        // push's 2,000 counters took up to a second a round.
        let rows = try await c.rows(
            """
            SELECT hlc, replica, seq, learner, COALESCE(sent_hlc, hlc), course, type, item, answers, choice, amount FROM event
            WHERE replica = \(replica.rawValue) AND seq = ANY(\(seqs))
            """, as: (Int64, String, Int64, String, Int64, String, String, String?, String?, String?, Int64?).self, logger: logger)
        for row in rows {
            let columns = EventColumns(row: (row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9, row.10))
            stored[columns.seq] = (columns, HLCTimestamp(rawValue: row.0))
        }
        return stored
    }

    /// Inserts new feed rows in one statement.
    private static func insert(
        _ rows: [(position: Int64, columns: EventColumns, sentHLC: Int64?)], root: LearnerID, _ c: PostgresConnection, _ logger: Logger
    ) async throws {
        guard !rows.isEmpty else { return }
        var sql = "INSERT INTO event (root, pos, replica, seq, learner, hlc, course, type, item, answers, choice, amount, sent_hlc) VALUES "
        var binds = PostgresBindings(capacity: rows.count * 12 + 1)
        binds.append(root.rawValue)
        for (index, row) in rows.enumerated() {
            let base = 1 + index * 12
            sql += index == 0 ? "($1" : ", ($1"
            for offset in 1...12 { sql += ", $\(base + offset)" }
            sql += ")"
            let c = row.columns
            binds.append(row.position)
            binds.append(c.replica)
            binds.append(c.seq)
            binds.append(c.learner)
            binds.append(c.hlc)
            binds.append(c.course)
            binds.append(c.type)
            binds.append(c.item)
            binds.append(c.answers)
            binds.append(c.choice)
            binds.append(c.amount.map(Int64.init))
            binds.append(row.sentHLC)
        }
        try await c.execute(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
    }

    /// The next page of `root`'s feed after `cursor` (``FeedPageBuilder``).
    private static func page(
        of root: LearnerID, attached: AttachedGuests, after cursor: Int64, limit: Int, rules: SyncRules, _ c: PostgresConnection,
        _ logger: Logger
    ) async throws -> FeedPage {
        var builder = FeedPageBuilder(rules: rules, after: cursor, limit: limit)
        try await readFeed(of: root, mapped: attached.mapped, after: builder.readsAfter, limit: builder.rowsToRead, c, logger) { row, position in
            try builder.add(position: position, seq: row.1, isReplica: { $0 == row.0 }) { try EventColumns(row: row).event() }
        }
        return builder.page(aliases: attached.aliases)
    }

    // The statements every sync runs, prepared (``PreparedQuery``).

    /// The owner (its root) and stored counter of a replica.
    private enum ReplicaHeld: PreparedQuery {
        static let sql = """
            SELECT COALESCE(alias.account, replica.owner), replica.last_seq FROM replica
            LEFT JOIN alias ON alias.guest = replica.owner WHERE replica.id = $1
            """
    }

    /// The same, after creating the replica's row for the learner `$2` if it is new; the row
    /// stays locked until the commit.
    private enum ReplicaLocked: PreparedQuery {
        static let sql = """
            WITH r AS (
                INSERT INTO replica (id, owner, last_seq) VALUES ($1, $2, 0)
                ON CONFLICT (id) DO UPDATE SET last_seq = replica.last_seq RETURNING owner, last_seq)
            SELECT COALESCE(alias.account, r.owner), r.last_seq FROM r LEFT JOIN alias ON alias.guest = r.owner
            """
    }

    private enum ReplicaLastSeq: PreparedQuery {
        static let sql = "UPDATE replica SET last_seq = GREATEST(last_seq, $1) WHERE id = $2"
    }

    private enum LockLearner: PreparedQuery {
        static let sql = "SELECT last_seen_at FROM learner WHERE id = $1 FOR UPDATE"
    }

    private enum LastSeen: PreparedQuery {
        static let sql = "SELECT last_seen_at FROM learner WHERE id = $1"
    }
}
