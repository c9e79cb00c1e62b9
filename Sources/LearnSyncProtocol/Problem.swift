/// An RFC 9457 problem detail, the body of every error answer (`application/problem+json`).
public struct Problem: Codable, WireCodable, Hashable, Sendable, Error, CustomStringConvertible {
    /// A URI reference naming the problem type: `/problems/<code>`.
    public var type: String
    /// A short summary of the problem type.
    public var title: String
    /// The HTTP status code.
    public var status: Int
    /// What happened this time, for a human; never holds tokens, passwords or event data.
    public var detail: String
    /// The stable machine-readable code (the last part of `type`).
    public var code: String
    /// For `unsupported-version`: the versions the server speaks.
    public var supportedVersions: [Int]?
    /// For `rate-limited`: seconds to wait before trying again.
    public var retryAfter: Int?

    public init(code: ProblemCode, detail: String, supportedVersions: [Int]? = nil, retryAfter: Int? = nil) {
        type = "/problems/\(code.rawValue)"
        title = code.title
        status = code.status
        self.detail = detail
        self.code = code.rawValue
        self.supportedVersions = supportedVersions
        self.retryAfter = retryAfter
    }

    public var description: String { "\(code) (\(status)): \(detail)" }

    /// The problem's code as a ``ProblemCode``, if this package knows it.
    public var knownCode: ProblemCode? { ProblemCode(rawValue: code) }
}

/// The problem types of protocol v1.
public enum ProblemCode: String, CaseIterable, Sendable {
    case malformedJSON = "malformed-json"
    case invalidRequest = "invalid-request"
    case unsupportedVersion = "unsupported-version"
    case bodyTooLarge = "body-too-large"
    case tooManyEvents = "too-many-events"
    case unsupportedMediaType = "unsupported-media-type"
    case unsupportedEncoding = "unsupported-encoding"
    case unauthorized = "unauthorized"
    case forbidden = "forbidden"
    case notFound = "not-found"
    case methodNotAllowed = "method-not-allowed"
    case conflict = "conflict"
    case guestAttached = "guest-attached"
    case rateLimited = "rate-limited"
    case learnerErased = "learner-erased"
    case quotaExceeded = "quota-exceeded"
    case internalError = "internal-error"
    case storageFailed = "storage-failed"

    /// The HTTP status that carries this problem.
    public var status: Int {
        switch self {
        case .malformedJSON, .invalidRequest, .unsupportedVersion, .tooManyEvents: 400
        case .bodyTooLarge: 413
        case .unsupportedMediaType, .unsupportedEncoding: 415
        case .unauthorized: 401
        case .forbidden, .quotaExceeded: 403
        case .notFound: 404
        case .methodNotAllowed: 405
        case .conflict, .guestAttached: 409
        case .learnerErased: 410
        case .rateLimited: 429
        case .internalError: 500
        case .storageFailed: 503
        }
    }

    /// A short summary of the type.
    public var title: String {
        switch self {
        case .malformedJSON: "The body is not valid JSON of the expected shape"
        case .invalidRequest: "The request breaks a rule of the protocol"
        case .unsupportedVersion: "Unsupported protocol version"
        case .bodyTooLarge: "The request body is too large"
        case .tooManyEvents: "Too many events in one request"
        case .unsupportedMediaType: "The body must be application/json"
        case .unsupportedEncoding: "The body's Content-Encoding must be gzip, deflate or none"
        case .unauthorized: "Missing, unknown, expired or revoked token, or wrong credentials"
        case .forbidden: "The caller may not act on this learner"
        case .notFound: "No such resource"
        case .methodNotAllowed: "The resource does not take this method"
        case .conflict: "The request conflicts with the server's state"
        case .guestAttached: "This device's guest is attached to an account"
        case .learnerErased: "The learner's data was erased"
        case .quotaExceeded: "The learner stores as many events as the server allows"
        case .rateLimited: "Too many attempts; try again later"
        case .internalError: "The server failed"
        case .storageFailed: "The server's storage is full, failing or unreachable; the request may not have been stored"
        }
    }
}
