import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import Logging
import PostgresNIO

/// The usual push in one round trip: a device at its feed's end sends its next events.
///
/// The general push (``PostgresServerStore``'s `push`) is five round trips: `BEGIN`, the root's
/// lock, the head, the insert, `COMMIT`. postgres-nio sends one statement at a time, and under
/// READ COMMITTED the head must be read by a statement after the lock's, so they cannot be one
/// statement. A PL/pgSQL function runs them as separate statements, each with a snapshot of its
/// own, in one call: it locks the root as the general push does, reads the head, and stores
/// the events only when the request is the quick case, in which ``SyncRules`` would store every
/// event, in order, after the feed's end, and the answer's page would read nothing:
///
/// - the replica is the root's (or new) and the server holds no counter beyond the device's;
/// - every event is the requesting replica's, new (above the stored counter), in increasing
///   order, at most the device's `lastSeq`, and of the root or one of its attached guests;
/// - the request's cursor is the feed's end, a row of the root's own feed whose mark is the one
///   the request names (the feed did not go back in time), and not 0 when guests are attached
///   (the answer would list them);
/// - the quota holds.
///
/// Otherwise it stores nothing and says so, and the general push runs. The rules stay
/// ``SyncRules``': the store replays them on the head the function returns, and checks that
/// they store what the function stored.
enum QuickPush {
    /// How the function ended.
    enum Outcome: Int32 {
        /// The token names no live session: nothing was stored.
        case noSession = 0
        /// The events were stored.
        case stored = 1
        /// Not the quick case: nothing was stored.
        case notQuick = 2
    }

    /// SQLSTATE of a call that found a row it took as new stored already (the general push
    /// runs again, looking every event up) or the replica created meanwhile: the call's work
    /// is rolled back.
    static let storedMeanwhile = "LS001"

    /// The migration's function. `p_mark` is the mark the request names at its cursor, -1 for
    /// none to check (``CursorCheck/needsMark(cursor:mark:)``). Its columns are spelled out, as
    /// a migration's must stay as shipped.
    static let function = """
        CREATE FUNCTION learnsync_push(
            p_token TEXT, p_now BIGINT, p_replica TEXT, p_last_seq BIGINT, p_cursor BIGINT, p_mark BIGINT, p_quota BIGINT,
            p_stamp BIGINT, p_seq BIGINT[], p_learner TEXT[], p_hlc BIGINT[], p_course TEXT[], p_type TEXT[], p_item TEXT[],
            p_answers TEXT[], p_seen TEXT[], p_choice TEXT[], p_seconds BIGINT[], p_position BIGINT[], p_version BIGINT[],
            p_sent_hlc BIGINT[],
            OUT o_outcome INT, OUT o_root TEXT, OUT o_owner TEXT, OUT o_last_seq BIGINT, OUT o_feed_end BIGINT,
            OUT o_mark BIGINT, OUT o_last_seen BIGINT)
        LANGUAGE plpgsql AS $$
        DECLARE
            v_current TEXT;
            v_own_last BIGINT;
            v_count INT := cardinality(p_seq);
            v_highest BIGINT := p_seq[cardinality(p_seq)];
            v_stored BIGINT;
        BEGIN
            o_outcome := 0;
            SELECT l.id, l.last_seen_at INTO o_root, o_last_seen FROM learner l WHERE l.id = (
                SELECT COALESCE(a.account, s.learner) FROM session s LEFT JOIN alias a ON a.guest = s.learner
                WHERE s.token_hash = p_token AND NOT s.revoked AND s.expires_at > p_now) FOR UPDATE;
            IF o_root IS NULL THEN RETURN; END IF;
            LOOP
                -- Read again under the lock: an attachment may have moved the learner meanwhile.
                v_current := NULL;
                SELECT COALESCE(a.account, s.learner) INTO v_current FROM session s LEFT JOIN alias a ON a.guest = s.learner
                    WHERE s.token_hash = p_token AND NOT s.revoked AND s.expires_at > p_now;
                IF v_current IS NULL THEN o_root := NULL; RETURN; END IF;
                EXIT WHEN v_current = o_root;
                o_root := v_current;
                SELECT l.last_seen_at INTO o_last_seen FROM learner l WHERE l.id = o_root FOR UPDATE;
                IF NOT FOUND THEN o_root := NULL; RETURN; END IF;
            END LOOP;
            SELECT COALESCE(a.account, r.owner), r.last_seq INTO o_owner, o_last_seq
                FROM replica r LEFT JOIN alias a ON a.guest = r.owner WHERE r.id = p_replica FOR UPDATE OF r;
            o_last_seq := COALESCE(o_last_seq, 0);
            SELECT (SELECT COALESCE(MAX(e.pos), 0) FROM event e WHERE e.root = o_root),
                (SELECT COALESCE(MAX(a.last_pos + a.pos_offset), 0) FROM alias a WHERE a.account = o_root AND a.first_pos IS NOT NULL),
                (SELECT COALESCE(e.stamp, 0) FROM event e WHERE e.root = o_root AND e.pos = p_cursor)
                INTO v_own_last, o_feed_end, o_mark;
            o_feed_end := GREATEST(v_own_last, o_feed_end);
            o_outcome := 2;
            IF (o_owner IS NOT NULL AND o_owner <> o_root) OR o_last_seq > p_last_seq
                OR p_cursor <> o_feed_end OR v_own_last <> o_feed_end
                OR (p_mark <> -1 AND o_mark IS DISTINCT FROM p_mark)
                OR o_feed_end + v_count > p_quota
                OR (p_cursor = 0 AND EXISTS (SELECT 1 FROM alias a WHERE a.account = o_root))
                OR p_seq[1] <= o_last_seq
                OR EXISTS (SELECT 1 FROM unnest(p_learner) AS l(id) WHERE l.id <> o_root
                    AND NOT EXISTS (SELECT 1 FROM alias a WHERE a.guest = l.id AND a.account = o_root))
            THEN
                RETURN;
            END IF;
            IF o_owner IS NULL THEN
                INSERT INTO replica (id, owner, last_seq) VALUES (p_replica, o_root, v_highest) ON CONFLICT (id) DO NOTHING;
                IF NOT FOUND THEN RAISE EXCEPTION 'the replica was created meanwhile' USING ERRCODE = 'LS001'; END IF;
            ELSE
                UPDATE replica SET last_seq = v_highest WHERE id = p_replica AND last_seq < v_highest;
            END IF;
            INSERT INTO event (root, pos, replica, seq, learner, hlc, course, type, item, answers, seen, choice, seconds, position,
                version, sent_hlc, stamp)
            SELECT o_root, o_feed_end + u.n, p_replica, u.seq, u.learner, u.hlc, u.course, u.type, u.item, u.answers, u.seen,
                u.choice, u.seconds, u.position, u.version, u.sent_hlc, p_stamp
            FROM unnest(p_seq, p_learner, p_hlc, p_course, p_type, p_item, p_answers, p_seen, p_choice, p_seconds, p_position,
                p_version, p_sent_hlc) WITH ORDINALITY
                AS u(seq, learner, hlc, course, type, item, answers, seen, choice, seconds, position, version, sent_hlc, n)
            ON CONFLICT (replica, seq) DO NOTHING;
            GET DIAGNOSTICS v_stored = ROW_COUNT;
            IF v_stored <> v_count THEN RAISE EXCEPTION 'an event was stored already' USING ERRCODE = 'LS001'; END IF;
            o_outcome := 1;
        END
        $$
        """

    /// The migration's procedure: ``function``, committed before the call answers.
    ///
    /// A statement outside `BEGIN` … `COMMIT` commits at the extended protocol's `Sync`, after
    /// its `CommandComplete`. A backend ended in between (`pg_terminate_backend`, a fast
    /// shutdown, a failover) sends the buffered `CommandComplete` and rows before its `FATAL`,
    /// and postgres-nio, which ends a statement at its `CommandComplete`, reports the push stored
    /// though PostgreSQL rolled it back. A `CALL` outside a transaction block may commit within
    /// the procedure: its answer follows the commit. Its results are `INOUT` parameters, the
    /// call passing `NULL` for each (PostgreSQL 11 and later).
    static let procedure = """
        CREATE PROCEDURE learnsync_push_committed(
            p_token TEXT, p_now BIGINT, p_replica TEXT, p_last_seq BIGINT, p_cursor BIGINT, p_mark BIGINT, p_quota BIGINT,
            p_stamp BIGINT, p_seq BIGINT[], p_learner TEXT[], p_hlc BIGINT[], p_course TEXT[], p_type TEXT[], p_item TEXT[],
            p_answers TEXT[], p_seen TEXT[], p_choice TEXT[], p_seconds BIGINT[], p_position BIGINT[], p_version BIGINT[],
            p_sent_hlc BIGINT[],
            INOUT o_outcome INT, INOUT o_root TEXT, INOUT o_owner TEXT, INOUT o_last_seq BIGINT, INOUT o_feed_end BIGINT,
            INOUT o_mark BIGINT, INOUT o_last_seen BIGINT)
        LANGUAGE plpgsql AS $$
        BEGIN
            SELECT f.o_outcome, f.o_root, f.o_owner, f.o_last_seq, f.o_feed_end, f.o_mark, f.o_last_seen
                INTO o_outcome, o_root, o_owner, o_last_seq, o_feed_end, o_mark, o_last_seen
                FROM learnsync_push(p_token, p_now, p_replica, p_last_seq, p_cursor, p_mark, p_quota, p_stamp, p_seq, p_learner,
                    p_hlc, p_course, p_type, p_item, p_answers, p_seen, p_choice, p_seconds, p_position, p_version, p_sent_hlc) AS f;
            COMMIT;
        END
        $$
        """

    /// The procedure's call, prepared.
    enum Call: PreparedQuery {
        static let sql = """
            CALL learnsync_push_committed($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
                $21, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
            """
    }

    /// Whether a request may be the quick case, before asking the database: a few events (at
    /// most what the general push inserts rather than copies: a long push's rows cost PostgreSQL
    /// more than its round trips), none the catalog refused, every one the replica's, in
    /// increasing order, and held by the device (at most its `lastSeq`).
    static func mayApply(replica: ReplicaID, lastSeq: Int64, events: [ProgressEvent], held: [EventID: Rejection]) -> Bool {
        guard held.isEmpty, !events.isEmpty, events.count <= PostgresServerStore.mostRowsInserted else { return false }
        var previous: Int64 = 0
        for event in events {
            guard event.id.replica == replica, event.id.seq > previous, event.id.seq <= lastSeq else { return false }
            previous = event.id.seq
        }
        return true
    }
}

extension PostgresServerStore {
    /// What a quick push did.
    enum QuickPushResult {
        case noSession
        case stored(FeedPage)
        /// Nothing was stored: the general push runs (`trustCounters` false when an event taken
        /// as new was stored already).
        case notQuick(trustCounters: Bool)
    }

    /// Tries the push as ``QuickPush``'s one statement.
    func quickPush(
        tokenHash: String, now: Int64, replica: ReplicaID, lastSeq: Int64, events: [ProgressEvent], cursor: Int64, cursorMark: Int64?,
        limit: Int, quota: Int64
    ) async throws -> QuickPushResult {
        let logger = logger
        let stamp = SyncRules.newStamp()
        let times = events.map { SyncRules.storedTime(of: $0, now: now) }
        let columns = events.map(EventColumns.init)
        let mark = CursorCheck.needsMark(cursor: cursor, mark: cursorMark) ? cursorMark : nil
        let seqs: [Int64] = columns.map(\.seq), learners: [String] = columns.map(\.learner), hlcs: [Int64] = times.map(\.rawValue)
        let courses: [String] = columns.map(\.course), types: [String] = columns.map(\.type)
        let items = NullableArray(columns.map(\.item)), answers = NullableArray(columns.map(\.answers))
        let seen = NullableArray(columns.map(\.seen)), choices = NullableArray(columns.map(\.choice))
        let seconds = NullableArray(columns.map { $0.seconds.map(Int64.init) })
        let positions = NullableArray(columns.map { $0.position.map(Int64.init) })
        let versions = NullableArray(columns.map { $0.version.map(Int64.init) })
        let sent: NullableArray<Int64> = NullableArray(zip(events, times).map { $0.timestamp == $1 ? nil : $0.timestamp.rawValue })
        typealias Head = (Int32, String?, String?, Int64?, Int64?, Int64?, Int64?)
        let head: Head?
        do {
            head = try await retrying { c in
                try await c.row(
                    QuickPush.Call.self, tokenHash, now, replica.rawValue, lastSeq, cursor, mark ?? -1, quota, stamp, seqs, learners, hlcs, courses,
                    types, items, answers, seen, choices, seconds, positions, versions, sent, as: Head.self, logger: logger)
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == QuickPush.storedMeanwhile {
            return .notQuick(trustCounters: false)
        }
        guard let head, let outcome = QuickPush.Outcome(rawValue: head.0) else {
            throw ServerError("learnsync_push answered an unknown outcome")
        }
        switch outcome {
        case .noSession: return .noSession
        case .notQuick: return .notQuick(trustCounters: true)
        case .stored: break
        }
        guard let rootID = head.1, let storedLastSeq = head.3, let feedEnd = head.4 else {
            throw ServerError("learnsync_push stored events without a head")
        }
        let root = LearnerID(unchecked: rootID)
        // The rules replayed on the head the function read: they must store what it stored.
        var rules = SyncRules(
            root: root, replica: replica, lastSeq: lastSeq, now: now, owner: head.2.map { LearnerID(unchecked: $0) },
            storedLastSeq: storedLastSeq, stamp: stamp)
        var position = feedEnd
        for (event, time) in zip(events, times) {
            guard rules.admit(event, isMember: true, isErased: { false }) else { throw ServerError("learnsync_push stored a refused event") }
            position += 1
            rules.stored(event, at: time, position: position)
        }
        let builder = FeedPageBuilder(rules: rules, after: cursor, mark: cursorMark, markAtCursor: mark == nil ? nil : head.5, limit: limit)
        guard !builder.mayFindRows(feedEnd: position), !rules.renewReplica else {
            throw ServerError("learnsync_push stored events whose answer reads the feed")
        }
        if SyncRules.guestSeenLongBefore(root, lastSeen: head.6, now: now) {
            try await withConnection { c in try await Self.markSeen(root, now: now, c, logger) }
        }
        return .stored(builder.page(aliases: []))
    }
}
