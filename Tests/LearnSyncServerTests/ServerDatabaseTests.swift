import LearnSyncPostgres
import Testing

/// `serve --database` takes a SQLite file or a PostgreSQL URL, and refuses other URLs.
@Suite struct ServerDatabaseTests {
    @Test(arguments: [
        "mysql://x", "sqlite://file.db", "http://db.example/x",
        // Mistyped PostgreSQL URLs, which would otherwise make folders named after the password.
        "postgres:/u:Secret31@127.0.0.1:5432/db", "postgres//u:Secret@127.0.0.1/db", "postgresql:u@host/db", "u:Secret@127.0.0.1/db",
    ])
    func anotherSchemeIsRefused(_ argument: String) {
        #expect(throws: PostgresLocationError.self) { try ServerDatabase(argument) }
    }

    @Test func filesAndPostgresURLsAreTaken() throws {
        guard case .sqlite(let path) = try ServerDatabase("./data/learnsync.sqlite") else { Issue.record("not a file"); return }
        #expect(path == "./data/learnsync.sqlite")
        guard case .postgres = try ServerDatabase("postgres://learnsync@127.0.0.1:5432/learnsync") else { Issue.record("not PostgreSQL"); return }
    }

    /// `pool_mode=transaction` names a pooler in transaction mode; it shows in the location's
    /// description (the log's), beside a socket directory, and the password never does.
    @Test func aPoolerInTransactionModeIsNamedInTheURL() throws {
        let pooled = try PostgresLocation(url: "postgres://learnsync:secret@db.example:6432/learnsync?pool_mode=transaction&host=/run/pgb")
        #expect(pooled.poolMode == .transaction)
        #expect(pooled.description == "postgres://learnsync@db.example:6432/learnsync?host=/run/pgb&pool_mode=transaction")
        #expect(try PostgresLocation(url: "postgres://learnsync@db.example/learnsync?pool_mode=session").poolMode == .session)
        #expect(try PostgresLocation(url: "postgres://learnsync@db.example/learnsync").poolMode == .session)
        #expect(throws: PostgresLocationError.self) { try PostgresLocation(url: "postgres://learnsync@db.example/learnsync?pool_mode=statement") }
        // Given twice, a parameter is refused rather than one of the two taken.
        #expect(throws: PostgresLocationError.self) {
            try PostgresLocation(url: "postgres://learnsync@db.example/learnsync?pool_mode=transaction&pool_mode=session")
        }
    }

    /// A URL that cannot be read is named in the error without its password.
    @Test(arguments: [
        "postgres://learnsync:Sekr3tPw@127.0.0.1:notaport/ls1", "postgres://learnsync:Sekr3tPw@[bad/ls1",
        "postgres://learnsync:Sek@r3tPw@127.0.0.1:notaport/ls1",
    ])
    func aPasswordNeverShowsInAnError(_ url: String) {
        #expect {
            try PostgresLocation(url: url)
        } throws: { error in
            "\(error)".contains("learnsync:***@") && !"\(error)".contains("r3tPw")
        }
    }
}
