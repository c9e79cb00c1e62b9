public import LearnSyncModels

/// `POST /v1/sync`: push the device's unacknowledged events and pull what it has not seen.
public struct SyncRequest: Codable, Hashable, Sendable {
    /// The protocol version (1).
    public var version: Int
    /// The device's replica id; every pushed event must be this replica's (and may leave out its
    /// own `replica` field).
    public var replica: ReplicaID
    /// The last cursor the device stored (0 for a first sync).
    public var cursor: Int64
    /// Events the server has not acknowledged yet, oldest first (at most 500).
    public var events: [ProgressEvent]
    /// Most events to pull in this page (1 to 1000; default 500).
    public var limit: Int?

    public init(replica: ReplicaID, cursor: Int64, events: [ProgressEvent], limit: Int? = nil, version: Int = ProtocolVersion.current) {
        self.version = version
        self.replica = replica
        self.cursor = cursor
        self.events = events
        self.limit = limit
    }

    private enum CodingKeys: String, CodingKey { case version = "protocol", replica, cursor, events, limit }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decode(Int.self, forKey: .version)
        replica = try c.decode(ReplicaID.self, forKey: .replica)
        cursor = try c.decode(Int64.self, forKey: .cursor)
        limit = try c.decodeIfPresent(Int.self, forKey: .limit)
        var list = try c.nestedUnkeyedContainer(forKey: .events)
        events = []
        while !list.isAtEnd {
            events.append(try ProgressEvent(from: list.superDecoder(), replica: replica))
        }
    }

    /// Pushed events leave out their `replica` when it is the request's (it always is for an
    /// event the server accepts), 39 bytes less per event.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(version, forKey: .version)
        try c.encode(replica, forKey: .replica)
        try c.encode(cursor, forKey: .cursor)
        try c.encodeIfPresent(limit, forKey: .limit)
        var list = c.nestedUnkeyedContainer(forKey: .events)
        for event in events {
            try event.encode(to: list.superEncoder(), includingReplica: event.id.replica != replica)
        }
    }

    /// Checks the request's own rules (not the events' contents, which are judged one by one).
    public func validate() throws(Problem) {
        guard events.count <= ProtocolLimits.maxEventsPerRequest else {
            throw Problem(code: .tooManyEvents, detail: "at most \(ProtocolLimits.maxEventsPerRequest) events per request, got \(events.count)")
        }
        guard cursor >= 0 else { throw Problem(code: .invalidRequest, detail: "cursor must not be negative") }
        if let limit, !(1...ProtocolLimits.maxPageSize).contains(limit) {
            throw Problem(code: .invalidRequest, detail: "limit must be 1 to \(ProtocolLimits.maxPageSize)")
        }
    }

    /// The page size this request asks for.
    public var pageSize: Int { limit ?? ProtocolLimits.defaultPageSize }
}

/// The answer to ``SyncRequest``. Every pushed event not listed in `rejected` is stored (or was
/// already): the device may drop it from its outbox.
public struct SyncResponse: Codable, Hashable, Sendable {
    public var version: Int
    /// Pushed events the server refused, each with a reason; they are never stored.
    public var rejected: [Rejection]
    /// Events of the learner (and of guests attached to it) after the request's cursor, oldest
    /// first, excluding the requesting replica's own.
    public var events: [ProgressEvent]
    /// Every guest → account edge of the learner.
    public var aliases: [Alias]
    /// The cursor to send next time.
    public var cursor: Int64
    /// Whether more events wait after `cursor`: sync again at once.
    public var more: Bool

    public init(rejected: [Rejection], events: [ProgressEvent], aliases: [Alias], cursor: Int64, more: Bool, version: Int = ProtocolVersion.current) {
        self.version = version
        self.rejected = rejected
        self.events = events
        self.aliases = aliases
        self.cursor = cursor
        self.more = more
    }

    private enum CodingKeys: String, CodingKey { case version = "protocol", rejected, events, aliases, cursor, more }
}

/// A pushed event the server refused.
public struct Rejection: Codable, Hashable, Sendable {
    public var replica: ReplicaID
    public var seq: Int64
    /// A stable code: see ``RejectionCode``.
    public var code: String
    /// A human explanation.
    public var reason: String

    public init(id: EventID, code: RejectionCode, reason: String) {
        replica = id.replica
        seq = id.seq
        self.code = code.rawValue
        self.reason = reason
    }

    /// The refused event's id.
    public var id: EventID { EventID(replica: replica, seq: seq) }
}

/// Why one pushed event was refused.
public enum RejectionCode: String, CaseIterable, Sendable {
    /// The server's catalog has no such course.
    case unknownCourse = "unknown-course"
    /// The course has no such lesson, quiz, scenario or option, or a quiz attempt is malformed.
    case unknownItem = "unknown-item"
    /// The event's time is too far ahead of the server's clock.
    case clockSkew = "clock-skew"
    /// The event's learner is not the caller nor a guest attached to it.
    case foreignLearner = "foreign-learner"
    /// The event's replica is not the requesting replica.
    case foreignReplica = "foreign-replica"
    /// The event belongs to an erased learner.
    case erasedLearner = "erased-learner"
}

/// A guest → account edge.
public struct Alias: Codable, Hashable, Sendable {
    public var guest: LearnerID
    public var account: LearnerID

    public init(guest: LearnerID, account: LearnerID) {
        self.guest = guest
        self.account = account
    }
}
