public import LearnSyncModels
public import LearnSyncProtocol

/// A bearer token's record: only the token's SHA-256 hash is stored.
public struct SessionRecord: Hashable, Sendable {
    /// The learner the token acts for.
    public var learner: LearnerID
    /// When it stops working, in milliseconds since 1970.
    public var expiresAt: Int64
}

/// What one sync stores and answers, computed in one transaction.
public struct FeedPage: Sendable {
    /// Events refused by the store (foreign learner, erased learner).
    public var rejected: [Rejection]
    public var events: [ProgressEvent]
    public var aliases: [Alias]
    public var cursor: Int64
    public var more: Bool
}

/// What the server keeps: learners, sessions, aliases and the per-learner change feed.
///
/// The embedded SQLite implementation (``SQLiteServerStore``) is the default; another database
/// implements the same protocol.
public protocol ServerStore: Sendable {
    /// Registers a guest with the hash of its device secret, or checks the hash if the guest is
    /// known, and stores a new session for it.
    /// - Returns: false when the guest exists with another secret (nothing is stored).
    func registerGuest(_ learner: LearnerID, secretHash: String, tokenHash: String, expiresAt: Int64) async throws -> Bool

    /// The live session of a token hash at time `now`, or nil if unknown, expired or revoked.
    func session(tokenHash: String, now: Int64) async throws -> SessionRecord?

    /// Stores pushed events of `caller` (already checked against the catalog and the clock) and
    /// returns the page of the caller's feed after `cursor`, excluding `replica`'s own events.
    /// Events whose learner is neither the caller's account nor one of its guests are refused.
    func sync(caller: LearnerID, replica: ReplicaID, events: [ProgressEvent], cursor: Int64, limit: Int) async throws -> FeedPage
}
