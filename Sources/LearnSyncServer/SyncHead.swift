import GRDB
import LearnSyncModels
import LearnSyncSQLite

/// What a sync reads before it stores or pages anything, in one statement: the session's root,
/// that learner's last-seen time, the requesting replica's owner and highest stored counter,
/// the root's last feed position, and the mark at the cursor in the root's own feed. (Four
/// statements before: a fifth of the writer's time in a small sync; the mark as a statement of
/// its own cost a tenth of a small sync.)
struct SyncHead {
    let root: LearnerID
    let lastSeenAt: Int64?
    /// The root of the replica's owner, nil for a replica the server does not know.
    let replicaOwner: LearnerID?
    /// The highest counter stored under the replica (0 when none): read from the log's
    /// `(replica, seq)` index, so a push writes no counter of its own.
    let storedLastSeq: Int64
    /// The last position in the root's own feed (0 when empty), attached guests' feeds aside.
    let ownLastPosition: Int64
    /// The mark of the row at the position asked for in the root's own feed (nil: no row).
    let ownMark: Int64?

    /// The statement, built once: interpolating it on every sync allocated and hashed a new
    /// string for the statement cache, a fifth of reading the head. Parameters: `?1` the replica;
    /// the session's token hash and the time are the plain `?` of `rootSQL`, which SQLite numbers
    /// 2 and 3 (after the highest number used before them in the text); `?4`, after them, the
    /// position to read the mark at (0: none).
    private static let sql = """
        SELECT head.root, learner.lastSeenAt, COALESCE(alias.account, replica.owner),
            COALESCE((SELECT seq FROM event WHERE event.replica = ?1 ORDER BY seq DESC LIMIT 1), 0),
            \(SQLiteServerStore.ownLastPositionSQL(of: "head.root")),
            CASE WHEN mark.pos IS NULL THEN NULL ELSE COALESCE(mark.stamp, 0) END
        FROM (\(SQLiteServerStore.rootSQL)) AS head
        LEFT JOIN learner ON learner.id = head.root
        LEFT JOIN replica ON replica.id = ?1
        LEFT JOIN alias ON alias.guest = replica.owner
        LEFT JOIN event AS mark ON mark.root = head.root AND mark.pos = ?4
        """

    /// Nil when the token is unknown, expired or revoked. `markPosition`: where to read the
    /// mark in the root's own feed (``CursorCheck/markPosition(cursor:mark:)``).
    init?(tokenHash: String, now: Int64, replica: ReplicaID, markPosition: Int64, _ db: Database) throws {
        let statement = try db.cachedStatement(sql: Self.sql)
        var binding = statement.startBinding()
        binding.bind(replica.rawValue, at: 1)
        binding.bind(tokenHash, at: 2)
        binding.bind(now, at: 3)
        binding.bind(markPosition, at: 4)
        var head: (LearnerID, Int64?, LearnerID?, Int64, Int64, Int64?)?
        try binding.forEachRow { row in
            head = (
                LearnerID(unchecked: row.text(0)), row.optionalInt64(1), row.optionalText(2).map { LearnerID(unchecked: $0) },
                row.int64(3), row.int64(4), row.optionalInt64(5))
            return false
        }
        guard let head else { return nil }
        (root, lastSeenAt, replicaOwner, storedLastSeq, ownLastPosition, ownMark) = head
    }

    /// Whether the root is a guest whose last-seen time is due to move to `now`
    /// (``SyncRules/seenGranularity``).
    func guestSeenLongBefore(_ now: Int64) -> Bool {
        SyncRules.guestSeenLongBefore(root, lastSeen: lastSeenAt, now: now)
    }

    /// The rules for a request from `replica`, judged against what the server holds of it.
    func rules(replica: ReplicaID, lastSeq: Int64, now: Int64) -> SyncRules {
        SyncRules(root: root, replica: replica, lastSeq: lastSeq, now: now, owner: replicaOwner, storedLastSeq: storedLastSeq)
    }
}
