import Foundation
import GRDB
import LearnSyncMerge
import LearnSyncModels
import LearnSyncSQLite

/// Applies events to the materialized progress inside one write transaction: rows are read
/// once, updated in memory, and written back by ``flush()`` before the transaction commits.
struct ProgressWriter {
    /// One learner's (an alias root's) progress in one course.
    struct Key: Hashable, Sendable {
        var learner: LearnerID
        var course: CourseID
    }

    let db: Database
    let catalog: Catalog
    private(set) var aliases: AliasSet
    /// The rows read or changed, as they will be once ``flush()`` wrote the changed ones.
    private var cache: [Key: CourseProgress] = [:]
    private var dirty: Set<Key> = []

    init(db: Database, catalog: Catalog) throws {
        self.db = db
        self.catalog = catalog
        aliases = try Self.loadAliases(db)
    }

    /// A writer starting from what a ``RecordMemo`` holds, which the caller checked is current.
    init(db: Database, catalog: Catalog, memo: RecordMemo) {
        self.db = db
        self.catalog = catalog
        aliases = memo.aliases
        cache = memo.progress
    }

    /// The rows to keep in a ``RecordMemo``: every row in the cache, or none when there are
    /// more than ``RecordMemo/progressCapacity``.
    var memoProgress: [Key: CourseProgress] {
        cache.count <= RecordMemo.progressCapacity ? cache : [:]
    }

    static func loadAliases(_ db: Database) throws -> AliasSet {
        var aliases = AliasSet()
        for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT guest, account FROM alias")) {
            try aliases.insert(guest: LearnerID(unchecked: row["guest"]), account: LearnerID(unchecked: row["account"]))
        }
        return aliases
    }

    /// Applies events just inserted into the log (never applied before), in order. A course whose
    /// progress must be rebuilt (``CourseProgress/apply(_:catalog:)``) is rebuilt from the log,
    /// which holds the later of `events` too: those of that course are in it then, and skipped.
    /// Events the catalog does not know are kept in the log but do not count until it does.
    mutating func apply(logged events: some Collection<ProgressEvent>) throws {
        var rebuilt = Set<Key>()
        for event in events where catalog.contains(event.course) {
            let key = Key(learner: aliases.root(of: event.learner), course: event.course)
            guard !rebuilt.contains(key) else { continue }
            // Applied in place, found once: a copy taken out of the cache and put back was
            // copied whole on every event (copy on write), a fifth of storing a pulled page.
            let row = try load(key)
            if cache.values[row].apply(event, catalog: catalog) == .rebuild {
                cache[key] = try build(key)
                rebuilt.insert(key)
            }
            dirty.insert(key)
        }
    }

    /// The key of the event that wins the last-writer-wins field `payload` writes (a scenario's
    /// current choice, the resume point) in `learner`'s progress, if it writes one and one wins.
    mutating func winningKey(for payload: EventPayload, learner: LearnerID, course: CourseID) throws -> EventKey? {
        guard catalog.contains(course) else { return nil }
        switch payload {
        case .scenarioChoice(let scenario, _):
            return cache.values[try load(Key(learner: aliases.root(of: learner), course: course))].scenarios[scenario]?.currentKey
        case .resumePosition:
            return cache.values[try load(Key(learner: aliases.root(of: learner), course: course))].resume?.key
        default:
            return nil
        }
    }

    /// Moves an applied event of the log to the earlier time a server stored it at; returns false
    /// when the course's progress must be rebuilt from the log instead (``CourseProgress/retime(_:to:catalog:)``).
    mutating func retime(_ event: ProgressEvent, to time: HLCTimestamp) throws -> Bool {
        guard catalog.contains(event.course) else { return true }
        let key = Key(learner: aliases.root(of: event.learner), course: event.course)
        let row = try load(key)
        switch cache.values[row].retime(event, to: time, catalog: catalog) {
        case .rebuild:
            return false
        case .ignored:
            // An event the catalog does not count changed nothing: the course is not written.
            return true
        case .applied, .hidden:
            dirty.insert(key)
            return true
        }
    }

    /// Rebuilds one course of one learner from the log (after a reset, or an event's time changed).
    mutating func rebuild(learner root: LearnerID, course: CourseID) throws {
        guard catalog.contains(course) else { return }
        let key = Key(learner: root, course: course)
        cache[key] = try build(key)
        dirty.insert(key)
    }

    /// Rebuilds one learner's progress in every course from the log (after an alias or the
    /// catalog changed). Streams the log with a cursor, so memory stays flat however many
    /// events there are.
    mutating func rebuild(learner root: LearnerID) throws {
        try db.execute(sql: "DELETE FROM progress WHERE learner = ?", arguments: [root.rawValue])
        for key in cache.keys where key.learner == root { cache[key] = nil }
        for course in catalog.courses {
            let key = Key(learner: root, course: course.id)
            guard try hasEvents(of: key) else { continue }
            cache[key] = try build(key)
            dirty.insert(key)
        }
    }

    /// The progress of one (learner, course) built from the log: resets first, then every other
    /// event streamed once.
    private func build(_ key: Key) throws -> CourseProgress {
        let members = aliases.members(of: key.learner)
        let placeholders = members.map { _ in "?" }.joined(separator: ",")
        let arguments = StatementArguments([key.course.rawValue] + members.map(\.rawValue))
        let resets = try EventRow.fetchAll(
            db, sql: "SELECT \(EventRow.columns) FROM event WHERE course = ? AND learner IN (\(placeholders)) AND type = 'course.reset'",
            arguments: arguments)
        var builder = ProgressBuilder(course: key.course, catalog: catalog, resets: resets)
        let rows = try Row.fetchCursor(
            db.cachedStatement(sql: """
                SELECT \(EventRow.columns) FROM event WHERE course = ? AND learner IN (\(placeholders)) AND type <> 'course.reset'
                """),
            arguments: arguments)
        while let row = try rows.next() { builder.add(try EventRow.decode(row)) }
        return builder.finish()
    }

    private func hasEvents(of key: Key) throws -> Bool {
        let members = aliases.members(of: key.learner)
        let placeholders = members.map { _ in "?" }.joined(separator: ",")
        return try Row.fetchOne(
            db.cachedStatement(sql: "SELECT 1 FROM event WHERE course = ? AND learner IN (\(placeholders)) LIMIT 1"),
            arguments: StatementArguments([key.course.rawValue] + members.map(\.rawValue))) != nil
    }

    /// Whether the log holds any event recorded under `learner`.
    func hasEvents(of learner: LearnerID) throws -> Bool {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM event WHERE learner = ? LIMIT 1"), arguments: [learner.rawValue]) != nil
    }

    /// Records an alias edge; the caller rebuilds the account's progress.
    mutating func insertAlias(guest: LearnerID, account: LearnerID) throws -> Bool {
        guard try aliases.insert(guest: guest, account: account) else { return false }
        try db.execute(sql: "INSERT INTO alias (guest, account) VALUES (?, ?)", arguments: [guest.rawValue, account.rawValue])
        return true
    }

    /// Writes every changed progress row.
    func flush() throws {
        // An upsert updates the row in place (REPLACE would delete it and insert a new rowid,
        // touching the key index too: one more page written per record).
        let statement = try db.cachedStatement(sql: """
            INSERT INTO progress (learner, course, state) VALUES (?, ?, ?)
            ON CONFLICT (learner, course) DO UPDATE SET state = excluded.state
            """)
        for key in dirty {
            guard let progress = cache[key] else { continue }
            let state = progress.compactEncoded()
            var binding = statement.startBinding()
            binding.bind(key.learner.rawValue, at: 1)
            binding.bind(key.course.rawValue, at: 2)
            binding.bind(state, at: 3)
            try binding.execute()
            // A hit needs these very bytes in the row, so remembering them before the commit is
            // safe even if it rolls back.
            ProgressDecodeCache.remember(progress, as: state, for: key)
        }
    }

    /// Reads a progress row into the cache unless it is there; returns where it is, to be
    /// changed in place.
    private mutating func load(_ key: Key) throws -> Dictionary<Key, CourseProgress>.Index {
        // `cache[key] == nil` would copy the progress out to compare it.
        if let index = cache.index(forKey: key) { return index }
        cache[key] = try DeviceStore.fetchProgress(db, learner: key.learner, course: key.course)
        return cache.index(forKey: key)!
    }
}
