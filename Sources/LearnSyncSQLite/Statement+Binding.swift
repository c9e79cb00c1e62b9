package import Foundation
package import GRDB
import GRDBSQLite
package import LearnSyncModels

/// Binding values with SQLite's C API: GRDB's `StatementArguments` boxes each value in an array
/// of existentials, which was a third of an event insert's time (docs/PERFORMANCE.md).
///
/// ```swift
/// let statement = try db.cachedStatement(sql: "INSERT INTO t (a, b) VALUES (?, ?)")
/// var binding = statement.startBinding()
/// binding.bind("a", at: 1)
/// binding.bind(Int64(2), at: 2)
/// try binding.execute()
/// ```
package struct DirectBinding {
    let statement: Statement
    private var failure: Int32 = SQLITE_OK

    fileprivate init(_ statement: Statement) {
        self.statement = statement
        // Resets the statement and marks its arguments as bound, so that `execute()` runs GRDB's
        // bookkeeping and steps with the bindings made here (`sqlite3_reset` keeps bindings).
        statement.setUncheckedArguments([])
    }

    /// Text (copied by SQLite) or NULL. The UTF-8 bytes are handed over with their length:
    /// passing a `String` as a C string copies a short one into a new array first (a tenth of
    /// the server's event insert).
    package mutating func bind(_ text: String?, at index: Int32) {
        guard let text else { return note(sqlite3_bind_null(statement.sqliteStatement, index)) }
        note(bindText(text, to: statement.sqliteStatement, at: index))
    }

    /// A blob (copied by SQLite); an empty one is an empty blob, not NULL.
    package mutating func bind(_ blob: Data, at index: Int32) {
        let sqliteStatement = statement.sqliteStatement
        note(blob.withUnsafeBytes { bytes in
            bytes.isEmpty
                ? sqlite3_bind_zeroblob(sqliteStatement, index, 0)
                : sqlite3_bind_blob(sqliteStatement, index, bytes.baseAddress, Int32(bytes.count), sqliteTransient)
        })
    }

    /// An integer or NULL.
    package mutating func bind(_ value: Int64?, at index: Int32) {
        guard let value else { return note(sqlite3_bind_null(statement.sqliteStatement, index)) }
        note(sqlite3_bind_int64(statement.sqliteStatement, index, value))
    }

    /// An event's columns (``EventColumns/names``) at `first` and the places after it.
    package mutating func bind(_ c: EventColumns, from first: Int32) {
        func at(_ column: EventColumns.Column) -> Int32 { first + column.rawValue }
        bind(c.replica, at: at(.replica))
        bind(c.seq, at: at(.seq))
        bind(c.learner, at: at(.learner))
        bind(c.hlc, at: at(.hlc))
        bind(c.course, at: at(.course))
        bind(c.type, at: at(.type))
        bind(c.item, at: at(.item))
        bind(c.answers, at: at(.answers))
        bind(c.seen, at: at(.seen))
        bind(c.choice, at: at(.choice))
        bind(c.seconds.map(Int64.init), at: at(.seconds))
        bind(c.position.map(Int64.init), at: at(.position))
        bind(c.version.map(Int64.init), at: at(.version))
    }

    /// Runs the statement with these bindings; a failed binding (misuse, or a value over
    /// SQLite's limits) throws instead.
    package func execute() throws {
        try checkBindings()
        try statement.execute()
    }

    /// Throws when a binding failed.
    func checkBindings() throws {
        guard failure == SQLITE_OK else {
            throw DatabaseError(resultCode: ResultCode(rawValue: failure), message: "a value could not be bound", sql: statement.sql)
        }
    }

    private mutating func note(_ code: Int32) {
        if failure == SQLITE_OK { failure = code }
    }
}

extension Statement {
    /// Starts binding this statement's parameters directly (see ``DirectBinding``).
    package func startBinding() -> DirectBinding { DirectBinding(self) }
}

/// Binds `text` to a parameter of a prepared statement as its UTF-8 bytes with their length,
/// copied by SQLite: passing a `String` as a C string copies a short one into a new array first.
/// Returns SQLite's result code.
package func bindText(_ text: String, to statement: OpaquePointer?, at index: Int32) -> Int32 {
    var text = text
    return text.withUTF8 { bytes in
        // An empty buffer may have no address, which SQLite would bind as NULL.
        bytes.isEmpty
            ? sqlite3_bind_text(statement, index, "", 0, sqliteTransient)
            : bytes.withMemoryRebound(to: CChar.self) { sqlite3_bind_text(statement, index, $0.baseAddress, Int32($0.count), sqliteTransient) }
    }
}

/// `SQLITE_TRANSIENT`: SQLite copies the bytes before the call returns.
private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
