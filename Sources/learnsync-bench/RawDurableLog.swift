import Foundation
import GRDB
import LearnSyncSQLite
import LearnSyncServer

/// The floor of a durable small sync, for the concurrent-clients workload: each request body
/// stored as one row in a WAL database (`synchronous=NORMAL`, as the server's store), through
/// the server's own ``GroupCommit`` (one transaction shared with the requests that queued
/// meanwhile), answered once it committed. No parsing, no checks, no reads: what any server
/// that keeps what it is sent must do at least, with the server's commit path.
final class RawDurableLog: Sendable {
    private let writer: DatabasePool
    private let commits: GroupCommit

    init(path: String) throws {
        writer = try DatabasePool(path: path)
        try writer.write { db in try db.execute(sql: "CREATE TABLE log (id INTEGER PRIMARY KEY, body BLOB NOT NULL)") }
        commits = GroupCommit(writer: writer)
    }

    /// Stores `body` as one row; returns once its transaction committed.
    func append(_ body: Data) async throws {
        try await commits.write { db in
            var binding = try db.cachedStatement(sql: "INSERT INTO log (body) VALUES (?)").startBinding()
            binding.bind(body, at: 1)
            try binding.execute()
        }
    }
}
