package import LearnSyncModels

/// `POST /v1/guests`: a device registers its guest learner to back up its progress.
///
/// The device makes the guest id and a random secret; registering again with the same secret
/// (after a lost answer, or to get a fresh token) is safe, with another secret it is refused.
package struct RegisterGuestRequest: Hashable, Sendable {
    package var version: Int
    package var learner: LearnerID
    /// A random secret only this device knows (16 to 128 characters); the server keeps a hash.
    package var secret: String

    package init(learner: LearnerID, secret: String, version: Int = ProtocolVersion.current) {
        self.version = version
        self.learner = learner
        self.secret = secret
    }

    package func validate() throws(Problem) {
        guard learner.isGuest else { throw Problem(code: .invalidRequest, detail: "learner must be a guest id (g-…)") }
        guard ProtocolLimits.secretLength.contains(secret.unicodeScalars.count) else {
            throw Problem(code: .invalidRequest, detail: "secret must be \(ProtocolLimits.secretLength.lowerBound) to \(ProtocolLimits.secretLength.upperBound) characters")
        }
    }
}

/// A bearer token for a learner, the answer to registering, signing up or signing in.
package struct SessionResponse: Codable, WireCodable, Hashable, Sendable {
    package var version: Int
    /// The learner the token acts for.
    package var learner: LearnerID
    /// The bearer token (at least 128 random bits); the server stores only its hash.
    package var token: String
    /// When the token stops working, in milliseconds since 1970.
    package var expiresAt: Int64
    /// True when the server had deleted the device's guest after its retention period without a
    /// sync and registered it again now: the server holds none of its events, so the device
    /// pushes every event it holds again. Absent otherwise.
    package var guestExpired: Bool?
    /// True when the request named a ``CredentialsRequest/previous`` account this server knows
    /// nothing of (restored from a backup taken before it was made): the device moves that
    /// account's progress into this one and pushes every event it holds again. Absent otherwise.
    package var previousForgotten: Bool?
    /// True when the guest's feed no longer holds the row the request's
    /// ``CredentialsRequest/guestCursor`` named: the server forgot some of the guest's events
    /// (restored from a backup), and the device pushes every event it holds again. Absent
    /// otherwise.
    package var guestRewound: Bool?

    package init(
        learner: LearnerID, token: String, expiresAt: Int64, guestExpired: Bool? = nil, previousForgotten: Bool? = nil,
        guestRewound: Bool? = nil, version: Int = ProtocolVersion.current
    ) {
        self.guestRewound = guestRewound
        self.version = version
        self.learner = learner
        self.token = token
        self.expiresAt = expiresAt
        self.guestExpired = guestExpired
        self.previousForgotten = previousForgotten
    }

    private enum CodingKeys: String, CodingKey { case version = "protocol", learner, token, expiresAt, guestExpired, previousForgotten, guestRewound }
}
