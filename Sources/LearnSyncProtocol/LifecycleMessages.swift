public import LearnSyncModels

/// `DELETE /v1/account`: erases the caller's learner from the server for good.
///
/// For an account the password is entered again (a stolen token or an unattended phone is not
/// enough); a guest's token is its proof. The server removes the account, its attached guests,
/// their events, aliases and tokens in one transaction and keeps only a tombstone of random ids
/// (see `docs/PRIVACY.md`).
package struct DeleteAccountRequest: Hashable, Sendable {
    package var version: Int
    /// The account's password; absent for a guest.
    package var password: String?

    package init(password: String?, version: Int = ProtocolVersion.current) {
        self.version = version
        self.password = password
    }

    package func validate() throws(Problem) {
        if let password { try PasswordRule.check(password, field: "password") }
    }
}

/// What an erasure removed.
public struct DeleteAccountResponse: Codable, WireCodable, Hashable, Sendable {
    public var version: Int
    /// The erased learner (an account, or an unattached guest).
    public var learner: LearnerID
    /// When, in milliseconds since 1970.
    public var erasedAt: Int64
    /// Guests that were attached to the account, erased with it.
    public var guests: Int
    /// Events removed.
    public var events: Int

    public init(learner: LearnerID, erasedAt: Int64, guests: Int, events: Int, version: Int = ProtocolVersion.current) {
        self.version = version
        self.learner = learner
        self.erasedAt = erasedAt
        self.guests = guests
        self.events = events
    }

    private enum CodingKeys: String, CodingKey { case version = "protocol", learner, erasedAt, guests, events }
}

/// `POST /v1/account/password`: changes an account's password. Every token of the account is
/// revoked (other devices sign in again with the new password); the answer carries a new token
/// for the caller.
package struct ChangePasswordRequest: Hashable, Sendable {
    package var version: Int
    /// The current password.
    package var password: String
    package var newPassword: String

    package init(password: String, newPassword: String, version: Int = ProtocolVersion.current) {
        self.version = version
        self.password = password
        self.newPassword = newPassword
    }

    package func validate() throws(Problem) {
        try PasswordRule.check(password, field: "password")
        try PasswordRule.check(newPassword, field: "newPassword")
    }
}

/// Everything held about one learner, as `GET /v1/export` answers it or as a device holds it:
/// who (ids, username, when created), every event, and the merged progress.
public struct ExportDocument: Codable, WireCodable, Hashable, Sendable {
    /// Where the data was read.
    public enum Source: String, Codable, Hashable, Sendable {
        /// The server's copy (`GET /v1/export`).
        case server
        /// What one device holds, readable offline.
        case device
    }

    /// A learner record: its id and, for an account, its username.
    public struct Learner: Codable, Hashable, Sendable {
        public var id: LearnerID
        /// The account's username; nil for a guest.
        public var username: String?
        /// When the server first stored it, in milliseconds since 1970 (nil in a device's export).
        public var createdAt: Int64?

        public init(id: LearnerID, username: String? = nil, createdAt: Int64? = nil) {
            self.id = id
            self.username = username
            self.createdAt = createdAt
        }
    }

    public var version: Int
    public var source: Source
    /// When the export was made, in milliseconds since 1970.
    public var exportedAt: Int64
    /// The learner the data belongs to: the account, or an unattached guest.
    public var learner: Learner
    /// The guests attached to the account, whose events it holds.
    public var guests: [Learner]
    /// The expiry times of the learner's live sign-in tokens (the server keeps only their
    /// hashes); empty in a device's export.
    public var sessions: [Int64]
    /// Every event, in the server's feed order or the device's log order.
    public var events: [ProgressEvent]
    /// The merged progress and certificate of each course that holds events.
    public var progress: [CourseReport]

    public init(
        source: Source, exportedAt: Int64, learner: Learner, guests: [Learner], sessions: [Int64], events: [ProgressEvent],
        progress: [CourseReport], version: Int = ProtocolVersion.current
    ) {
        self.version = version
        self.source = source
        self.exportedAt = exportedAt
        self.learner = learner
        self.guests = guests
        self.sessions = sessions
        self.events = events
        self.progress = progress
    }

    private enum CodingKeys: String, CodingKey {
        case version = "protocol", source, exportedAt, learner, guests, sessions, events, progress
    }
}
