import Foundation
import NIOSSL
package import PostgresNIO

/// Where a PostgreSQL database is and how to reach it, read from a connection URL:
///
/// ```
/// postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require][&host=/socket/dir][&pool_mode=session|transaction]
/// ```
///
/// `postgresql://` works too. The password may also come from `PGPASSWORD` (kept out of the
/// process list). A `host` query parameter naming a directory connects over the Unix socket
/// `DIR/.s.PGSQL.PORT`, as libpq does. `sslmode` defaults to `prefer` (TLS when the server
/// offers it); `require` refuses a server without TLS. `pool_mode=transaction` says the URL
/// names a pooler in transaction mode (``PoolMode``).
public struct PostgresLocation: Sendable, CustomStringConvertible {
    public enum TLSMode: String, Sendable {
        case disable, prefer, require
    }

    /// How the URL's connections reach PostgreSQL, as PgBouncer's `pool_mode` names it.
    public enum PoolMode: String, Sendable {
        /// Each connection is a PostgreSQL session of its own: PostgreSQL itself, or a pooler
        /// in session mode. The default.
        case session
        /// Through a pooler in transaction mode (PgBouncer's `pool_mode = transaction`): a
        /// connection is a PostgreSQL session's only for one transaction. The server then
        /// prepares no statement, and cannot listen for live notices through it: give
        /// `serve --listen-database` a URL that reaches PostgreSQL directly.
        case transaction
    }

    public var host: String
    public var port: Int
    /// A Unix socket to connect through instead of TCP.
    public var socketPath: String?
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// How connections reach PostgreSQL (the URL's `pool_mode`, `session` by default).
    public var poolMode = PoolMode.session
    /// Most connections the pool of one server process opens.
    public var maxConnections = 16

    /// Whether `string` names a PostgreSQL database rather than a SQLite file.
    public static func isURL(_ string: String) -> Bool {
        string.hasPrefix("postgres://") || string.hasPrefix("postgresql://")
    }

    /// Reads a connection URL.
    /// - Throws: ``PostgresLocationError`` naming what is wrong.
    public init(url string: String, environment: [String: String]? = nil) throws(PostgresLocationError) {
        let environment = environment ?? ProcessInfo.processInfo.environment
        guard Self.isURL(string), let components = URLComponents(string: string) else {
            throw PostgresLocationError("expected postgres://USER@HOST:PORT/DATABASE, got \(Self.redacted(string))")
        }
        guard let user = components.percentEncodedUser.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
            throw PostgresLocationError("the PostgreSQL URL names no user (postgres://USER@HOST/DATABASE)")
        }
        username = user
        password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding } ?? environment["PGPASSWORD"]
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        port = components.port ?? 5432
        guard (1...65_535).contains(port) else { throw PostgresLocationError("the PostgreSQL port must be 1 to 65535") }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? user : (path.removingPercentEncoding ?? path)
        tls = .prefer
        var seen = Set<String>()
        for item in components.queryItems ?? [] {
            guard seen.insert(item.name).inserted else { throw PostgresLocationError("the PostgreSQL URL gives \(item.name) twice") }
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw PostgresLocationError("sslmode must be disable, prefer or require")
                }
                tls = mode
            case "pool_mode":
                guard let mode = item.value.flatMap(PoolMode.init(rawValue:)) else {
                    throw PostgresLocationError("pool_mode must be session or transaction")
                }
                poolMode = mode
            case "host":
                guard let directory = item.value, directory.hasPrefix("/") else {
                    throw PostgresLocationError("the host parameter must be a socket directory (an absolute path)")
                }
                socketPath = "\(directory)/.s.PGSQL.\(port)"
            default:
                throw PostgresLocationError("unknown PostgreSQL URL parameter \(item.name) (known: sslmode, host, pool_mode)")
            }
        }
    }

    /// The URL without its password.
    public var description: String {
        var parameters: [String] = []
        if let socketPath { parameters.append("host=\((socketPath as NSString).deletingLastPathComponent)") }
        if poolMode != .session { parameters.append("pool_mode=\(poolMode.rawValue)") }
        let query = parameters.isEmpty ? "" : "?" + parameters.joined(separator: "&")
        return "postgres://\(username)@\(host):\(port)/\(database)\(query)"
    }

    /// The client configuration of this location.
    package var clientConfiguration: PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let socketPath {
            configuration = .init(unixSocketPath: socketPath, username: username, password: password, database: database)
        } else {
            let tlsConfiguration: PostgresClient.Configuration.TLS = switch tls {
            case .disable: .disable
            case .prefer: .prefer(.makeClientConfiguration())
            case .require: .require(.makeClientConfiguration())
            }
            configuration = .init(host: host, port: port, username: username, password: password, database: database, tls: tlsConfiguration)
        }
        configuration.options.maximumConnections = maxConnections
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    /// The configuration of one connection to this location, outside the pool (the check of a
    /// login at start).
    package func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let socketPath {
            configuration = .init(unixSocketPath: socketPath, username: username, password: password, database: database)
        } else {
            let tlsConfiguration: PostgresConnection.Configuration.TLS = switch tls {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
            configuration = .init(host: host, port: port, username: username, password: password, database: database, tls: tlsConfiguration)
        }
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    /// `string` with any password between `://USER:` and `@` masked, whether or not the rest
    /// reads as a URL.
    static func redacted(_ string: String) -> String {
        guard let scheme = string.range(of: "://") else { return string }
        let rest = string[scheme.upperBound...]
        // The user information ends at the last "@" before the path.
        let authority = rest[..<(rest.firstIndex(of: "/") ?? rest.endIndex)]
        guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else { return string }
        return String(string[..<colon]) + ":***" + String(string[at...])
    }
}

/// A PostgreSQL URL that cannot be used, and why.
public struct PostgresLocationError: Error, Sendable, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
