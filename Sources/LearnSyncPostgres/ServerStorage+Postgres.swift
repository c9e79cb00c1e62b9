public import LearnSyncServer

extension ServerStorage {
    /// A PostgreSQL database, shared by any number of server processes. The server connects,
    /// and migrates the schema, once it runs.
    /// - Parameters:
    ///   - location: the database (`PostgresLocation(url:)` reads a `postgres://` URL).
    ///   - listenLocation: where the server listens for live notices (PostgreSQL's `LISTEN`),
    ///     when not on a connection of `location`'s pool. A pooler in transaction mode
    ///     (``PostgresLocation/PoolMode/transaction``) cannot hold a `LISTEN`: behind one, name
    ///     PostgreSQL itself here, or this process's live streams hear only of its own notices
    ///     (the other processes still hear of them).
    ///   - connectDeadline: how long start-up waits for the first connection before it fails
    ///     (nil: as long as it takes). Erasures are journaled only where
    ///     ``ServerConfiguration/erasureJournal`` names a file.
    public static func postgres(
        _ location: PostgresLocation, listenLocation: PostgresLocation? = nil, connectDeadline: Duration? = nil
    ) -> ServerStorage {
        ServerStorage(description: "PostgreSQL \(location)", defaultErasureJournal: nil) { logger in
            PostgresServerStore(location: location, listenLocation: listenLocation, logger: logger, connectDeadline: connectDeadline)
        }
    }
}
