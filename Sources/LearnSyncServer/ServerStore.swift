package import Foundation
package import LearnSyncModels
package import LearnSyncProtocol
package import ServiceLifecycle

/// A bearer token's record: only the token's SHA-256 hash is stored.
package struct SessionRecord: Hashable, Sendable {
    /// The learner the token acts for.
    package var learner: LearnerID
    /// When it stops working, in milliseconds since 1970.
    package var expiresAt: Int64

    package init(learner: LearnerID, expiresAt: Int64) {
        self.learner = learner
        self.expiresAt = expiresAt
    }
}

/// What one sync stores and answers, computed in one transaction.
package struct FeedPage: Sendable {
    /// The requesting replica should take a new id (see `SyncResponse.renewReplica`).
    package var renewReplica: Bool
    /// Pushed events stored at an earlier time than they carried.
    package var retimed: [Retimed]
    /// Events refused by the store (foreign learner, replica conflict).
    package var rejected: [Rejection]
    package var events: [ProgressEvent]
    package var aliases: [Alias]
    package var cursor: Int64
    package var more: Bool
    /// The highest counter stored for the requesting replica, this request's events included.
    package var replicaLastSeq: Int64
    /// The mark of the row at `cursor` (see `SyncResponse.cursorMark`).
    package var cursorMark: Int64?
    /// The request's cursor named a row the feed no longer holds: the page starts at the feed's
    /// beginning (see `SyncResponse.rewound`).
    package var rewound: Bool
    /// The feed's root (the account, for an attached guest's token).
    package var root: LearnerID
    /// The feed position of the last event this request stored, if it stored any: the feed's
    /// new end, which live streams of the root are told.
    package var storedThrough: Int64?
}

/// A learner's events after a feed position, and where its feed ends.
package struct LearnerFeed: Sendable {
    /// The feed's root: the account, for an attached guest.
    package var learner: LearnerID
    /// The events after the position asked for, in feed order.
    package var events: [ProgressEvent]
    /// The position of the last of `events` (the position asked for when there is none): where
    /// the next page starts.
    package var last: Int64
    /// The feed's last position (0 when empty), attached guests' events included.
    package var feedEnd: Int64

    package init(learner: LearnerID, events: [ProgressEvent], last: Int64, feedEnd: Int64) {
        self.learner = learner
        self.events = events
        self.last = last
        self.feedEnd = feedEnd
    }
}

/// What attaching a guest to an account came to.
package enum AttachOutcome: Hashable, Sendable {
    /// Attached now, or attached to this account before (idempotent).
    case attached
    /// The guest is known with another device secret: no proof, nothing changed.
    case wrongGuestSecret
    /// The guest is attached to another account: nothing changed.
    case attachedElsewhere
    /// Sign up only: the username is taken.
    case usernameTaken
    /// Attached or registered now, but the guest had been deleted after its retention period:
    /// the server holds none of its events, and the device pushes them again.
    case restarted
    /// The guest was erased with its account: nothing changed.
    case erased
    /// Sign in only: the account's password changed (or the account was erased) after the
    /// password was checked: nothing changed.
    case passwordChanged
}

/// What is left of a learner the server deleted: its random id, why and when.
package struct Tombstone: Hashable, Sendable {
    package enum Reason: String, Hashable, Sendable {
        /// The learner erased their account (or guest): nothing of it may come back.
        case erased
        /// An unattached guest went unsynced for longer than the retention period.
        case expired
    }

    package var learner: LearnerID
    package var reason: Reason
    /// When, in milliseconds since 1970.
    package var at: Int64

    package init(learner: LearnerID, reason: Reason, at: Int64) {
        self.learner = learner
        self.reason = reason
        self.at = at
    }
}

/// A learner's sign-in record: the account's username and password hash, nil for a guest.
package struct LearnerCredentials: Hashable, Sendable {
    package var username: String?
    package var passwordHash: String?

    package init(username: String?, passwordHash: String?) {
        self.username = username
        self.passwordHash = passwordHash
    }
}

/// What an erasure removed.
package struct ErasureReceipt: Hashable, Sendable {
    package var guests: Int
    package var events: Int
    /// The guests erased with the account.
    package var guestIDs: [LearnerID]

    package init(guests: Int, events: Int, guestIDs: [LearnerID] = []) {
        self.guests = guests
        self.events = events
        self.guestIDs = guestIDs
    }
}

/// Everything a store holds about one learner (the account and its attached guests), for export.
package struct LearnerRecord: Sendable {
    package var learner: LearnerID
    package var username: String?
    package var createdAt: Int64
    package var guests: [(id: LearnerID, createdAt: Int64)]
    /// Expiry times of the live sessions.
    package var sessions: [Int64]
    /// The feed's last position when the record was read: an export holds the events up to it
    /// (``ServerStore/learnerEvents(tokenHash:now:after:through:limit:)``).
    package var feedEnd: Int64

    package init(
        learner: LearnerID, username: String?, createdAt: Int64, guests: [(id: LearnerID, createdAt: Int64)], sessions: [Int64], feedEnd: Int64
    ) {
        self.learner = learner
        self.username = username
        self.createdAt = createdAt
        self.guests = guests
        self.sessions = sessions
        self.feedEnd = feedEnd
    }
}

/// What one retention sweep deleted.
package struct SweepReport: Hashable, Sendable {
    /// Unattached guests idle past the retention period, deleted with their events.
    package var expiredGuests = 0
    /// Their events.
    package var events = 0
    /// Expired and revoked sessions.
    package var sessions = 0

    package init(expiredGuests: Int = 0, events: Int = 0, sessions: Int = 0) {
        self.expiredGuests = expiredGuests
        self.events = events
        self.sessions = sessions
    }
}

/// A guest to attach, with the hash of its device secret.
package struct GuestClaim: Hashable, Sendable {
    package var learner: LearnerID
    package var secretHash: String

    package init(learner: LearnerID, secretHash: String) {
        self.learner = learner
        self.secretHash = secretHash
    }
}

/// A new session to store.
package struct NewSession: Hashable, Sendable {
    package var tokenHash: String
    /// The server's time when it was made, in milliseconds since 1970: the request's time.
    package var createdAt: Int64
    package var expiresAt: Int64

    package init(tokenHash: String, createdAt: Int64, expiresAt: Int64) {
        self.tokenHash = tokenHash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// How long a store keeps the hash of a token after it expired or was revoked (400 days), so
/// that an erasure within that time still reaches the device holding it (`learner-erased`).
package let retiredTokenRetention: Int64 = 400 * 24 * 3600 * 1000

/// One course version as a server served it: its canonical JSON (sorted keys).
package struct StoredCourse: Hashable, Sendable {
    package var id: String
    package var version: Int
    package var content: Data

    package init(id: String, version: Int, content: Data) {
        self.id = id
        self.version = version
        self.content = content
    }
}

/// What the server keeps: learners, sessions, aliases and the per-learner change feed.
///
/// The embedded SQLite implementation (``SQLiteServerStore``) is the default; another database
/// implements the same protocol.
package protocol ServerStore: Sendable {
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
    /// `passwordHash` is the hash the caller checked the password against: when the account's
    /// hash is another by the time of the transaction (the password changed, or the account was
    /// erased), nothing changes and the outcome is `.passwordChanged`, so no token is ever minted
    /// from a password that is no longer the account's.
    func signIn(_ account: LearnerID, passwordHash: String, guest: GuestClaim?, session: NewSession) async throws -> AttachOutcome

    /// Revokes a session. Returns false if there was no live session with that hash.
    func revoke(tokenHash: String) async throws -> Bool

    /// The live session of a token hash at time `now`, or nil if unknown, expired or revoked.
    func session(tokenHash: String, now: Int64) async throws -> SessionRecord?

    /// In one transaction: finds the live session of `tokenHash` at time `now`, stores the
    /// pushed events of its learner (already checked against the catalog) and returns the page
    /// of the learner's feed after `cursor`, excluding the events `replica` has (its own up to
    /// `lastSeq`).
    ///
    /// The rules every store keeps (`SyncRules`): events whose learner is neither the caller's
    /// account nor one of its guests are refused; a replica id belongs to the learner that first
    /// pushed under it, and another learner's pushes under it are refused `replica-conflict`; an
    /// event whose id is stored with other content is refused `replica-conflict`, and so is every
    /// later one of the request; an event more than a minute ahead of `now` is stored at `now`
    /// and listed as retimed; `renewReplica` is set when the server holds a higher counter for
    /// the replica than `lastSeq`, or refused an event as a replica conflict.
    /// A push whose new events would take the learner's feed past `quota` events is refused
    /// whole, nothing stored (`SyncRules.checkQuota`); re-sent events count for nothing.
    /// The events in `held` (the catalog refused them) are judged like the others but never
    /// stored: one whose id is stored with other content is refused `replica-conflict` (with
    /// every later event), one stored as it is is a re-send, any other gets its `held` refusal.
    /// New rows are stored with the request's `SyncRules.stamp`, and a `cursorMark` is checked
    /// against the row at `cursor` before anything is stored (`CursorCheck`): a feed that went
    /// back in time answers a page from its start, `rewound`.
    /// - Returns: nil, with nothing stored, when the token is unknown, expired or revoked.
    /// - Throws: `Problem` `quota-exceeded`, with nothing stored.
    func sync(
        tokenHash: String, now: Int64, replica: ReplicaID, lastSeq: Int64, events: [ProgressEvent], held: [EventID: Rejection],
        cursor: Int64, cursorMark: Int64?, limit: Int, quota: Int64
    ) async throws -> FeedPage?

    /// A page of the live session's learner's feed (the account and its guests): the events
    /// after feed position `cursor` and up to `end`, in feed order, `limit` at most, with the
    /// feed's last position, read in one snapshot. For the server's own grading and exports,
    /// which read a feed page by page. Nil when the token is unknown, expired or revoked.
    func learnerEvents(tokenHash: String, now: Int64, after cursor: Int64, through end: Int64, limit: Int) async throws -> LearnerFeed?

    // MARK: The data lifecycle (docs/PRIVACY.md)

    /// The username and password hash of a learner; nil when the learner is unknown.
    func credentials(of learner: LearnerID) async throws -> LearnerCredentials?

    /// Why a token that no longer authenticates stopped working, if its learner was erased.
    func tombstone(tokenHash: String) async throws -> Tombstone?

    /// What is left of `learner` if it was erased or expired; nil for a learner the store holds
    /// or never heard of.
    func tombstone(learner: LearnerID) async throws -> Tombstone?

    /// The key of the server's alias attestations: 32 random bytes the store made once and keeps
    /// (a backup holds the same key, so an attestation outlives a restore).
    func attestationKey() async throws -> Data

    /// Makes again the attachments a server attested (their proofs checked by the caller) and no
    /// longer holds, for the live session of `tokenHash`, in one transaction: each `guest` →
    /// `account` where `account` is the session's root, or an account the store does not know
    /// (forgotten by a restore; its devices moved its progress into the root). A guest attached
    /// already, or erased, is left alone; a guest the store does not know is made again, without
    /// a device secret (the first its device proves is kept).
    func reattach(_ aliases: [Alias], tokenHash: String, now: Int64) async throws

    /// The mark of the row at `position` of `learner`'s own feed (0 for a row from before marks),
    /// nil when there is none: a guest's feed as its device last synced it (`CursorCheck`).
    func mark(at position: Int64, inFeedOf learner: LearnerID) async throws -> Int64?

    /// Erases `learner` (an account, or an unattached guest) in one transaction: the learner, its
    /// attached guests, their events, aliases, replica records and sessions. What remains is a
    /// tombstone per learner id (`erased`, with the time) and the hashes of their tokens, so
    /// that their devices are told `learner-erased`; nothing else. Events pushed later under
    /// those ids are refused and resurrect nothing.
    /// - Returns: nil, with nothing changed, when the learner is unknown (erased already) or is
    ///   no longer the root of its data: a guest attached to an account since the caller checked
    ///   its token (the account is not the guest's to erase).
    func erase(_ learner: LearnerID, now: Int64) async throws -> ErasureReceipt?

    /// Applies again an erasure made at `at` (from the ``ErasureJournal``, after a restore from a
    /// backup taken before it): erases `learner` if the store holds it as the root of its data,
    /// else leaves an `erased` tombstone for its id (a learner the store does not know, or that
    /// expired) so that its devices are told and nothing comes back under it. A guest still
    /// attached to an account is left to that account's own entry.
    /// - Returns: whether anything changed.
    func reapplyErasure(of learner: LearnerID, at: Int64) async throws -> Bool

    /// Everything held about the live session's learner but its events, and where its feed ends;
    /// nil when the token is unknown, expired or revoked.
    func record(tokenHash: String, now: Int64) async throws -> LearnerRecord?

    /// Replaces an account's password hash `oldHash` (the one the caller checked) with
    /// `passwordHash`, revokes every session of the account and its guests and stores `session`:
    /// all or nothing.
    /// - Returns: false, with nothing changed, when the account's hash is no longer `oldHash`
    ///   (another change came first, or the account was erased).
    func setPassword(_ account: LearnerID, from oldHash: String, to passwordHash: String, session: NewSession) async throws -> Bool

    /// Revokes every live session of the learner of the live session `tokenHash` (at `now`) and
    /// of its attached guests, the token checked in the same transaction; returns how many.
    /// - Returns: nil, with nothing changed, when the token is unknown, expired or revoked, or its
    ///   learner is a guest attached to an account meanwhile (the account's sessions are not a
    ///   guest's to end).
    func revokeAll(tokenHash: String, now: Int64) async throws -> Int?

    /// Keeps every course version in `courses` that the store does not hold yet, and returns
    /// every version it holds, each with the content it was first kept with: the versions this
    /// server ever served, so that attempts graded under a version it stopped serving stay
    /// graded, and a version served again with other content is caught.
    func keepCourses(_ courses: [StoredCourse]) async throws -> [StoredCourse]

    /// Deletes, in transactions of at most `batch` guests, every unattached guest that neither
    /// registered nor synced since `idleSince` (with its events, replica records and sessions;
    /// a tombstone `expired` remains so that its device is told), and every expired or revoked
    /// session. The hash of a session's token is kept, with its learner, for
    /// `retiredTokenRetention` after it ended: an erasure in that time copies it to the
    /// tombstones, so that the device holding it is told even though its token ended before.
    func sweep(idleSince: Int64, now: Int64, batch: Int) async throws -> SweepReport
}

/// A store that runs beside the HTTP server: a connection pool to run in the server's service
/// group, and migrations to run before the server takes its first request.
/// ``buildApplication(configuration:service:logger:onServerRunning:onMetricsRunning:)`` does both.
package protocol ServiceBackedStore: ServerStore, Service {
    /// Makes the store ready (runs pending migrations); called while the service runs.
    func prepare() async throws

    /// Calls `handler` for every ``LiveNotice`` any server process sharing the database (this
    /// one included) gives, once it commits; runs until cancelled or the server shuts down. A
    /// store whose requests all go through this process returns at once.
    func followLiveNotices(_ handler: @escaping @Sendable (LiveNotice) -> Void) async

    /// Gives `notices` to every server process sharing the database (``followLiveNotices(_:)``),
    /// in one statement of their own: never inside a push's transaction (PostgreSQL serializes
    /// the commits of every transaction that notified).
    func tell(_ notices: [LiveNotice]) async throws

    /// Whether ``tell(_:)`` reaches the other server processes sharing the database.
    var tellsLiveNotices: Bool { get }

    /// Whether ``followLiveNotices(_:)`` hears every process's notices, this one's included
    /// (which its streams then hear of there).
    var hearsLiveNotices: Bool { get }
}

extension ServiceBackedStore {
    package func followLiveNotices(_ handler: @escaping @Sendable (LiveNotice) -> Void) async {}
    package func tell(_ notices: [LiveNotice]) async throws {}
    package var tellsLiveNotices: Bool { false }
    package var hearsLiveNotices: Bool { false }
}

/// What a server process tells the live streams of every process sharing its database.
package enum LiveNotice: Sendable, Hashable {
    /// A push of `replica` grew `root`'s feed to `feedEnd`.
    case feed(root: LearnerID, feedEnd: Int64, replica: ReplicaID)
    /// Tokens of a learner (and of the guests attached to it) may have been revoked, or the
    /// learner erased.
    case recheckLearner(LearnerID)
    /// The token of this hash was revoked.
    case recheckToken(String)

    /// The notice as a notification's payload (identifiers and token hashes hold no spaces).
    package var payload: String {
        switch self {
        case .feed(let root, let end, let replica): "feed \(root.rawValue) \(end) \(replica.rawValue)"
        case .recheckLearner(let learner): "learner \(learner.rawValue)"
        case .recheckToken(let hash): "token \(hash)"
        }
    }

    /// Reads a payload; nil for anything else.
    package init?(payload: String) {
        let parts = payload.split(separator: " ").map(String.init)
        switch (parts.first, parts.count) {
        case ("feed", 4):
            guard let root = LearnerID(rawValue: parts[1]), let end = Int64(parts[2]), let replica = ReplicaID(rawValue: parts[3]) else { return nil }
            self = .feed(root: root, feedEnd: end, replica: replica)
        case ("learner", 2):
            guard let learner = LearnerID(rawValue: parts[1]) else { return nil }
            self = .recheckLearner(learner)
        case ("token", 2) where (1...128).contains(parts[1].utf8.count):
            self = .recheckToken(parts[1])
        default:
            return nil
        }
    }
}

/// Thrown inside a store's transaction to roll it back and report an ``AttachOutcome``.
package struct AttachRefusal: Error {
    package var outcome: AttachOutcome

    package init(_ outcome: AttachOutcome) {
        self.outcome = outcome
    }

    /// Runs `body`, a transaction that throws a refusal to roll back, and returns its outcome.
    package static func catching(_ body: () async throws -> AttachOutcome) async throws -> AttachOutcome {
        do {
            return try await body()
        } catch let refusal as AttachRefusal {
            return refusal.outcome
        }
    }
}

/// Compares two hashes without leaking, through timing, where they first differ.
package func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
}
