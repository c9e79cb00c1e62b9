import Foundation
import LearnSync
import LearnSyncModels
import LearnSyncPostgres
import LearnSyncServer
import LearnSyncStorage
import LearnSyncTestSupport
import LearnSyncTesting
import Testing

/// PostgreSQL refusing to write for lack of disk (`53100 disk_full`) or a failing one (`58030
/// io_error`), raised by a trigger on the events table with those very codes: the server answers
/// `503 storage-failed` with `Retry-After`, acknowledges nothing, and takes the same push once
/// the database writes again.
@Suite(.serialized, .tags(.postgres), .enabled(if: !TestPostgres.isSkipped, "LEARNSYNC_SKIP_POSTGRES=1"))
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

    /// An erasure the database cannot make (its disk full) is answered `storage-failed` and is
    /// never made later: the journal holds it as pending only, and a restart leaves the account,
    /// with the work it synced after the failure.
    @Test func anErasureTheDatabaseCannotMakeIsNeverMadeLater() async throws {
        let catalog = try SampleCatalog.load()
        let course = catalog[SampleCatalog.courseID]!
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pg-erase-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let journal = folder.appendingPathComponent("erasures").path
        let location = try await TestPostgres.freshDatabase("erasefull")
        func start() async throws -> EmbeddedServer {
            try await EmbeddedServer.start(database: .postgres(location), catalog: catalog, passwordCost: 4) { $0.erasureJournal = journal }
        }
        let store = try DeviceStore.inMemory(catalog: catalog)
        func client(_ server: EmbeddedServer) -> LearnSyncClient {
            LearnSyncClient(store: store, transport: URLSessionTransport(baseURL: server.url, timeout: 10), retry: RetryPolicy(maxAttempts: 1))
        }
        var server = try await start()
        do {
            try await client(server).signUp(username: "erase-on-a-full-disk", password: "a long password")
            _ = try await TestPostgres.query(location, """
                CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'could not write' USING ERRCODE = 'disk_full'; END $$;
                CREATE TRIGGER refuse_delete BEFORE DELETE ON event FOR EACH ROW EXECUTE FUNCTION refuse_delete();
                """)
            try await client(server).complete(course.lessons.prefix(1), in: course)
            try await client(server).sync()
            let error = try await #require(throws: SyncError.self) { try await client(server).deleteAccount(password: "a long password") }
            #expect(error.problem?.knownCode == .storageFailed, "\(error)")
            #expect(try ErasureJournal(path: journal).entries().map(\.pending) == [true])
            _ = try await TestPostgres.query(location, "DROP TRIGGER refuse_delete ON event")
            try await client(server).complete(course.lessons.dropFirst().prefix(1), in: course)
            try await client(server).sync()
            await server.stop()

            server = try await start()
            try await client(server).sync()
            let report = try await client(server).serverProgress().courses.first { $0.progress.course == course.id }
            #expect(report?.progress.status(of: course.lessons[1].id) == .completed)
            #expect(try ErasureJournal(path: journal).entries().map(\.pending) == [true])
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}
