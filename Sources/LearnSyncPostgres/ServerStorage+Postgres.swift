public import LearnSyncServer

extension ServerStorage {
    /// A PostgreSQL database, shared by any number of server processes. The server connects,
    /// and migrates the schema, once it runs.
    /// - Parameters:
    ///   - location: the database (`PostgresLocation(url:)` reads a `postgres://` URL).
    ///   - connectDeadline: how long start-up waits for the first connection before it fails
    ///     (nil: as long as it takes). Erasures are journaled only where
    ///     ``ServerConfiguration/erasureJournal`` names a file.
    public static func postgres(_ location: PostgresLocation, connectDeadline: Duration? = nil) -> ServerStorage {
        ServerStorage(description: "PostgreSQL \(location)", defaultErasureJournal: nil) { logger in
            PostgresServerStore(location: location, logger: logger, connectDeadline: connectDeadline)
        }
    }
}
