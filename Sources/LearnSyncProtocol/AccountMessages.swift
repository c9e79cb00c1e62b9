package import LearnSyncModels

/// Proof that the caller owns a guest: its id and its device secret.
package struct GuestProof: Hashable, Sendable {
    package var learner: LearnerID
    package var secret: String

    package init(learner: LearnerID, secret: String) {
        self.learner = learner
        self.secret = secret
    }
}

/// `POST /v1/accounts` (sign up) and `POST /v1/sessions` (sign in): a username and a password,
/// nothing else, and optionally the device's guest to attach to the account.
///
/// Attaching is atomic and idempotent: retrying after a lost answer attaches nothing twice.
package struct CredentialsRequest: Hashable, Sendable {
    package var version: Int
    package var username: String
    package var password: String
    /// The guest whose progress joins the account.
    package var guest: GuestProof?
    /// The account the device is signed in to, when it signs in or up to another one because
    /// the server refused its token. A server that knows that account refuses (`conflict`: sign
    /// in to it, or sign out first); one that erased it answers `learner-erased`; one that knows
    /// nothing of it (restored from a backup taken before the account was made) answers
    /// ``SessionResponse/previousForgotten``, and the device moves that account's progress into
    /// the one it signs in to.
    package var previous: LearnerID?
    /// The guest's cursor and the mark of its row (``SyncRequest/cursorMark``), as the device
    /// last synced as the guest: a server whose guest feed no longer holds that row forgot some
    /// of the guest's events, and answers ``SessionResponse/guestRewound``.
    package var guestCursor: Int64?
    package var guestCursorMark: Int64?

    package init(
        username: String, password: String, guest: GuestProof?, previous: LearnerID? = nil, guestCursor: Int64? = nil,
        guestCursorMark: Int64? = nil, version: Int = ProtocolVersion.current
    ) {
        self.version = version
        self.username = username
        self.password = password
        self.guest = guest
        self.previous = previous
        self.guestCursor = guestCursor
        self.guestCursorMark = guestCursorMark
    }

    /// Checks the username's characters and the lengths.
    package func validate() throws(Problem) {
        guard ProtocolLimits.usernameLength.contains(username.utf8.count),
              username.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D })
        else {
            throw Problem(code: .invalidRequest, detail: "username must be 3 to 64 characters from a-z, 0-9, '.', '_' and '-'")
        }
        try PasswordRule.check(password, field: "password")
        if let guestCursor, guestCursor < 0 { throw Problem(code: .invalidRequest, detail: "guestCursor must not be negative") }
        if let previous, !previous.rawValue.hasPrefix("a-") {
            throw Problem(code: .invalidRequest, detail: "previous must be an account id (a-…): a guest is proven with guest")
        }
        if let guest {
            guard guest.learner.isGuest else { throw Problem(code: .invalidRequest, detail: "guest.learner must be a guest id (g-…)") }
            guard ProtocolLimits.secretLength.contains(guest.secret.unicodeScalars.count) else {
                throw Problem(code: .invalidRequest, detail: "guest.secret must be 16 to 128 characters")
            }
        }
    }
}

/// `POST /v1/signout`: revokes the caller's token, or with `everywhere` every token of the
/// caller's learner (the account and its attached guests): every device must sign in again.
package struct SignOutRequest: Hashable, Sendable {
    package var version: Int
    /// Revoke every token of the learner, not only the caller's.
    package var everywhere: Bool?

    package init(everywhere: Bool? = nil, version: Int = ProtocolVersion.current) {
        self.version = version
        self.everywhere = everywhere
    }
}

/// The answer to signing out.
package struct SignOutResponse: Codable, WireCodable, Hashable, Sendable {
    package var version: Int
    /// Whether the caller's token was live and is now revoked.
    package var revoked: Bool
    /// How many live tokens were revoked in all (the caller's included).
    package var sessions: Int?

    package init(revoked: Bool, sessions: Int? = nil, version: Int = ProtocolVersion.current) {
        self.version = version
        self.revoked = revoked
        self.sessions = sessions
    }

    private enum CodingKeys: String, CodingKey { case version = "protocol", revoked, sessions }
}
