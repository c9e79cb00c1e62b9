import Foundation
import GRDB
import LearnSyncModels
import LearnSyncSQLite
import LearnSyncServer

/// The floor of a durable small sync that stores what the server stores, for the
/// concurrent-clients workload: each request's event as one row of the server's own `event`
/// table (its schema, both its indexes and its `INSERT`), through a ``SQLiteServerStore``'s own
/// connections (its configuration and background checkpoints) and a ``GroupCommit``. Nothing
/// else: no JSON read, no session or replica looked up, no rule judged, no feed read. The client
/// comes from its `Authorization` header through a dictionary in memory, and its counter (also
/// its feed position) from memory.
final class RawDurableRows: Sendable {
    /// Holds the connections: the server's own, on a file of its own.
    private let store: SQLiteServerStore
    private let commits: GroupCommit
    private let clients: [String: Wrk.Client]
    private let lessons: [String]
    private let course: String
    private let counters = Locked<[String: Int64]>([:])

    init(path: String, clients: [Wrk.Client], course: Course) throws {
        store = try SQLiteServerStore(path: path)
        commits = GroupCommit(writer: store.writer)
        self.clients = Dictionary(uniqueKeysWithValues: clients.map { ("Bearer \($0.token)", $0) })
        lessons = course.lessons.map(\.id.rawValue)
        self.course = course.id.rawValue
    }

    /// Stores the next event of the client that `authorization` names; returns once its
    /// transaction committed.
    func append(authorization: String) async throws {
        guard let client = clients[authorization] else { throw BenchError("no client has this token") }
        let seq = counters.withLock { counters in
            let next = counters[authorization, default: 0] + 1
            counters[authorization] = next
            return next
        }
        let columns = EventColumns(
            replica: client.replica.rawValue, seq: seq, learner: client.learner.rawValue, hlc: HLCTimestamp(physicalMilliseconds: Int64(Date().timeIntervalSince1970 * 1000)).rawValue,
            course: course, type: "lesson.started", item: lessons[Int(seq) % lessons.count], answers: nil, seen: nil, choice: nil, seconds: nil,
            position: nil, version: nil)
        try await commits.write { db in
            var binding = try db.cachedStatement(sql: SQLiteServerStore.eventInsert.sql(rows: 1)).startBinding()
            binding.bind(client.learner.rawValue, at: 1)
            binding.bind(seq, at: 2)
            binding.bind(columns, from: 3)
            binding.bind(nil as Int64?, at: 13)
            try binding.execute()
        }
    }
}
