import PostgresNIO

/// A statement a sync runs, prepared once per connection: PostgreSQL then parses it once and,
/// after a few runs, keeps a generic plan. Parsing and planning every statement anew took 45 %
/// of PostgreSQL's CPU in small syncs (docs/PERFORMANCE.md).
///
/// Two cautions. A generic plan is made from the statistics of the moment: a query whose best
/// plan depends on a bound array's length or on a table that grows fast (the push's lookup of
/// stored counters) stays unprepared. And postgres-nio remembers a failed preparation for the
/// connection's lifetime: a statement must never first run in a transaction that already
/// failed, which holds while `PostgresServerStore.transaction(readOnly:_:)` rolls back at the
/// first error.
///
/// Behind a pooler in transaction mode the store sends them unnamed instead
/// (``StoreConnection``).
///
/// ```swift
/// enum LastSeen: PreparedQuery {
///     static let sql = "SELECT last_seen_at FROM learner WHERE id = $1"
/// }
/// let seen = try await connection.row(LastSeen.self, learner.rawValue, as: Int64?.self, logger: logger)
/// ```
protocol PreparedQuery: SendableMetatype {
    /// The SQL, with parameters `$1`, `$2`, … in the order they are bound.
    static var sql: String { get }
}

/// Runs a ``PreparedQuery`` through postgres-nio's prepared statements, which prepare it on a
/// connection the first time it runs there.
struct Prepared<Query: PreparedQuery>: PostgresPreparedStatement {
    typealias Row = PostgresRow
    /// Named by a hash of the SQL (64-bit FNV-1a): two queries share a name only when they are
    /// the same query. PostgreSQL compares at most 63 bytes of a name, so a type's full name
    /// (module and enclosing types first) could make two queries one.
    static var name: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sql.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return "learnsync_" + String(hash, radix: 16)
    }
    static var sql: String { Query.sql }
    let bindings: PostgresBindings

    func makeBindings() -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
}
