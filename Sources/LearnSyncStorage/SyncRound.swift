package import Foundation
public import LearnSyncModels

/// The device's link to a server.
package struct SyncState: Hashable, Sendable {
    /// The server this device syncs with, if one was set.
    package var server: URL?
    /// The bearer token for the server (a device secret; never logged).
    package var token: String?
    /// How far this device has pulled the learner's change feed.
    package var cursor: Int64
    /// The server's mark of the feed row at `cursor`.
    package var cursorMark: Int64?
    /// When the last successful sync round finished.
    package var lastSyncAt: Date?
    /// The random secret that proves this device owns its guest id (never logged).
    package var secret: String?
}

/// An event a server refused. It stays in the log and keeps counting on this device.
public struct RejectedEvent: Hashable, Sendable {
    public var event: ProgressEvent
    /// A stable reason code from the protocol (`unknown-item`, `foreign-learner`, ...).
    public var code: String
    /// A human explanation from the server.
    public var reason: String
    /// Whether the device pushes it again when the server's catalog changes; false when it was
    /// refused for good.
    public var willRetry: Bool

    public init(event: ProgressEvent, code: String, reason: String, willRetry: Bool) {
        self.event = event
        self.code = code
        self.reason = reason
        self.willRetry = willRetry
    }
}

/// One pushed event the server refused, and what the device does about it.
package struct Refusal: Hashable, Sendable {
    package var id: EventID
    package var code: String
    package var reason: String
    package var handling: RejectionHandling

    package init(id: EventID, code: String, reason: String, handling: RejectionHandling) {
        self.id = id
        self.code = code
        self.reason = reason
        self.handling = handling
    }
}

/// What one sync round trip brought back, stored in one transaction.
package struct SyncRoundResult: Sendable {
    /// The replica the request named (nil: this device's current one).
    package var replica: ReplicaID?
    /// The events that were pushed in the request, acknowledged by the answer.
    package var pushed: [ProgressEvent]
    /// The pushed events the server refused, with reasons: none is deleted.
    package var refused: [Refusal]
    /// Pushed events the server stored at an earlier time (their counter and the stored time).
    package var retimed: [(seq: Int64, hlc: HLCTimestamp)]
    /// The server asks this device to take a new replica id (restored, cloned, or the id is
    /// another learner's).
    package var renewReplica: Bool
    /// Events of the learner that this device had not seen.
    package var pulled: [ProgressEvent]
    /// Guest → account edges of the learner.
    package var aliases: [(guest: LearnerID, account: LearnerID)]
    /// The server's attestations of those edges, by guest.
    package var aliasProofs: [LearnerID: String]
    /// The new cursor.
    package var cursor: Int64
    /// The server's mark of the feed row at `cursor` (`SyncResponse.cursorMark`).
    package var cursorMark: Int64?
    /// The server forgot part of the feed (`SyncResponse.rewound`): this page starts at the
    /// feed's beginning, and every event the device holds is offered again.
    package var rewound: Bool
    /// The fingerprint of the server's catalog: when it changes, held events are pushed again.
    package var serverCatalog: String?
    /// Server time minus device time, in milliseconds, if measured.
    package var clockOffset: Int64?
    /// The highest counter the server holds for the request's replica (`SyncResponse.lastSeq`).
    package var serverLastSeq: Int64?

    package init(
        replica: ReplicaID? = nil, pushed: [ProgressEvent], refused: [Refusal] = [], retimed: [(seq: Int64, hlc: HLCTimestamp)] = [], renewReplica: Bool = false,
        pulled: [ProgressEvent], aliases: [(guest: LearnerID, account: LearnerID)], cursor: Int64, cursorMark: Int64? = nil,
        rewound: Bool = false, serverCatalog: String? = nil, clockOffset: Int64? = nil, serverLastSeq: Int64? = nil,
        aliasProofs: [LearnerID: String] = [:]
    ) {
        self.aliasProofs = aliasProofs
        self.serverLastSeq = serverLastSeq
        self.cursorMark = cursorMark
        self.rewound = rewound
        self.replica = replica
        self.pushed = pushed
        self.refused = refused
        self.retimed = retimed
        self.renewReplica = renewReplica
        self.pulled = pulled
        self.aliases = aliases
        self.cursor = cursor
        self.serverCatalog = serverCatalog
        self.clockOffset = clockOffset
    }
}

/// Outbox events of one replica to push in one request.
package struct OutboxBatch: Sendable {
    /// The replica the request names.
    package var replica: ReplicaID
    /// The highest counter this device gave under `replica` (the request's `lastSeq`); 0 for a
    /// replica it gave up.
    package var lastSeq: Int64
    package var events: [ProgressEvent]
    /// The stored cursor, read with the batch.
    package var cursor: Int64
    /// The server's mark of the row at `cursor`, read with the batch.
    package var cursorMark: Int64?
    /// The fingerprint of the server catalog the device fetched last, read with the batch.
    package var fetchedCatalog: String?
    /// The server's attestations of the attachments of the guests whose events `events` holds.
    package var attestations: [(guest: LearnerID, account: LearnerID, proof: String)] = []
}

/// What a server said about an event of the log (`event.verdict`). Whether it still waits to be
/// pushed is the `outbox` table's to say.
enum Verdict: Int {
    case none = 0, held = 2, refused = 3
}
