package import Foundation
package import GRDB
package import LearnSyncModels
package import LearnSyncProtocol
import LearnSyncSQLite

/// The embedded server store: one SQLite file in WAL mode through GRDB.
package final class SQLiteServerStore: ServerStore {
    /// The connections (package: the benchmark's floors write through them too).
    package let writer: any DatabaseWriter
    /// Syncs share transactions under load (see ``GroupCommit``).
    private let syncs: GroupCommit
    /// Checkpoints the file's write-ahead log off the writer (nil in memory).
    private let checkpointer: BackgroundCheckpointer?

    /// Opens or creates the database file and runs pending migrations.
    /// - Parameters:
    ///   - path: the SQLite file, created (mode 0600) if missing.
    ///   - synchronous: how each commit reaches the disk (``SQLiteSynchronous``).
    package init(path: String, synchronous: SQLiteSynchronous = .normal) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        // Deleted rows (erasure, expiry) are overwritten in the file, not left in free pages.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA secure_delete = ON") }
        do {
            try PrivateFile.prepare(path)
            writer = try DatabasePool(path: path, configuration: configuration)
            // GRDB sets NORMAL on the writer once the pool is open (its WAL set-up, after
            // `prepareDatabase`): FULL is set after it. Only the writer commits.
            if synchronous == .full { try writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") } }
            try ServerSchema.migrator.migrate(writer)
            syncs = GroupCommit(writer: writer)
            let checkpointer = try BackgroundCheckpointer(path: path)
            writer.writeWithoutTransaction { db in checkpointer.install(on: db) }
            self.checkpointer = checkpointer
        } catch {
            let reason = switch DiskFailure(error, at: path) {
            case .full?: ": its disk is full"
            case .ioError?: ": its disk failed to read or write"
            case nil: (error as? PrivateFile.NotADatabase).map { ": \($0.reason)" } ?? ""
            }
            throw ServerError("cannot open the server database \(path)\(reason)", cause: error)
        }
    }

    /// The writer's `PRAGMA synchronous` (1 NORMAL, 2 FULL).
    package func synchronousLevel() async throws -> Int {
        try await writer.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// A store in memory, for tests.
    package init() throws {
        do {
            writer = try DatabaseQueue()
            try ServerSchema.migrator.migrate(writer)
            syncs = GroupCommit(writer: writer)
            checkpointer = nil
        } catch {
            throw ServerError("cannot open an in-memory server database", cause: error)
        }
    }

    deinit {
        // The writer's hook holds the checkpointer unretained: close the writer first.
        if checkpointer != nil { try? (writer as? DatabasePool)?.close() }
    }

    package func registerGuest(_ claim: GuestClaim, session: NewSession) async throws -> AttachOutcome {
        try await writer.write { db in
            let claimed = try Self.claimGuest(claim, now: session.createdAt, db)
            guard claimed == .attached || claimed == .restarted else { return claimed }
            guard try Self.root(of: claim.learner, db) == claim.learner else { return .attachedElsewhere }
            try Self.insert(session, for: claim.learner, db)
            return claimed
        }
    }

    /// Copies the write-ahead log into the database file and empties it (for backups, and so
    /// that benchmarks start from the same state).
    package func checkpoint() async throws {
        _ = try await writer.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
    }

    package func account(username: String) async throws -> (id: LearnerID, passwordHash: String)? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT id, passwordHash FROM learner WHERE username = ?", arguments: [username])
                .map { (LearnerID(unchecked: $0[0]), $0[1]) }
        }
    }

    package func createAccount(_ id: LearnerID, username: String, passwordHash: String, guest: GuestClaim?, session: NewSession) async throws -> AttachOutcome {
        try await AttachRefusal.catching {
            try await writer.write { db in
                guard try Row.fetchOne(db, sql: "SELECT 1 FROM learner WHERE username = ?", arguments: [username]) == nil else {
                    return .usernameTaken
                }
                try db.execute(
                    sql: "INSERT INTO learner (id, username, passwordHash, createdAt) VALUES (?, ?, ?, ?)",
                    arguments: [id.rawValue, username, passwordHash, session.createdAt])
                return try Self.attach(guest, to: id, session: session, db)
            }
        }
    }

    package func signIn(_ account: LearnerID, passwordHash: String, guest: GuestClaim?, session: NewSession) async throws -> AttachOutcome {
        try await AttachRefusal.catching {
            try await writer.write { db in
                let current = try String.fetchOne(db, sql: "SELECT passwordHash FROM learner WHERE id = ?", arguments: [account.rawValue])
                guard current == passwordHash else { return .passwordChanged }
                return try Self.attach(guest, to: account, session: session, db)
            }
        }
    }

    package func revoke(tokenHash: String) async throws -> Bool {
        try await writer.write { db in
            try db.execute(sql: "UPDATE session SET revoked = 1 WHERE tokenHash = ? AND revoked = 0", arguments: [tokenHash])
            return db.changesCount > 0
        }
    }

    /// Inside a write: attaches the guest (if any), then stores the session. On any refusal the
    /// transaction is rolled back by throwing, so nothing of the request remains.
    private static func attach(_ guest: GuestClaim?, to account: LearnerID, session: NewSession, _ db: Database) throws -> AttachOutcome {
        var outcome = AttachOutcome.attached
        if let guest {
            outcome = try claimGuest(guest, now: session.createdAt, db)
            guard outcome == .attached || outcome == .restarted else { throw AttachRefusal(outcome) }
            let current = try root(of: guest.learner, db)
            if current != account {
                guard current == guest.learner else { throw AttachRefusal(.attachedElsewhere) }
                try attachRows(guest.learner, to: account, db)
            }
        }
        try insert(session, for: account, db)
        return outcome
    }

    /// Attaches an unattached guest: its feed shows after the end of the account's, so that every
    /// device of the account pulls it after its cursor; its rows stay where they are. Its tokens
    /// are revoked.
    private static func attachRows(_ guest: LearnerID, to account: LearnerID, _ db: Database) throws {
        let range = try Row.fetchOne(db, sql: "SELECT MIN(pos), MAX(pos) FROM event WHERE root = ?", arguments: [guest.rawValue])
        var mapped: MappedFeed?
        if let first = range?[0] as Int64?, let last = range?[1] as Int64? {
            mapped = MappedFeed(guest: guest, first: first, last: last, after: try lastPosition(of: account, mapped: attached(to: account, db).mapped, db))
        }
        try db.execute(
            sql: "INSERT INTO alias (guest, account, posOffset, firstPos, lastPos) VALUES (?, ?, ?, ?, ?)",
            arguments: [guest.rawValue, account.rawValue, mapped?.offset, mapped?.first, mapped?.last])
        try db.execute(sql: "UPDATE session SET revoked = 1 WHERE learner = ?", arguments: [guest.rawValue])
    }

    package func attestationKey() async throws -> Data {
        try await writer.read { db in
            guard let key = try Data.fetchOne(db, sql: "SELECT key FROM attestationKey WHERE id = 1") else {
                throw ServerError("the server database has no attestation key")
            }
            return key
        }
    }

    package func reattach(_ aliases: [Alias], tokenHash: String, now: Int64) async throws {
        try await writer.write { db in
            guard let root = try Self.root(tokenHash: tokenHash, now: now, db), !root.isGuest else { return }
            for alias in aliases {
                // The attested account: the root, or one the store does not know (forgotten).
                if alias.account != root {
                    guard try !Self.knows(alias.account, db) else { continue }
                }
                let guest = alias.guest.rawValue
                guard try String.fetchOne(db, sql: "SELECT account FROM alias WHERE guest = ?", arguments: [guest]) == nil,
                      try !Self.isErased(alias.guest, db)
                else { continue }
                if try Row.fetchOne(db, sql: "SELECT 1 FROM learner WHERE id = ?", arguments: [guest]) == nil {
                    try db.execute(sql: "INSERT INTO learner (id, createdAt, lastSeenAt) VALUES (?, ?, ?)", arguments: [guest, now, now])
                }
                try Self.attachRows(alias.guest, to: root, db)
            }
        }
    }

    /// Whether the store holds `learner`, or its tombstone.
    private static func knows(_ learner: LearnerID, _ db: Database) throws -> Bool {
        try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM learner WHERE id = ?1) OR EXISTS (SELECT 1 FROM tombstone WHERE learner = ?1)",
            arguments: [learner.rawValue]) ?? false
    }

    /// Registers an unknown guest with its secret (again, after it expired: `.restarted`), or
    /// checks a known guest's secret and marks it seen. An erased guest stays erased. A guest
    /// registered again after it expired keeps its `expired` tombstone, and every later claim of
    /// it answers `.restarted` too: the answer that told its device to send everything again may
    /// have been lost, and sending again costs only duplicates.
    private static func claimGuest(_ claim: GuestClaim, now: Int64, _ db: Database) throws -> AttachOutcome {
        let expired = try Row.fetchOne(db, sql: "SELECT reason, secretHash FROM tombstone WHERE learner = ?", arguments: [claim.learner.rawValue])
        if let row = try Row.fetchOne(db, sql: "SELECT secretHash FROM learner WHERE id = ?", arguments: [claim.learner.rawValue]) {
            // A guest made again from an attestation has no secret: the first its device proves is kept.
            guard let existing = row["secretHash"] as String? else {
                try db.execute(
                    sql: "UPDATE learner SET secretHash = ?, lastSeenAt = ? WHERE id = ?", arguments: [claim.secretHash, now, claim.learner.rawValue])
                return .attached
            }
            guard constantTimeEquals(existing, claim.secretHash) else { return .wrongGuestSecret }
            try db.execute(sql: "UPDATE learner SET lastSeenAt = ? WHERE id = ?", arguments: [now, claim.learner.rawValue])
            return expired == nil ? .attached : .restarted
        }
        var outcome = AttachOutcome.attached
        if let tombstone = expired {
            guard tombstone[0] == Tombstone.Reason.expired.rawValue else { return .erased }
            if let kept = tombstone[1] as String?, !constantTimeEquals(kept, claim.secretHash) { return .wrongGuestSecret }
            outcome = .restarted
        }
        try db.execute(
            sql: "INSERT INTO learner (id, secretHash, createdAt, lastSeenAt) VALUES (?, ?, ?, ?)",
            arguments: [claim.learner.rawValue, claim.secretHash, now, now])
        return outcome
    }

    private static func insert(_ session: NewSession, for learner: LearnerID, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO session (tokenHash, learner, expiresAt) VALUES (?, ?, ?)",
            arguments: [session.tokenHash, learner.rawValue, session.expiresAt])
    }

    package func session(tokenHash: String, now: Int64) async throws -> SessionRecord? {
        try await writer.read { db in
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT learner, expiresAt FROM session WHERE tokenHash = ? AND revoked = 0 AND expiresAt > ?"),
                arguments: [tokenHash, now])
            return row.map { SessionRecord(learner: LearnerID(unchecked: $0[0]), expiresAt: $0[1]) }
        }
    }

    package func sync(
        tokenHash: String, now: Int64, replica: ReplicaID, lastSeq: Int64, events: [ProgressEvent], held: [EventID: Rejection],
        cursor: Int64, cursorMark: Int64?, limit: Int, quota: Int64
    ) async throws -> FeedPage? {
        guard !events.isEmpty else {
            // A pull stores nothing: it reads a snapshot beside the writer.
            let (page, staleGuest) = try await writer.read { db -> (FeedPage?, LearnerID?) in
                guard let head = try SyncHead(
                    tokenHash: tokenHash, now: now, replica: replica, markPosition: CursorCheck.markPosition(cursor: cursor, mark: cursorMark), db)
                else { return (nil, nil) }
                let rules = head.rules(replica: replica, lastSeq: lastSeq, now: now)
                let attached = try Self.attached(to: head.root, db)
                let page = try Self.page(
                    of: head.root, attached: attached, after: cursor, mark: cursorMark,
                    markAtCursor: Self.mark(at: cursor, of: head, ifAsked: cursorMark, attached: attached, db), limit: limit, rules: rules,
                    feedEnd: MappedFeed.lastPosition(own: head.ownLastPosition, mapped: attached.mapped), db)
                return (page, head.guestSeenLongBefore(now) ? head.root : nil)
            }
            if let staleGuest { try await writer.write { db in try Self.markSeen(staleGuest, now: now, db) } }
            return page
        }
        return try await syncs.write { db in
            guard let head = try SyncHead(
                tokenHash: tokenHash, now: now, replica: replica, markPosition: CursorCheck.markPosition(cursor: cursor, mark: cursorMark), db)
            else { return nil }
            let root = head.root
            if head.guestSeenLongBefore(now) { try Self.markSeen(root, now: now, db) }
            let attached = try Self.attached(to: root, db)
            // Read before this push stores anything: a new row may take the cursor's position.
            let markAtCursor = try Self.mark(at: cursor, of: head, ifAsked: cursorMark, attached: attached, db)
            var push = PushWriter(
                root: root, replica: replica, storedLastSeq: head.storedLastSeq, members: attached.members(of: root), held: held,
                rules: head.rules(replica: replica, lastSeq: lastSeq, now: now),
                position: MappedFeed.lastPosition(own: head.ownLastPosition, mapped: attached.mapped) + 1)
            try push.store(events, db)
            // Past the quota, the job throws and its statements are rolled back (`GroupCommit`).
            try SyncRules.checkQuota(feedEnd: push.position - 1, quota: quota)
            // A replica's owner is recorded once; its counter is the log's (`SyncHead`).
            if head.replicaOwner == nil {
                var binding = try db.cachedStatement(sql: "INSERT INTO replica (id, owner) VALUES (?, ?) ON CONFLICT (id) DO NOTHING")
                    .startBinding()
                binding.bind(replica.rawValue, at: 1)
                binding.bind(root.rawValue, at: 2)
                try binding.execute()
            }
            // Nothing else writes in this transaction: the feed ends at the last position taken.
            return try Self.page(
                of: root, attached: attached, after: cursor, mark: cursorMark, markAtCursor: markAtCursor, limit: limit, rules: push.rules,
                feedEnd: push.position - 1, db)
        }
    }

    package func learnerEvents(tokenHash: String, now: Int64, after cursor: Int64, through end: Int64, limit: Int) async throws -> LearnerFeed? {
        try await writer.read { db in
            guard let root = try Self.root(tokenHash: tokenHash, now: now, db) else { return nil }
            let mapped = try Self.attached(to: root, db).mapped
            var events = [ProgressEvent]()
            var last = cursor
            try Self.readFeed(of: root, mapped: mapped, after: cursor, limit: limit, db) { row, position in
                guard position <= end else { return false }
                events.append(try row.eventColumns(from: 1).event())
                last = position
                return true
            }
            return LearnerFeed(learner: root, events: events, last: last, feedEnd: try Self.lastPosition(of: root, mapped: mapped, db))
        }
    }

    /// The last position in `root`'s feed (0 when empty), the ranges reserved for its attached
    /// guests (`mapped`) included.
    static func lastPosition(of root: LearnerID, mapped: [MappedFeed], _ db: Database) throws -> Int64 {
        let own = try Int64.fetchOne(db.cachedStatement(sql: "SELECT \(ownLastPositionSQL(of: "?"))"), arguments: [root.rawValue]) ?? 0
        return MappedFeed.lastPosition(own: own, mapped: mapped)
    }

    /// The last position in a root's own feed, 0 when empty (`root`: an SQL expression).
    static func ownLastPositionSQL(of root: String) -> String {
        "(SELECT COALESCE(MAX(pos), 0) FROM event WHERE event.root = \(root))"
    }

    /// The guests attached to `root`, in one read of its `alias` rows.
    static func attached(to root: LearnerID, _ db: Database) throws -> AttachedGuests {
        // Only accounts have guests attached.
        guard !root.isGuest else { return .none }
        let rows = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT guest, posOffset, firstPos, lastPos FROM alias WHERE account = ? ORDER BY guest"),
            arguments: [root.rawValue])
        return AttachedGuests(account: root, rows: rows.map { ($0[0], $0[1], $0[2], $0[3]) })
    }

    /// The mark of the row at `position` of the head's root's feed (0 for a row from before
    /// marks, nil when there is none), when the request named a mark (``CursorCheck``): the
    /// head read it, unless the position falls in an attached guest's range.
    static func mark(at position: Int64, of head: SyncHead, ifAsked mark: Int64?, attached: AttachedGuests, _ db: Database) throws -> Int64? {
        switch CursorCheck.source(cursor: position, mark: mark, root: head.root, attached: attached) {
        case .none: return nil
        case .head: return head.ownMark
        case .guest(let guest, let position): return try ownMark(at: position, of: guest, db)
        }
    }

    /// The mark of the row at `position` of `learner`'s own feed (0 for a row from before marks),
    /// nil when there is none.
    static func ownMark(at position: Int64, of learner: LearnerID, _ db: Database) throws -> Int64? {
        try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT COALESCE(stamp, 0) FROM event WHERE root = ? AND pos = ?"), arguments: [learner.rawValue, position])
    }

    /// Reads `root`'s feed after `cursor` in feed order, `limit` rows at most, handing each row
    /// (columns `pos`, ``EventColumns/names`` and `stamp`) and its position in the feed to `body`, until it returns false.
    static func readFeed(
        of root: LearnerID, mapped: [MappedFeed], after cursor: Int64, limit: Int, _ db: Database, _ body: (DirectRow, Int64) throws -> Bool
    ) throws {
        let statement = try db.cachedStatement(sql: """
            SELECT pos, \(EventColumns.names), COALESCE(stamp, 0)
            FROM event WHERE root = ? AND pos > ? AND pos <= ? ORDER BY pos LIMIT ?
            """)
        var left = limit
        for read in MappedFeed.reads(of: root, mapped: mapped, after: cursor) where left > 0 {
            var binding = statement.startBinding()
            binding.bind(read.root.rawValue, at: 1)
            binding.bind(read.after, at: 2)
            binding.bind(read.through, at: 3)
            binding.bind(Int64(left), at: 4)
            var stopped = false
            try binding.forEachRow { row in
                left -= 1
                stopped = try !body(row, row.int64(0) + read.offset)
                return !stopped
            }
            if stopped { return }
        }
    }

    /// Every event in `root`'s feed, in feed order.
    /// Moves a guest's last-seen time to `now` (never back).
    private static func markSeen(_ guest: LearnerID, now: Int64, _ db: Database) throws {
        try db.execute(sql: "UPDATE learner SET lastSeenAt = max(lastSeenAt, ?) WHERE id = ?", arguments: [now, guest.rawValue])
    }

    static func isErased(_ learner: LearnerID, _ db: Database) throws -> Bool {
        try String.fetchOne(db, sql: "SELECT reason FROM tombstone WHERE learner = ?", arguments: [learner.rawValue]) == Tombstone.Reason.erased.rawValue
    }

    /// The feed root (the account, for an attached guest) of a live session's learner, in one
    /// statement; nil when the token is unknown, expired or revoked.
    static func root(tokenHash: String, now: Int64, _ db: Database) throws -> LearnerID? {
        let statement = try db.cachedStatement(sql: "SELECT root FROM (\(rootSQL))")
        return try String.fetchOne(statement, arguments: [tokenHash, now]).map { LearnerID(unchecked: $0) }
    }

    /// The root of a live session's learner (arguments: token hash, now).
    static let rootSQL = """
        SELECT COALESCE(alias.account, session.learner) AS root FROM session LEFT JOIN alias ON alias.guest = session.learner
        WHERE session.tokenHash = ? AND session.revoked = 0 AND session.expiresAt > ?
        """

    /// The next page of `root`'s feed after `cursor`, leaving out the events the requesting
    /// replica has: its own up to its `lastSeq` (the cursor still moves past them). Rows are read
    /// in place, not copied; none when the page starts at `feedEnd`, the feed's last position
    /// read in this transaction (``FeedPageBuilder/mayFindRows(feedEnd:)``).
    private static func page(
        of root: LearnerID, attached: AttachedGuests, after cursor: Int64, mark: Int64?, markAtCursor: Int64?, limit: Int, rules: SyncRules,
        feedEnd: Int64, _ db: Database
    ) throws -> FeedPage {
        var builder = FeedPageBuilder(rules: rules, after: cursor, mark: mark, markAtCursor: markAtCursor, limit: limit)
        if builder.mayFindRows(feedEnd: feedEnd) {
            try readFeed(of: root, mapped: attached.mapped, after: builder.readsAfter, limit: builder.rowsToRead, db) { row, position in
                try builder.add(
                    position: position, mark: row.int64(1 + EventColumns.count), seq: row.int64(1 + EventColumns.Column.seq.rawValue),
                    isReplica: { row.text(1 + EventColumns.Column.replica.rawValue, equals: $0) },
                    event: { try row.eventColumns(from: 1).event() })
            }
        }
        return builder.page(aliases: attached.aliases)
    }

    static func root(of learner: LearnerID, _ db: Database) throws -> LearnerID {
        let account = try String.fetchOne(
            db.cachedStatement(sql: "SELECT account FROM alias WHERE guest = ?"), arguments: [learner.rawValue])
        return account.map { LearnerID(unchecked: $0) } ?? learner
    }
}
