/// The error the server's store and configuration raise.
public struct ServerError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var cause: (any Error & Sendable)?

    public init(_ message: String, cause: (any Error & Sendable)? = nil) {
        self.message = message
        self.cause = cause
    }

    public var description: String { message }
}

/// The store's database could not be reached (a PostgreSQL server or a pooler that is down, a
/// connection that closed under a statement): the request may not have been stored (a commit
/// whose answer the closed connection lost is stored), and the same request succeeds once it
/// is back. Answered `503 storage-failed` with `Retry-After`.
package struct StoreUnreachable: Error, Sendable {
    package init() {}
}
