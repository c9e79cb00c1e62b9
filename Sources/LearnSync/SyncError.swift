public import LearnSyncProtocol

/// The error the client raises from sync and account calls.
public struct SyncError: Error, Sendable, CustomStringConvertible {
    /// What went wrong. New codes may be added without breaking users.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case noServer, unreachable, rateLimited, unauthorized, refused, badAnswer, notSynced, guestNotClaimed, guestAttachedElsewhere, learnerErased
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// No server is configured for this device.
        public static let noServer = Code(.noServer)
        /// No answer after every retry (offline, timeouts, server errors).
        public static let unreachable = Code(.unreachable)
        /// The server asked to wait (429) longer than the retry policy waits, or still did after
        /// every retry; ``SyncError/retryAfter`` says how long.
        public static let rateLimited = Code(.rateLimited)
        /// The server refused the credentials or token (sign in again).
        public static let unauthorized = Code(.unauthorized)
        /// The server refused the request; see ``SyncError/problem``.
        public static let refused = Code(.refused)
        /// The server's answer could not be understood.
        public static let badAnswer = Code(.badAnswer)
        /// Events are still waiting to be synced (for example before signing out).
        public static let notSynced = Code(.notSynced)
        /// The guest's progress is on the server but in no account: signing out would leave it
        /// where no one can reclaim it. Sign up or in first, or sign out with `force`.
        public static let guestNotClaimed = Code(.guestNotClaimed)
        /// This device's guest was attached to an account by a sign-in whose answer was lost:
        /// sign in to that account, or sign out with `force` to start over as a new guest.
        public static let guestAttachedElsewhere = Code(.guestAttachedElsewhere)
        /// The learner's account (or guest) was erased, from this device or another: the device
        /// removed the learner's data and now records as a new guest (see
        /// ``LearnSyncClient/notice()``).
        public static let learnerErased = Code(.learnerErased)

        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String
    /// The server's problem answer, when there was one.
    public var problem: Problem?
    /// The underlying error (transport or storage), if any.
    public var cause: (any Error & Sendable)?
    /// How long the server asked to wait before trying again (`Retry-After`), if it said.
    public var retryAfter: Duration?

    public init(
        _ code: Code, _ message: String, problem: Problem? = nil, cause: (any Error & Sendable)? = nil, retryAfter: Duration? = nil
    ) {
        self.code = code
        self.message = message
        self.problem = problem
        self.cause = cause
        self.retryAfter = retryAfter
    }

    public var description: String { message }
}
