package import LearnSyncModels

/// `POST /v1/sync`: push the device's unacknowledged events and pull what it has not seen.
package struct SyncRequest: Hashable, Sendable {
    /// The protocol version (1).
    package var version: Int
    /// The device's replica id; every pushed event must be this replica's (and may leave out its
    /// own `replica` field).
    package var replica: ReplicaID
    /// The highest counter the device has given an event under `replica` (0 before its first
    /// event). A server holding a higher one for this replica answers `renewReplica`: the device
    /// was restored from a backup or cloned.
    package var lastSeq: Int64
    /// The last cursor the device stored (0 for a first sync).
    package var cursor: Int64
    /// The mark of the feed row at `cursor`, as the answer that gave the cursor named it
    /// (``SyncResponse/cursorMark``). A server whose feed holds no row there, or another row
    /// (stored again after the server forgot the first), forgot part of the feed: restored from
    /// a backup, or lost its last commits. It answers ``SyncResponse/rewound`` with a page from
    /// the feed's start.
    package var cursorMark: Int64?
    /// Events the server has not acknowledged yet, oldest first (at most 2,000, and 1 MiB of JSON).
    package var events: [ProgressEvent]
    /// Most events to pull in this page (1 to 5,000; default 2,000).
    package var limit: Int?
    /// The server's attestations (``Alias/proof``) of the attachments of the guests whose events
    /// `events` holds: a server that forgot an attachment makes it again (at most 100).
    package var aliases: [Alias]

    package init(
        replica: ReplicaID, lastSeq: Int64, cursor: Int64, cursorMark: Int64? = nil, events: [ProgressEvent], limit: Int? = nil,
        aliases: [Alias] = [], version: Int = ProtocolVersion.current
    ) {
        self.aliases = aliases
        self.version = version
        self.replica = replica
        self.lastSeq = lastSeq
        self.cursor = cursor
        self.cursorMark = cursorMark
        self.events = events
        self.limit = limit
    }

    /// Checks the request's own rules (not the events' contents, which are judged one by one).
    package func validate() throws(Problem) {
        guard events.count <= ProtocolLimits.maxEventsPerRequest else {
            throw Problem(code: .tooManyEvents, detail: "at most \(ProtocolLimits.maxEventsPerRequest) events per request, got \(events.count)")
        }
        guard cursor >= 0 else { throw Problem(code: .invalidRequest, detail: "cursor must not be negative") }
        guard lastSeq >= 0 else { throw Problem(code: .invalidRequest, detail: "lastSeq must not be negative") }
        guard aliases.count <= ProtocolLimits.maxAttestations else {
            throw Problem(code: .invalidRequest, detail: "at most \(ProtocolLimits.maxAttestations) aliases per request")
        }
        for alias in aliases where alias.proof == nil || !alias.guest.isGuest || !alias.account.rawValue.hasPrefix("a-") {
            throw Problem(code: .invalidRequest, detail: "each alias names a guest, an account and the server's proof")
        }
        if let limit, !(1...ProtocolLimits.maxPageSize).contains(limit) {
            throw Problem(code: .invalidRequest, detail: "limit must be 1 to \(ProtocolLimits.maxPageSize)")
        }
    }

    /// The page size this request asks for.
    package var pageSize: Int { limit ?? ProtocolLimits.defaultPageSize }
}

/// The answer to ``SyncRequest``. Every pushed event not listed in `rejected` is stored (or was
/// already): the device may drop it from its outbox.
package struct SyncResponse: Hashable, Sendable {
    package var version: Int
    /// The server's wall time when it answered, in milliseconds since 1970: the device corrects
    /// its clock by the difference.
    package var time: Int64
    /// The fingerprint of the server's catalog (the ETag of `GET /v1/catalog`): when it changes,
    /// the device fetches the catalog and pushes again the events the old one refused.
    package var catalog: String
    /// The requesting replica should take a new replica id: the server holds events of this
    /// replica the device does not (a restored or cloned device), or the id is another learner's.
    package var renewReplica: Bool
    /// Pushed events stored with an earlier time than they carried: their time was more than a
    /// minute ahead of the server's clock. The device takes the stored time.
    package var retimed: [Retimed]
    /// Pushed events the server refused, each with a reason; they are never stored.
    package var rejected: [Rejection]
    /// Events of the learner (and of guests attached to it) after the request's cursor, oldest
    /// first, excluding the requesting replica's own.
    package var events: [ProgressEvent]
    /// Every guest → account edge of the learner.
    package var aliases: [Alias]
    /// The cursor to send next time.
    package var cursor: Int64
    /// Whether more events wait after `cursor`: sync again at once.
    package var more: Bool
    /// The highest counter the server holds for the request's replica, this request's events
    /// included (nil from a server that does not say, or when it is the request's `lastSeq`). A
    /// device that was told an event above it was stored knows the server forgot it, sends it
    /// again and pulls the feed from the start.
    package var lastSeq: Int64?
    /// The mark of the feed row at `cursor`: a number the server drew when it stored the row. The
    /// device sends it back with the cursor (``SyncRequest/cursorMark``). Nil at position 0, and
    /// when the cursor and its mark are the request's (the device keeps its own).
    package var cursorMark: Int64?
    /// The request's cursor named a position the server's feed no longer holds as the device
    /// saw it: the server forgot part of the feed. This page starts at the feed's beginning, and
    /// the device offers again every event it holds (the server stores those it lacks and
    /// ignores the rest).
    package var rewound: Bool

    package init(
        time: Int64, catalog: String, renewReplica: Bool = false, retimed: [Retimed] = [], rejected: [Rejection],
        events: [ProgressEvent], aliases: [Alias], cursor: Int64, more: Bool, lastSeq: Int64? = nil, cursorMark: Int64? = nil,
        rewound: Bool = false, version: Int = ProtocolVersion.current
    ) {
        self.lastSeq = lastSeq
        self.cursorMark = cursorMark
        self.rewound = rewound
        self.version = version
        self.time = time
        self.catalog = catalog
        self.renewReplica = renewReplica
        self.retimed = retimed
        self.rejected = rejected
        self.events = events
        self.aliases = aliases
        self.cursor = cursor
        self.more = more
    }
}

/// A pushed event the server stored with an earlier time.
package struct Retimed: Hashable, Sendable {
    /// The event's counter (of the request's replica).
    package var seq: Int64
    /// The time the server stored.
    package var hlc: HLCTimestamp

    package init(seq: Int64, hlc: HLCTimestamp) {
        self.seq = seq
        self.hlc = hlc
    }
}

/// A pushed event the server refused.
package struct Rejection: Hashable, Sendable {
    package var replica: ReplicaID
    package var seq: Int64
    /// A stable code: see ``RejectionCode``.
    package var code: String
    /// A human explanation.
    package var reason: String

    package init(id: EventID, code: RejectionCode, reason: String) {
        replica = id.replica
        seq = id.seq
        self.code = code.rawValue
        self.reason = reason
    }

    /// The refused event's id.
    package var id: EventID { EventID(replica: replica, seq: seq) }
}

/// Why one pushed event was refused.
public enum RejectionCode: String, CaseIterable, Sendable {
    /// The server's catalog has no such course (retried when the server's catalog changes).
    case unknownCourse = "unknown-course"
    /// The course has no such lesson, quiz, scenario or option, or a quiz attempt is malformed
    /// (retried when the server's catalog changes).
    case unknownItem = "unknown-item"
    /// A quiz attempt names a course version the server does not have (retried when the server's
    /// catalog changes).
    case unknownVersion = "unknown-version"
    /// The server holds another event under this id, or the replica is another learner's: the
    /// device moves the event to a new replica id and pushes it again.
    case replicaConflict = "replica-conflict"
    /// The event's learner is not the caller nor a guest attached to it.
    case foreignLearner = "foreign-learner"
    /// The event's replica is not the requesting replica.
    case foreignReplica = "foreign-replica"
    /// The event belongs to an erased learner.
    case erasedLearner = "erased-learner"

    /// What the device does with an event refused for this reason.
    package var handling: RejectionHandling {
        switch self {
        case .unknownCourse, .unknownItem, .unknownVersion: .retryWhenCatalogChanges
        case .replicaConflict: .moveToNewReplica
        case .foreignLearner, .foreignReplica: .refusedForGood
        case .erasedLearner: .removeErasedLearner
        }
    }
}

/// A guest → account edge.
package struct Alias: Hashable, Sendable {
    package var guest: LearnerID
    package var account: LearnerID
    /// The server's attestation that it attached `guest` to `account` (in sync answers): a
    /// device sends it back with events of the guest, and a server that forgot the attachment
    /// (restored from an older backup) makes it again.
    package var proof: String?

    package init(guest: LearnerID, account: LearnerID, proof: String? = nil) {
        self.guest = guest
        self.account = account
        self.proof = proof
    }
}
