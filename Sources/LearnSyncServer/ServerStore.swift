public import LearnSyncModels
public import LearnSyncProtocol

/// A bearer token's record: only the token's SHA-256 hash is stored.
public struct SessionRecord: Hashable, Sendable {
    /// The learner the token acts for.
    public var learner: LearnerID
    /// When it stops working, in milliseconds since 1970.
    public var expiresAt: Int64

    public init(learner: LearnerID, expiresAt: Int64) {
        self.learner = learner
        self.expiresAt = expiresAt
    }
}

/// What one sync stores and answers, computed in one transaction.
public struct FeedPage: Sendable {
    /// The requesting replica should take a new id (see ``SyncResponse/renewReplica``).
    public var renewReplica: Bool
    /// Pushed events stored at an earlier time than they carried.
    public var retimed: [Retimed]
    /// Events refused by the store (foreign learner, replica conflict).
    public var rejected: [Rejection]
    public var events: [ProgressEvent]
    public var aliases: [Alias]
    public var cursor: Int64
    public var more: Bool
}

/// What attaching a guest to an account came to.
public enum AttachOutcome: Hashable, Sendable {
    /// Attached now, or attached to this account before (idempotent).
    case attached
    /// The guest is known with another device secret: no proof, nothing changed.
    case wrongGuestSecret
    /// The guest is attached to another account: nothing changed.
    case attachedElsewhere
    /// Sign up only: the username is taken.
    case usernameTaken
}

/// A guest to attach, with the hash of its device secret.
public struct GuestClaim: Hashable, Sendable {
    public var learner: LearnerID
    public var secretHash: String

    public init(learner: LearnerID, secretHash: String) {
        self.learner = learner
        self.secretHash = secretHash
    }
}

/// A new session to store.
public struct NewSession: Hashable, Sendable {
    public var tokenHash: String
    public var expiresAt: Int64

    public init(tokenHash: String, expiresAt: Int64) {
        self.tokenHash = tokenHash
        self.expiresAt = expiresAt
    }
}

/// What the server keeps: learners, sessions, aliases and the per-learner change feed.
///
/// The embedded SQLite implementation (``SQLiteServerStore``) is the default; another database
/// implements the same protocol.
public protocol ServerStore: Sendable {
    /// Registers a guest with the hash of its device secret, or checks the hash if the guest is
    /// known, and stores a new session for it.
    /// - Returns: `.attached` when a session was stored; `.wrongGuestSecret` or
    ///   `.attachedElsewhere` (an attached guest signs in instead) when nothing was stored.
    func registerGuest(_ claim: GuestClaim, session: NewSession) async throws -> AttachOutcome

    /// The account id and bcrypt hash of a username, if the account exists.
    func account(username: String) async throws -> (id: LearnerID, passwordHash: String)?

    /// Creates an account, attaches `guest` to it if given, and stores a session: all or nothing.
    func createAccount(_ id: LearnerID, username: String, passwordHash: String, guest: GuestClaim?, session: NewSession) async throws -> AttachOutcome

    /// Attaches `guest` (if given) to an existing account and stores a session: all or nothing.
    /// Attaching moves the guest's events into the account's feed and revokes the guest's tokens.
    func signIn(_ account: LearnerID, guest: GuestClaim?, session: NewSession) async throws -> AttachOutcome

    /// Revokes a session. Returns false if there was no live session with that hash.
    func revoke(tokenHash: String) async throws -> Bool

    /// The live session of a token hash at time `now`, or nil if unknown, expired or revoked.
    func session(tokenHash: String, now: Int64) async throws -> SessionRecord?

    /// In one transaction: finds the live session of `tokenHash` at time `now`, stores the
    /// pushed events of its learner (already checked against the catalog) and returns the page
    /// of the learner's feed after `cursor`, excluding the events `replica` has (its own up to
    /// `lastSeq`).
    ///
    /// The rules every store keeps (``SyncRules``): events whose learner is neither the caller's
    /// account nor one of its guests are refused; a replica id belongs to the learner that first
    /// pushed under it, and another learner's pushes under it are refused `replica-conflict`; an
    /// event whose id is stored with other content is refused `replica-conflict`, and so is every
    /// later one of the request; an event more than a minute ahead of `now` is stored at `now`
    /// and listed as retimed; `renewReplica` is set when the server holds a higher counter for
    /// the replica than `lastSeq`, or refused an event as a replica conflict.
    /// - Returns: nil, with nothing stored, when the token is unknown, expired or revoked.
    func sync(
        tokenHash: String, now: Int64, replica: ReplicaID, lastSeq: Int64, events: [ProgressEvent], cursor: Int64, limit: Int
    ) async throws -> FeedPage?

    /// Every event of the live session's learner (the account and its guests), for the server's
    /// own grading; nil when the token is unknown, expired or revoked.
    func learnerEvents(tokenHash: String, now: Int64) async throws -> (learner: LearnerID, events: [ProgressEvent])?
}
