import Foundation
import LearnSync
import LearnSyncModels
import LearnSyncPostgres
import LearnSyncStorage
import LearnSyncTestSupport
import LearnSyncTesting
import Testing

/// PostgreSQL refusing to write for lack of disk (`53100 disk_full`) or a failing one (`58030
/// io_error`), raised by a trigger on the events table with those very codes: the server answers
/// `503 storage-failed` with `Retry-After`, acknowledges nothing, and takes the same push once
/// the database writes again.
@Suite(.serialized, .enabled(if: !TestPostgres.isSkipped, "LEARNSYNC_SKIP_POSTGRES=1"))
struct PostgresDiskFailureTests {
    @Test(arguments: [("disk_full", "disk is full"), ("io_error", "failed to write")])
    func aWriteTheDatabaseCannotMakeIsRefusedClearlyAndTakenLater(code: String, detail: String) async throws {
        let catalog = try SampleCatalog.load()
        let course = catalog[SampleCatalog.courseID]!
        let location = try await TestPostgres.freshDatabase("diskfull")
        let server = try await EmbeddedServer.start(database: .postgres(location), catalog: catalog, passwordCost: 4)
        let client = LearnSyncClient(
            store: try DeviceStore.inMemory(catalog: catalog), transport: URLSessionTransport(baseURL: server.url, timeout: 10),
            retry: RetryPolicy(maxAttempts: 1))
        do {
            try await client.signUp(username: "full-\(code)", password: "a long password")
            try await client.complete(course.lessons.prefix(2), in: course)
            _ = try await TestPostgres.query(location, """
                CREATE FUNCTION refuse_write() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'could not write' USING ERRCODE = '\(code)'; END $$;
                CREATE TRIGGER refuse_write BEFORE INSERT ON event FOR EACH ROW EXECUTE FUNCTION refuse_write();
                """)
            let error = try await #require(throws: SyncError.self) { try await client.sync() }
            #expect(error.problem?.knownCode == .storageFailed)
            #expect(error.problem?.detail.contains(detail) == true, "\(error)")
            #expect(error.retryAfter == .seconds(30))
            #expect(try await client.pendingCount() == 2)
            #expect(try await TestPostgres.query(location, "SELECT count(*) FROM event") == "0")

            _ = try await TestPostgres.query(location, "DROP TRIGGER refuse_write ON event")
            try await client.sync()
            #expect(try await client.pendingCount() == 0)
            #expect(try await TestPostgres.query(location, "SELECT count(*) FROM event") == "2")
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}
