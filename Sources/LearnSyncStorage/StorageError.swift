/// The error the device store raises. The SQLite error, if any, is kept as `cause`; messages
/// never contain SQL arguments or learner data.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    /// What went wrong. New codes may be added without breaking users.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidEvent, database, diskFull, notFound, signedOut, busy
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The event was refused (unknown course item, out-of-range value); nothing was written.
        public static let invalidEvent = Code(.invalidEvent)
        /// SQLite failed (disk full, corrupt file, ...); see `cause`.
        public static let database = Code(.database)
        /// The device's disk is full: the call stored nothing it did not finish, and the store works
        /// again once space is freed.
        public static let diskFull = Code(.diskFull)
        /// Something the call names is not in the store.
        public static let notFound = Code(.notFound)
        /// The store has no learner: it was erased or signed out and not set up again.
        public static let signedOut = Code(.signedOut)
        /// Another connection holds the database file: the operation could not finish.
        public static let busy = Code(.busy)

        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String
    /// The underlying error (a `ModelError` or GRDB's `DatabaseError`), if any.
    public var cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { "\(code): \(message)" }
}
