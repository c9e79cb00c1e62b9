import Foundation
import GRDB
import LearnSyncSQLite
import LearnSyncTestSupport
import Testing

/// The write-ahead log is checkpointed off the writer, and stays bounded when the writer never
/// pauses.
@Suite struct BackgroundCheckpointerTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("checkpointer-\(UUID().uuidString)")

    /// A pool in WAL mode with a checkpointer installed on its writer, and the file's path.
    func open(interval: Int32, limit: Int32) throws -> (DatabasePool, BackgroundCheckpointer, String) {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("db.sqlite").path
        let pool = try DatabasePool(path: path)
        try pool.write { db in try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, blob BLOB NOT NULL)") }
        let checkpointer = try BackgroundCheckpointer(path: path, interval: interval, limit: limit)
        pool.writeWithoutTransaction { db in checkpointer.install(on: db) }
        return (pool, checkpointer, path)
    }

    func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }

    /// Writes `count` rows of one page each, one commit per row.
    func write(_ count: Int, _ pool: DatabasePool) throws {
        for _ in 0..<count {
            try pool.write { db in try db.execute(sql: "INSERT INTO t (blob) VALUES (zeroblob(3000))") }
        }
    }

    @Test func theLogIsCopiedIntoTheFileWithoutTheWriter() async throws {
        let (pool, checkpointer, path) = try open(interval: 20, limit: 10_000)
        defer { try? FileManager.default.removeItem(at: folder) }
        let before = size(path)
        // 100 pages of log: SQLite's own checkpoint would wait for 1,000, and the writer does
        // not checkpoint below the limit.
        try write(100, pool)
        #expect(try await eventually(timeout: .seconds(2)) { size(path) > before }, "no checkpoint copied the log into the database file")
        #expect(try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t") } == 100)
        _ = checkpointer
    }

    @Test func theLogStaysBoundedUnderAWriterThatNeverPauses() throws {
        let (pool, checkpointer, path) = try open(interval: 20, limit: 60)
        defer { try? FileManager.default.removeItem(at: folder) }
        // A reader that holds its snapshot keeps every checkpoint from catching up, so only the
        // writer's own checkpoint at the limit lets the log start over once the reader is gone.
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true
        let reader = try DatabaseQueue(path: path, configuration: configuration)
        try reader.inDatabase { db in
            try db.execute(sql: "BEGIN")
            _ = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t")
        }
        try write(200, pool)
        try reader.inDatabase { db in try db.execute(sql: "COMMIT") }
        let grown = size(path + "-wal")
        // Each commit adds about three pages of log (the row's page, the table's root, the
        // file's header): without checkpoints the log would triple.
        try write(400, pool)
        // The first commits after the reader left may still append (a few pages' slack).
        #expect(size(path + "-wal") <= grown + 10 * 4120, "the log did not start over")
        // `PRAGMA wal_checkpoint` answers busy, the log's pages, and the pages checkpointed.
        let pages: Int = try pool.writeWithoutTransaction { db in try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")![1] }
        #expect(pages < 60 + 3, "the log holds \(pages) pages with a limit of 60")
        #expect(try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t") } == 600)
        _ = checkpointer
    }
}
