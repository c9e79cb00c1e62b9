public import LearnSyncModels

/// Proof that the caller owns a guest: its id and its device secret.
public struct GuestProof: Codable, Hashable, Sendable {
    public var learner: LearnerID
    public var secret: String

    public init(learner: LearnerID, secret: String) {
        self.learner = learner
        self.secret = secret
    }
}

/// `POST /v1/accounts` (sign up) and `POST /v1/sessions` (sign in): a username and a password,
/// nothing else, and optionally the device's guest to attach to the account.
///
/// Attaching is atomic and idempotent: retrying after a lost answer attaches nothing twice.
public struct CredentialsRequest: Codable, Hashable, Sendable {
    public var version: Int
    public var username: String
    public var password: String
    /// The guest whose progress joins the account.
    public var guest: GuestProof?

    public init(username: String, password: String, guest: GuestProof?, version: Int = ProtocolVersion.current) {
        self.version = version
        self.username = username
        self.password = password
        self.guest = guest
    }

    private enum CodingKeys: String, CodingKey { case version = "protocol", username, password, guest }

    /// Checks the username's characters and the lengths.
    public func validate() throws(Problem) {
        guard ProtocolLimits.usernameLength.contains(username.utf8.count),
              username.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D })
        else {
            throw Problem(code: .invalidRequest, detail: "username must be 3 to 64 characters from a-z, 0-9, '.', '_' and '-'")
        }
        guard ProtocolLimits.passwordLength.contains(password.count) else {
            throw Problem(code: .invalidRequest, detail: "password must be 8 to 128 characters")
        }
        if let guest {
            guard guest.learner.isGuest else { throw Problem(code: .invalidRequest, detail: "guest.learner must be a guest id (g-…)") }
            guard ProtocolLimits.secretLength.contains(guest.secret.count) else {
                throw Problem(code: .invalidRequest, detail: "guest.secret must be 16 to 128 characters")
            }
        }
    }
}

/// `POST /v1/signout`: revokes the caller's token.
public struct SignOutRequest: Codable, Hashable, Sendable {
    public var version: Int

    public init(version: Int = ProtocolVersion.current) { self.version = version }

    private enum CodingKeys: String, CodingKey { case version = "protocol" }
}

/// The answer to signing out.
public struct SignOutResponse: Codable, Hashable, Sendable {
    public var version: Int
    public var revoked: Bool

    public init(revoked: Bool, version: Int = ProtocolVersion.current) {
        self.version = version
        self.revoked = revoked
    }

    private enum CodingKeys: String, CodingKey { case version = "protocol", revoked }
}
