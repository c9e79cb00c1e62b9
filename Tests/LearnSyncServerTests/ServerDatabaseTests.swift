import LearnSyncPostgres
import Testing

/// `serve --database` takes a SQLite file or a PostgreSQL URL, and refuses other URLs.
@Suite struct ServerDatabaseTests {
    @Test(arguments: ["mysql://x", "sqlite://file.db", "http://db.example/x"])
    func anotherSchemeIsRefused(_ argument: String) {
        #expect(throws: PostgresLocationError.self) { try ServerDatabase(argument) }
    }

    @Test func filesAndPostgresURLsAreTaken() throws {
        guard case .sqlite(let path) = try ServerDatabase("./data/learnsync.sqlite") else { Issue.record("not a file"); return }
        #expect(path == "./data/learnsync.sqlite")
        guard case .postgres = try ServerDatabase("postgres://learnsync@127.0.0.1:5432/learnsync") else { Issue.record("not PostgreSQL"); return }
    }
}
