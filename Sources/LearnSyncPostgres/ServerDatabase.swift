import Foundation
package import LearnSyncServer
package import Logging

/// The database a server keeps its data in: an embedded SQLite file (the default, for one
/// process) or PostgreSQL (for several server processes sharing one database).
package enum ServerDatabase: Sendable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    /// A `postgres://` (or `postgresql://`) URL names PostgreSQL; a URL of another scheme is
    /// refused; anything else is a SQLite file.
    /// - Throws: ``PostgresLocationError`` for a PostgreSQL URL that cannot be used, or a URL of
    ///   another scheme (`mysql://x` used to start SQLite on a file named `mysql:/x`).
    package init(_ argument: String) throws(PostgresLocationError) {
        if PostgresLocation.isURL(argument) {
            self = .postgres(try PostgresLocation(url: argument))
        } else if let scheme = Self.urlScheme(argument) {
            throw PostgresLocationError("\(scheme):// is not a database this server uses: give a SQLite file path or a postgres:// URL")
        } else if Self.looksLikeMistypedURL(argument) {
            // Taken as a path, it would make folders named after the user and password.
            throw PostgresLocationError("this reads as a mistyped PostgreSQL URL: write postgres://USER@HOST:PORT/DATABASE")
        } else {
            self = .sqlite(path: argument)
        }
    }

    /// Whether `argument` starts as a PostgreSQL URL does (`postgres:/…`, `postgresql//…`) or
    /// holds `USER:PASSWORD@`, which no database file's path would.
    private static func looksLikeMistypedURL(_ argument: String) -> Bool {
        let lowered = argument.lowercased()
        if lowered.hasPrefix("postgres:") || lowered.hasPrefix("postgresql:") || lowered.hasPrefix("postgres//") || lowered.hasPrefix("postgresql//") {
            return true
        }
        guard let at = argument.firstIndex(of: "@") else { return false }
        return argument[..<at].contains(":")
    }

    /// The scheme of `argument` when it reads as a URL (`scheme://…`).
    private static func urlScheme(_ argument: String) -> String? {
        guard let range = argument.range(of: "://") else { return nil }
        let scheme = argument[..<range.lowerBound]
        guard let first = scheme.first, first.isLetter, scheme.allSatisfy({ $0.isLetter || $0.isNumber || "+.-".contains($0) }) else { return nil }
        return String(scheme)
    }

    /// Opens the store. A PostgreSQL store connects and migrates once it runs in the server's
    /// service group (``ServiceBackedStore``). `sqliteSynchronous` applies to a SQLite file;
    /// `postgresConnectDeadline` bounds a PostgreSQL store's wait for its first connection, and
    /// `postgresListen` is where it listens for live notices when not through its pool.
    package func openStore(
        logger: Logger, sqliteSynchronous: SQLiteSynchronous = .normal, postgresConnectDeadline: Duration? = nil,
        postgresListen: PostgresLocation? = nil
    ) throws -> any ServerStore {
        switch self {
        case .sqlite(let path): try SQLiteServerStore(path: path, synchronous: sqliteSynchronous)
        case .postgres(let location):
            PostgresServerStore(location: location, listenLocation: postgresListen, logger: logger, connectDeadline: postgresConnectDeadline)
        }
    }

    /// The storage a server is built on (``openStore(logger:sqliteSynchronous:postgresConnectDeadline:postgresListen:)``'s).
    package func storage(
        sqliteSynchronous: SQLiteSynchronous = .normal, postgresConnectDeadline: Duration? = nil, postgresListen: PostgresLocation? = nil
    ) -> ServerStorage {
        switch self {
        case .sqlite(let path): .sqlite(path: path, synchronous: sqliteSynchronous)
        case .postgres(let location): .postgres(location, listenLocation: postgresListen, connectDeadline: postgresConnectDeadline)
        }
    }

    package var description: String {
        switch self {
        case .sqlite(let path): "SQLite file \(path)"
        case .postgres(let location): "PostgreSQL \(location)"
        }
    }
}
