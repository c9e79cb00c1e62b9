package import LearnSyncModels
package import LearnSyncProtocol
package import LearnSyncServer
import Logging
import PostgresNIO

/// Sync on PostgreSQL: the rules of ``SyncRules`` over row locks.
extension PostgresServerStore {
    package func sync(
        tokenHash: String, now: Int64, replica: ReplicaID, lastSeq: Int64, events: [ProgressEvent], held: [EventID: Rejection],
        cursor: Int64, cursorMark: Int64?, limit: Int, quota: Int64
    ) async throws -> FeedPage? {
        let at = FeedAt(cursor: cursor, mark: cursorMark)
        guard !events.isEmpty else { return try await pull(tokenHash: tokenHash, now: now, replica: replica, lastSeq: lastSeq, at: at, limit: limit) }
        var trustCounters = true
        if QuickPush.mayApply(replica: replica, lastSeq: lastSeq, events: events, held: held) {
            switch try await quickPush(
                tokenHash: tokenHash, now: now, replica: replica, lastSeq: lastSeq, events: events, cursor: cursor, cursorMark: cursorMark,
                limit: limit, quota: quota)
            {
            case .noSession: return nil
            case .stored(let page):
                counted(quick: true)
                return page
            case .notQuick(let trust): trustCounters = trust
            }
        }
        counted(quick: false)
        if trustCounters {
            do {
                return try await push(
                    tokenHash: tokenHash, now: now, replica: replica, lastSeq: lastSeq, events: events, held: held, at: at, limit: limit,
                    quota: quota, trustCounters: true)
            } catch is CountersBehind {}
        }
        return try await push(
            tokenHash: tokenHash, now: now, replica: replica, lastSeq: lastSeq, events: events, held: held, at: at, limit: limit,
            quota: quota, trustCounters: false)
    }

    /// A request's cursor and the mark it names (``CursorCheck``). The head statements read the
    /// mark at `markPosition` in the root's own feed, in the same round trip; a cursor in an
    /// attached guest's range is read from the guest's feed on its own.
    private struct FeedAt {
        var cursor: Int64
        var mark: Int64?

        /// The position the head reads the mark at: 0 (no row) when the request named none.
        var markPosition: Int64 { CursorCheck.markPosition(cursor: cursor, mark: mark) }

        /// The mark at the cursor: `ownMark`, the head's read in the root's own feed, or the
        /// guest's row when the cursor falls in an attached guest's range.
        func markAtCursor(root: LearnerID, ownMark: Int64?, attached: AttachedGuests, _ c: StoreConnection, _ logger: Logger) async throws -> Int64? {
            switch CursorCheck.source(cursor: cursor, mark: mark, root: root, attached: attached) {
            case .none: return nil
            case .head: return ownMark
            case .guest(let guest, let position): return try await PostgresServerStore.ownMark(at: position, of: guest, c, logger)
            }
        }
    }

    /// A pull stores nothing: it reads one snapshot. Its head (the session's root, the
    /// replica's owner and counter, the guest's last-seen time, the last position in the root's
    /// own feed, the attached guests) is one statement, sent alone first: a device at the feed's
    /// end, the usual idle pull, reads no page, and that statement is the whole pull. When the
    /// page has rows to read, the head is read again with them in one read-only transaction.
    private func pull(tokenHash: String, now: Int64, replica: ReplicaID, lastSeq: Int64, at: FeedAt, limit: Int) async throws -> FeedPage? {
        let logger = logger
        @Sendable func answer(_ c: StoreConnection, readingRows: Bool) async throws -> PullOutcome {
            guard let head = try await c.row(
                PullHead.self, tokenHash, now, replica.rawValue, at.markPosition,
                as: (String, String?, Int64?, Int64?, Int64, Int64?, [String], [Int64], [Int64], [Int64]).self, logger: logger)
            else { return .noSession }
            let root = LearnerID(unchecked: head.0)
            let rules = SyncRules(
                root: root, replica: replica, lastSeq: lastSeq, now: now, owner: head.1.map { LearnerID(unchecked: $0) },
                storedLastSeq: head.2 ?? 0)
            let attached = AttachedGuests(account: root, rows: (0..<head.6.count).map { index in
                // A guest attached without events has no range: its columns read 0.
                let first = head.8[index]
                return (head.6[index], first == 0 ? nil : head.7[index], first == 0 ? nil : first, first == 0 ? nil : head.9[index])
            })
            let feedEnd = MappedFeed.lastPosition(own: head.4, mapped: attached.mapped)
            if !readingRows {
                if case .guest = CursorCheck.source(cursor: at.cursor, mark: at.mark, root: root, attached: attached) { return .readsRows }
                let builder = FeedPageBuilder(rules: rules, after: at.cursor, mark: at.mark, markAtCursor: head.5, limit: limit)
                if builder.mayFindRows(feedEnd: feedEnd) { return .readsRows }
            }
            let page = try await Self.page(
                of: root, attached: attached, at: at, markAtCursor: try await at.markAtCursor(root: root, ownMark: head.5, attached: attached, c, logger),
                limit: limit, rules: rules, feedEnd: feedEnd, c, logger)
            return .page(page, staleGuest: SyncRules.guestSeenLongBefore(root, lastSeen: head.3, now: now) ? root : nil)
        }
        var outcome = try await retrying { c in try await answer(c, readingRows: false) }
        if case .readsRows = outcome {
            outcome = try await transaction(readOnly: true) { c in try await answer(c, readingRows: true) }
        }
        guard case .page(let page, let staleGuest) = outcome else { return nil }
        if let staleGuest {
            try await withConnection { c in try await Self.markSeen(staleGuest, now: now, c, logger) }
        }
        return page
    }

    /// What a pull's statements found.
    private enum PullOutcome: Sendable {
        case noSession
        /// The page has rows to read (or a mark to read in a guest's feed).
        case readsRows
        case page(FeedPage, staleGuest: LearnerID?)
    }

    /// A push, in one transaction. `trustCounters`: events past the replica's stored counter are
    /// taken as new without looking them up (every stored event's counter is at most its
    /// replica's `last_seq`, which each push raises in its own transaction); should one be stored
    /// after all, the insert says so and the push runs again with the lookup (``CountersBehind``).
    private func push(
        tokenHash: String, now: Int64, replica: ReplicaID, lastSeq: Int64, events: [ProgressEvent], held: [EventID: Rejection], at: FeedAt,
        limit: Int, quota: Int64, trustCounters: Bool
    ) async throws -> FeedPage? {
        let logger = logger
        return try await transaction { c in
            guard let head = try await Self.lockedHead(tokenHash: tokenHash, now: now, replica: replica, markPosition: at.markPosition, c, logger)
            else { return nil }
            let root = head.root
            if SyncRules.guestSeenLongBefore(root, lastSeen: head.lastSeen, now: now) { try await Self.markSeen(root, now: now, c, logger) }
            let rules = SyncRules(
                root: root, replica: replica, lastSeq: lastSeq, now: now, owner: head.replicaOwner, storedLastSeq: head.storedLastSeq)
            let attached = try await Self.attached(to: root, c, logger)
            // Read before this push stores anything: a new row may take the cursor's position.
            let markAtCursor = try await at.markAtCursor(root: root, ownMark: head.ownMark, attached: attached, c, logger)
            let members = attached.members(of: root)
            let allNew = trustCounters && held.isEmpty && events.allSatisfy { $0.id.replica == replica && $0.id.seq > head.storedLastSeq }
            let existing = allNew ? [:] : try await Self.stored(replica, seqs: events.map(\.id.seq), c, logger)
            let strangers: [String] = Array(Set(events.map(\.learner).filter { !members.contains($0) }.map(\.rawValue)))
            let erased: Set<String> = strangers.isEmpty
                ? []
                : Set(try await c.rows(
                    "SELECT learner FROM tombstone WHERE reason = 'erased' AND learner = ANY(\(strangers))", as: String.self, logger: logger))
            let admission = try await Self.store(
                events, root: root, replica: replica, storedLastSeq: head.storedLastSeq, quota: quota,
                PushAdmission(
                    rules: rules, existing: existing, members: members, erased: erased, held: held,
                    feedEnd: MappedFeed.lastPosition(own: head.ownLastPosition, mapped: attached.mapped)),
                c, logger)
            // The root's lock is held: no other transaction adds to its feed, which ends at the
            // last position taken here.
            return try await Self.page(
                of: root, attached: attached, at: at, markAtCursor: markAtCursor, limit: limit, rules: admission.rules,
                feedEnd: admission.position, c, logger)
        }
    }

    /// Moves a guest's last-seen time to `now` (at most once per ``SyncRules/seenGranularity``).
    static func markSeen(_ guest: LearnerID, now: Int64, _ c: StoreConnection, _ logger: Logger) async throws {
        try await c.execute("UPDATE learner SET last_seen_at = GREATEST(last_seen_at, \(now)) WHERE id = \(guest.rawValue)", logger: logger)
    }

    /// An event taken as new was stored already: the push runs again, looking every event up.
    private struct CountersBehind: Error {}

    /// What a push reads first, with its feed root locked.
    private struct PushHead {
        var root: LearnerID
        /// The root's last-seen time (kept for guests).
        var lastSeen: Int64?
        /// The feed root of the replica's owner (the replica's row is created for `root` if new).
        var replicaOwner: LearnerID?
        var storedLastSeq: Int64
        /// The last position in the root's own feed.
        var ownLastPosition: Int64
        /// The mark at the head's mark position in the root's own feed (``FeedAt``).
        var ownMark: Int64?
    }

    /// Finds the live session's feed root and locks its row, so that positions in its feed are
    /// given by one writer at a time, and reads the push's head (``PushHeadRows``): two
    /// statements. An attachment that moved the learner to an account while the lock waited is
    /// seen in the head, and the account is locked instead.
    private static func lockedHead(
        tokenHash: String, now: Int64, replica: ReplicaID, markPosition: Int64, _ c: StoreConnection, _ logger: Logger
    ) async throws -> PushHead? {
        guard var locked = try await c.row(LockSessionRoot.self, tokenHash, now, as: (String, Int64?).self, logger: logger) else { return nil }
        while true {
            guard let head = try await c.row(
                PushHeadRows.self, tokenHash, now, replica.rawValue, locked.0, markPosition, as: (String?, String?, Int64?, Int64, Int64?).self,
                logger: logger),
                let current = head.0
            else { return nil }
            if current == locked.0 {
                return PushHead(
                    root: LearnerID(unchecked: current), lastSeen: locked.1, replicaOwner: head.1.map { LearnerID(unchecked: $0) },
                    storedLastSeq: head.2 ?? 0, ownLastPosition: head.3, ownMark: head.4)
            }
            guard let lastSeen = try await c.row(LockLearner.self, current, as: Int64?.self, logger: logger) else { return nil }
            locked = (current, lastSeen)
        }
    }

    package func learnerEvents(tokenHash: String, now: Int64, after cursor: Int64, through end: Int64, limit: Int) async throws -> LearnerFeed? {
        let logger = logger
        return try await transaction(readOnly: true) { c in
            guard let root = try await Self.root(tokenHash: tokenHash, now: now, c, logger) else { return nil }
            let mapped = try await Self.attached(to: root, c, logger).mapped
            var events = [ProgressEvent]()
            var last = cursor
            try await Self.readFeed(of: root, mapped: mapped, after: cursor, limit: limit, c, logger) { columns, position, _ in
                guard position <= end else { return false }
                events.append(try columns.event())
                last = position
                return true
            }
            return LearnerFeed(learner: root, events: events, last: last, feedEnd: try await Self.lastPosition(of: root, mapped: mapped, c, logger))
        }
    }

    /// The events stored under `replica` with one of `seqs`: their columns as sent, and the time
    /// they are stored at.
    private static func stored(
        _ replica: ReplicaID, seqs: [Int64], _ c: StoreConnection, _ logger: Logger
    ) async throws -> [Int64: (columns: EventColumns, storedAt: HLCTimestamp)] {
        var stored = [Int64: (columns: EventColumns, storedAt: HLCTimestamp)]()
        // Planned at every run, not prepared: a generic plan made while the table was small (a
        // sequential scan) stayed while a long push grew it, and filtering every row by the
        // push's 2,000 counters took up to a second a round.
        // Read whole (``StoreConnection/allRows(_:logger:)``): up to 2,000 rows take many reads.
        let rows = try await c.allRows(
            """
            SELECT hlc AS stored_at, COALESCE(sent_hlc, hlc) AS sent_at, \(unescaped: EventColumns.names) FROM event
            WHERE replica = \(replica.rawValue) AND seq = ANY(\(seqs))
            """, logger: logger)
        for row in rows {
            var cells = row.makeIterator()
            let storedAt = try cells.next(Int64.self), sentAt = try cells.next(Int64.self)
            // Compared as sent: the row holds the time it was stored at.
            var columns = try EventColumns(&cells)
            columns.hlc = sentAt
            stored[columns.seq] = (columns, HLCTimestamp(rawValue: storedAt))
        }
        return stored
    }

    /// Judges `events` (``PushAdmission``), stores the new ones in `root`'s feed, marked with
    /// the rules' stamp, and raises `replica`'s stored counter to the highest new one.
    ///
    /// Up to ``mostRowsInserted`` events go in one prepared `INSERT` that takes each column as
    /// an array; more are copied (`COPY … FROM STDIN`): 2,000 rows cost PostgreSQL about 15 ms
    /// by `COPY` against 20 ms by the `INSERT`, and 32 rows 0.4 ms against 0.8 ms
    /// (docs/PERFORMANCE.md).
    /// - Throws: ``CountersBehind`` when a row's id is stored already; the quota's problem
    ///   when the feed would grow past `quota`.
    private static func store(
        _ events: [ProgressEvent], root: LearnerID, replica: ReplicaID, storedLastSeq: Int64, quota: Int64, _ admission: PushAdmission,
        _ c: StoreConnection, _ logger: Logger
    ) async throws -> PushAdmission {
        let stamp = admission.rules.stamp
        guard events.count <= mostRowsInserted else {
            var admission = admission
            // A feed row is 150–200 bytes with the sample course: room enough not to grow the buffer.
            var text = CopyText(capacity: events.count * 256)
            admission.admit(events[...]) { position, columns, sentHLC in
                text.add(root.rawValue)
                text.add(position)
                text.add(columns)
                text.add(sentHLC)
                text.add(stamp)
                text.endRow()
            }
            try SyncRules.checkQuota(feedEnd: admission.position, quota: quota)
            do {
                // Judged whole before the copy starts: judged a part at a time while PostgreSQL
                // stored the previous part, the push took as long on two cores (docs/PERFORMANCE.md).
                try await c.copy([text], into: "event", columns: copiedColumns, logger: logger)
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
                // unique_violation: an event taken as new is stored already.
                throw CountersBehind()
            }
            if admission.highest > storedLastSeq {
                try await c.execute(
                    "UPDATE replica SET last_seq = \(admission.highest) WHERE id = \(replica.rawValue) AND last_seq < \(admission.highest)",
                    logger: logger)
            }
            return admission
        }
        var admission = admission
        var rows: [(position: Int64, columns: EventColumns, sentHLC: Int64?)] = []
        admission.admit(events[...]) { rows.append(($0, $1, $2)) }
        try SyncRules.checkQuota(feedEnd: admission.position, quota: quota)
        guard !rows.isEmpty else { return admission }
        let columns = rows.map(\.columns)
        let inserted = try await c.row(
            InsertEvents.self, root.rawValue, rows.map(\.position), columns.map(\.replica), columns.map(\.seq), columns.map(\.learner),
            columns.map(\.hlc), columns.map(\.course), columns.map(\.type), NullableArray(columns.map(\.item)),
            NullableArray(columns.map(\.answers)), NullableArray(columns.map(\.seen)), NullableArray(columns.map(\.choice)),
            NullableArray(columns.map { $0.seconds.map(Int64.init) }), NullableArray(columns.map { $0.position.map(Int64.init) }),
            NullableArray(columns.map { $0.version.map(Int64.init) }), NullableArray(rows.map(\.sentHLC)),
            admission.highest > storedLastSeq ? admission.highest : 0, admission.highest > storedLastSeq ? replica.rawValue : "", stamp,
            as: Int64.self, logger: logger)
        guard inserted == Int64(rows.count) else { throw CountersBehind() }
        return admission
    }

    /// Most events ``store(_:root:replica:storedLastSeq:quota:_:_:_:)`` sends in one `INSERT`;
    /// more are copied.
    static let mostRowsInserted = 32

    /// The columns a copied feed row lists, in order.
    private static let copiedColumns = ["root", "pos"] + EventColumns.Column.allCases.map { "\($0)" } + ["sent_hlc", "stamp"]

    /// The next page of `root`'s feed after `cursor` (``FeedPageBuilder``). No statement is sent
    /// when the page starts at `feedEnd`, the feed's last position as this transaction sees it
    /// (``FeedPageBuilder/mayFindRows(feedEnd:)``): the usual small sync, from a device at the
    /// feed's end, saves one round trip.
    private static func page(
        of root: LearnerID, attached: AttachedGuests, at: FeedAt, markAtCursor: Int64?, limit: Int, rules: SyncRules, feedEnd: Int64,
        _ c: StoreConnection, _ logger: Logger
    ) async throws -> FeedPage {
        var builder = FeedPageBuilder(rules: rules, after: at.cursor, mark: at.mark, markAtCursor: markAtCursor, limit: limit)
        if builder.mayFindRows(feedEnd: feedEnd) {
            try await readFeed(of: root, mapped: attached.mapped, after: builder.readsAfter, limit: builder.rowsToRead, c, logger) { columns, position, mark in
                try builder.add(position: position, mark: mark, seq: columns.seq, isReplica: { $0 == columns.replica }) { try columns.event() }
            }
        }
        return builder.page(aliases: attached.aliases)
    }

    // The statements every sync runs, prepared (``PreparedQuery``).

    /// A pull's head: the session's feed root, the feed root of the replica's owner, the
    /// replica's stored counter, the root's last-seen time, the last position in its own feed,
    /// the mark at position `$4` of it (``FeedAt``), and its attached guests as four arrays in
    /// byte order of their ids (``attached(to:_:_:)``'s rows: id, offset, first and last
    /// position, the numbers 0 for a guest without a range).
    private enum PullHead: PreparedQuery {
        static let sql = """
            WITH s AS (\(sessionRoot))
            SELECT s.root, COALESCE(owner_alias.account, replica.owner), replica.last_seq, learner.last_seen_at,
                (SELECT COALESCE(MAX(pos), 0)::BIGINT FROM event WHERE event.root = s.root),
                (SELECT COALESCE(stamp, 0) FROM event WHERE event.root = s.root AND pos = $4),
                guests.ids, guests.offsets, guests.firsts, guests.lasts
            FROM s LEFT JOIN replica ON replica.id = $3 LEFT JOIN alias AS owner_alias ON owner_alias.guest = replica.owner
            LEFT JOIN learner ON learner.id = s.root
            CROSS JOIN LATERAL (
                SELECT COALESCE(array_agg(guest ORDER BY guest COLLATE "C"), '{}') AS ids,
                    COALESCE(array_agg(COALESCE(pos_offset, 0) ORDER BY guest COLLATE "C"), '{}') AS offsets,
                    COALESCE(array_agg(COALESCE(first_pos, 0) ORDER BY guest COLLATE "C"), '{}') AS firsts,
                    COALESCE(array_agg(COALESCE(last_pos, 0) ORDER BY guest COLLATE "C"), '{}') AS lasts
                FROM alias WHERE alias.account = s.root) AS guests
            """
    }

    /// The live session's feed root, its row locked until the commit, with its last-seen time.
    private enum LockSessionRoot: PreparedQuery {
        static let sql = "SELECT id, last_seen_at FROM learner WHERE id = (\(sessionRoot)) FOR UPDATE"
    }

    /// A push's head, its feed root `$4` locked: the session's feed root read again (an attach
    /// may have moved it while the lock waited), the feed root of the replica's owner and the
    /// replica's stored counter, the last position in `$4`'s own feed and the mark at its
    /// position `$5` (``FeedAt``). While `$4` is still
    /// the root, the replica's row is created for it if new, and stays locked until the commit:
    /// every event stored under the replica id is visible to the push's checks.
    private enum PushHeadRows: PreparedQuery {
        static let sql = """
            WITH s AS (\(sessionRoot)),
            r AS (
                INSERT INTO replica (id, owner, last_seq) SELECT $3, $4, 0 FROM s WHERE s.root = $4
                ON CONFLICT (id) DO UPDATE SET last_seq = replica.last_seq RETURNING owner, last_seq)
            SELECT (SELECT root FROM s), (SELECT COALESCE(alias.account, r.owner) FROM r LEFT JOIN alias ON alias.guest = r.owner),
                (SELECT last_seq FROM r), (SELECT COALESCE(MAX(pos), 0)::BIGINT FROM event WHERE root = $4),
                (SELECT COALESCE(stamp, 0) FROM event WHERE root = $4 AND pos = $5)
            """
    }

    /// New feed rows of root `$1`, a column an array (`$2` … `$16`), marked `$19`, and the stored
    /// counter of replica `$18` raised to `$17`: one statement, parsed once, whatever the number
    /// of rows.
    /// Returns how many rows were new.
    private enum InsertEvents: PreparedQuery {
        static let sql = """
            WITH new AS (
                INSERT INTO event (root, pos, \(EventColumns.names), sent_hlc, stamp)
                SELECT $1, *, $19::BIGINT FROM unnest(
                    $2::BIGINT[], $3::TEXT[], $4::BIGINT[], $5::TEXT[], $6::BIGINT[], $7::TEXT[], $8::TEXT[],
                    $9::TEXT[], $10::TEXT[], $11::TEXT[], $12::TEXT[], $13::BIGINT[], $14::BIGINT[], $15::BIGINT[], $16::BIGINT[])
                ON CONFLICT (replica, seq) DO NOTHING RETURNING 1),
            raised AS (UPDATE replica SET last_seq = $17 WHERE id = $18 AND last_seq < $17)
            SELECT count(*) FROM new
            """
    }

    private enum LockLearner: PreparedQuery {
        static let sql = "SELECT last_seen_at FROM learner WHERE id = $1 FOR UPDATE"
    }
}
