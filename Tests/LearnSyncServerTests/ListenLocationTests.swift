import LearnSyncPostgres
import LearnSyncServer
import LearnSyncTesting
import Testing

/// A listening location (`serve --listen-database`) that cannot be reached stops the server at
/// start, as the database itself does, rather than leaving live notices unheard across
/// processes with nothing but warnings in the log.
@Suite(.tags(.postgres), .enabled(if: !TestPostgres.isSkipped, "LEARNSYNC_SKIP_POSTGRES=1"))
struct ListenLocationTests {
    @Test func anUnreachableListeningLocationFailsThePreparation() async throws {
        let location = try await TestPostgres.freshDatabase("listen", throughPooler: true)
        let nowhere = try PostgresLocation(url: "postgres://learnsync@127.0.0.1:1/\(location.database)?sslmode=disable")
        let store = PostgresServerStore(location: location, listenLocation: nowhere, connectDeadline: .seconds(1))
        let running = Task { try await store.run() }
        defer { running.cancel() }
        let error = await #expect(throws: ServerError.self) { try await store.prepare() }
        #expect(error?.description == "The listening PostgreSQL at 127.0.0.1:1 could not be reached within 1 s", "\(String(describing: error))")
    }
}
