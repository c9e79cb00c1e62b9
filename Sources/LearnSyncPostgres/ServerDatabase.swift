public import LearnSyncServer
public import Logging

/// The database a server keeps its data in: an embedded SQLite file (the default, for one
/// process) or PostgreSQL (for several server processes sharing one database).
public enum ServerDatabase: Sendable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    /// A `postgres://` (or `postgresql://`) URL names PostgreSQL; anything else is a SQLite file.
    /// - Throws: ``PostgresLocationError`` for a PostgreSQL URL that cannot be used.
    public init(_ argument: String) throws(PostgresLocationError) {
        self = PostgresLocation.isURL(argument) ? .postgres(try PostgresLocation(url: argument)) : .sqlite(path: argument)
    }

    /// Opens the store. A PostgreSQL store connects and migrates once it runs in the server's
    /// service group (``ServiceBackedStore``).
    public func openStore(logger: Logger) throws -> any ServerStore {
        switch self {
        case .sqlite(let path): try SQLiteServerStore(path: path)
        case .postgres(let location): PostgresServerStore(location: location, logger: logger)
        }
    }

    public var description: String {
        switch self {
        case .sqlite(let path): "SQLite file \(path)"
        case .postgres(let location): "PostgreSQL \(location)"
        }
    }
}
