package import Logging

/// Where a server keeps its data: ``sqlite(path:synchronous:)`` here, or `.postgres(_:)` from
/// `LearnSyncPostgres` for several server processes sharing one database. The stores behind it
/// are the package's own; an operator chooses one, and never implements one.
public struct ServerStorage: Sendable, CustomStringConvertible {
    /// Opens the store (a PostgreSQL store connects once it runs in the server's service group).
    package let open: @Sendable (Logger) throws -> any ServerStore
    /// Where erasures are journaled when the configuration names no journal: beside a SQLite
    /// file; nowhere for PostgreSQL, whose database has no place on this machine.
    package let defaultErasureJournal: String?
    public let description: String

    package init(description: String, defaultErasureJournal: String?, open: @escaping @Sendable (Logger) throws -> any ServerStore) {
        self.description = description
        self.defaultErasureJournal = defaultErasureJournal
        self.open = open
    }

    /// An embedded SQLite file, created (mode 0600) if missing, for one server process.
    /// - Parameters:
    ///   - path: the database file; erasures are journaled beside it (`PATH.erasures`) unless
    ///     ``ServerConfiguration/erasureJournal`` says otherwise.
    ///   - synchronous: how each commit reaches the disk (``SQLiteSynchronous``).
    public static func sqlite(path: String, synchronous: SQLiteSynchronous = .normal) -> ServerStorage {
        ServerStorage(description: "SQLite file \(path)", defaultErasureJournal: path + ".erasures") { _ in
            try SQLiteServerStore(path: path, synchronous: synchronous)
        }
    }
}
