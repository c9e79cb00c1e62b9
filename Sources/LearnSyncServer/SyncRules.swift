package import LearnSyncModels
package import LearnSyncProtocol

/// The per-request rules of storing pushed events, kept by every ``ServerStore``: replica
/// ownership, detection of restored and cloned devices, collisions, and clock bounds. The store
/// runs the SQL; this decides.
package struct SyncRules {
    package let root: LearnerID
    package let replica: ReplicaID
    package let lastSeq: Int64
    /// The latest time an event may be stored at: the server's clock plus one minute.
    package let horizon: HLCTimestamp
    package let now: Int64
    /// The mark this request's new rows are stored with (``SyncResponse/cursorMark``): drawn at
    /// random for each request that stores, so a row stored again after the server forgot it
    /// carries the mark a device saw once in 2³¹ times, and only when it also took the very
    /// position the device's cursor names. 31 bits keep it to 10 digits on the wire.
    package let stamp: Int64
    package private(set) var renewReplica = false
    /// The highest counter the server holds for the replica, this request's events included: a
    /// device that was told an event above it was stored knows the server forgot it (restored
    /// from a backup, lost its last commits, or let the guest expire) and sends it again.
    package private(set) var replicaLastSeq: Int64 = 0
    package private(set) var retimed: [Retimed] = []
    package private(set) var rejected: [Rejection] = []
    /// Every later event of the request is refused: the replica is another learner's, or an
    /// event collided.
    private var refuseRest = false
    /// The feed positions this request stored its new events at (consecutive: each takes the
    /// next), and whether they are all the requester's own, up to its `lastSeq`.
    private var storedRun: (first: Int64, last: Int64)?
    private var storedRunIsOwn = true

    /// A new random ``stamp``.
    package static func newStamp() -> Int64 { Int64.random(in: 1...Int64(Int32.max)) }

    private init(root: LearnerID, replica: ReplicaID, lastSeq: Int64, now: Int64, stamp: Int64) {
        self.stamp = stamp
        self.root = root
        self.replica = replica
        self.lastSeq = lastSeq
        self.now = now
        horizon = Self.horizon(now: now)
    }

    private static func horizon(now: Int64) -> HLCTimestamp {
        HLCTimestamp(physicalMilliseconds: now + ProtocolLimits.maxClockAheadMilliseconds)
    }

    /// Refuses a push that took the learner's feed past `quota` events: `feedEnd` is the feed's
    /// last position once the push's new events are given theirs (each takes the next; a re-sent
    /// event takes none, so re-sending stored events is never refused). The store rolls the push
    /// back.
    /// - Throws: `Problem` `quota-exceeded`.
    package static func checkQuota(feedEnd: Int64, quota: Int64) throws(Problem) {
        guard feedEnd > quota else { return }
        throw Problem(code: .quotaExceeded, detail: "a learner stores at most \(quota) events on this server; nothing of this push was stored")
    }

    /// The rules of a request, the replica judged already: another learner's replica id
    /// refuses every event; a stored counter beyond the device's `lastSeq` means the device was
    /// restored or cloned. `stamp` marks the rows the request stores (a store that stored them
    /// before judging, as PostgreSQL's one-statement push does, names the one it used).
    ///
    /// Another learner's counter is not the caller's to know: the answer then keeps the
    /// device's own `lastSeq` (and leaves it out).
    package init(
        root: LearnerID, replica: ReplicaID, lastSeq: Int64, now: Int64, owner: LearnerID?, storedLastSeq: Int64, stamp: Int64 = newStamp()
    ) {
        self.init(root: root, replica: replica, lastSeq: lastSeq, now: now, stamp: stamp)
        let foreign = owner.map { $0 != root } ?? false
        replicaLastSeq = foreign ? lastSeq : storedLastSeq
        check(owner: owner, storedLastSeq: storedLastSeq)
    }

    /// Whether `root` is a guest whose last-seen time (nil: never recorded) is due to move to
    /// `now` (``seenGranularity``).
    package static func guestSeenLongBefore(_ root: LearnerID, lastSeen: Int64?, now: Int64) -> Bool {
        root.isGuest && (lastSeen ?? .max) < now - seenGranularity
    }

    /// Judges the replica before any event (see the initializer).
    private mutating func check(owner: LearnerID?, storedLastSeq: Int64) {
        if let owner, owner != root {
            refuseRest = true
            renewReplica = true
        } else if storedLastSeq > lastSeq {
            renewReplica = true
        }
    }

    /// Whether to try storing `event`; a refusal is recorded. `isErased` is asked only for an
    /// event of another learner: an erased learner's events are refused `erased-learner`.
    package mutating func admit(_ event: ProgressEvent, isMember: Bool, isErased: () throws -> Bool) rethrows -> Bool {
        if refuseRest {
            rejected.append(Rejection(id: event.id, code: .replicaConflict, reason: Self.conflictReason))
            return false
        }
        guard isMember else {
            rejected.append(
                try isErased()
                    ? Rejection(id: event.id, code: .erasedLearner, reason: "the event's learner was erased")
                    : Rejection(id: event.id, code: .foreignLearner, reason: "the event's learner is not the caller"))
            return false
        }
        return true
    }

    /// The time to store `event` at: its own, or the server's when it runs more than a minute ahead.
    package func storedTime(of event: ProgressEvent) -> HLCTimestamp { Self.storedTime(of: event, now: now) }

    /// The time to store `event` at when the server's clock reads `now`.
    package static func storedTime(of event: ProgressEvent, now: Int64) -> HLCTimestamp {
        event.timestamp <= horizon(now: now) ? event.timestamp : HLCTimestamp(physicalMilliseconds: now)
    }

    /// `event` was stored new at `time`, at feed position `position` (the one after the
    /// request's previous new event).
    package mutating func stored(_ event: ProgressEvent, at time: HLCTimestamp, position: Int64) {
        if time != event.timestamp { retimed.append(Retimed(seq: event.id.seq, hlc: time)) }
        if event.id.replica == replica { replicaLastSeq = max(replicaLastSeq, event.id.seq) }
        storedRun = (storedRun?.first ?? position, position)
        if event.id.replica != replica || event.id.seq > lastSeq { storedRunIsOwn = false }
    }

    /// The feed position of the last event stored new, if any.
    package var lastStoredPosition: Int64? { storedRun?.last }

    /// Where the answer's page starts reading the feed: after `cursor`, or after the events this
    /// request stored when they come right after `cursor` and the requester holds them all (the
    /// usual push). The page would read each of them only to leave it out, and the cursor moves
    /// past them either way; reading them was a tenth of the server's time in a long push.
    package func pageStart(after cursor: Int64) -> Int64 {
        guard let run = storedRun, run.first - 1 == cursor, storedRunIsOwn, !renewReplica else { return cursor }
        return run.last
    }

    /// `event`'s id was stored already: the same event (a re-send, answered again with its stored
    /// time) or another (a collision, which refuses it and every later event of the request).
    /// It is the same when `offered`, its columns, equal the stored event's as it was sent
    /// (`sent`), or as it was stored, at `time`: a device takes the stored time from a
    /// `retimed` answer, and offers the event so when it offers its log again (`rewound`).
    package mutating func duplicate(_ event: ProgressEvent, offered: EventColumns, sent: EventColumns, storedAt time: HLCTimestamp) {
        var stored = sent
        stored.hlc = time.rawValue
        if offered == sent || offered == stored {
            if time != event.timestamp { retimed.append(Retimed(seq: event.id.seq, hlc: time)) }
            if event.id.replica == replica { replicaLastSeq = max(replicaLastSeq, event.id.seq) }
        } else {
            refuseRest = true
            renewReplica = true
            rejected.append(Rejection(id: event.id, code: .replicaConflict, reason: Self.conflictReason))
        }
    }

    /// An event the catalog refused, and stored under no id: its refusal stands.
    package mutating func held(_ rejection: Rejection) {
        rejected.append(rejection)
    }

    /// Whether the requester already holds the feed row of event `seq` of a replica: its own
    /// replica's events up to its `lastSeq`. `isReplica` tells whether the row's replica is the
    /// given id (asked last, so that a store can compare the row's bytes in place). A restored or
    /// cloned device is sent the rest.
    package func requesterHolds(seq: Int64, isReplica: (String) -> Bool) -> Bool {
        !renewReplica && seq <= lastSeq && isReplica(replica.rawValue)
    }

    /// How often a guest's last-seen time is written: at most once an hour, so a pull stays a
    /// read (guest expiry counts days).
    package static let seenGranularity: Int64 = 3_600_000

    private static let conflictReason = "another event is stored under this id or replica: push it again under a new replica id"
}

/// Builds one page of a learner's feed from its rows in position order, leaving out what the
/// requesting replica holds (the cursor still moves past them): the one paging rule of every
/// ``ServerStore``.
package struct FeedPageBuilder {
    private let rules: SyncRules
    private let limit: Int
    private let cursor: Int64
    /// The request's cursor named a row the feed no longer holds as the device saw it: the page
    /// starts at the feed's beginning.
    private let rewound: Bool
    private var events: [ProgressEvent] = []
    private var next: Int64
    /// The mark of the row at `next` (nil at position 0, or when the request sent none and no
    /// row was read).
    private var nextMark: Int64?
    /// The position to read the feed after (``SyncRules/pageStart(after:)``).
    package let readsAfter: Int64
    private var count = 0
    private var more = false

    /// A page after `cursor`, whose row the request named by `mark`; `markAtCursor` is the mark
    /// of the row the feed holds at `cursor` (nil: none), read before this request stored
    /// anything (``CursorCheck``).
    package init(rules: SyncRules, after cursor: Int64, mark: Int64?, markAtCursor: Int64?, limit: Int) {
        rewound = CursorCheck.isRewound(cursor: cursor, mark: mark, stored: markAtCursor)
        let cursor = rewound ? 0 : cursor
        self.rules = rules
        self.limit = limit
        self.cursor = cursor
        readsAfter = rules.pageStart(after: cursor)
        next = readsAfter
        // Past the request's own new rows, the cursor is at the last of them.
        nextMark = readsAfter == cursor ? (rewound ? nil : mark) : rules.stamp
    }

    /// How many rows to read: one more than the page, to tell whether more follow.
    package var rowsToRead: Int { limit + 1 }

    /// Whether reading the feed may find a row: false when the page starts at or past
    /// `feedEnd`, the feed's last position (its own and its attached guests' ranges) read in the
    /// same transaction. The usual incremental sync, from a device at the feed's end that pushed
    /// its own events, then reads nothing.
    package func mayFindRows(feedEnd: Int64) -> Bool { readsAfter < feedEnd }

    /// Adds the row at `position`, stored with `mark` (0 for a row from before marks), event
    /// `seq` of the replica `isReplica` accepts; `event` decodes it, only when the requester
    /// lacks it.
    /// - Returns: false once the page is full (stop reading).
    package mutating func add(
        position: Int64, mark: Int64, seq: Int64, isReplica: (String) -> Bool, event: () throws -> ProgressEvent
    ) rethrows -> Bool {
        guard count < limit else {
            more = true
            return false
        }
        count += 1
        next = position
        nextMark = mark
        if !rules.requesterHolds(seq: seq, isReplica: isReplica) { events.append(try event()) }
        return true
    }

    /// The page, with the aliases the device needs from it: every one when it pulls from the
    /// start (after signing in, or with a new replica id), else those of the guests whose events
    /// the page holds. A device needs an alias only to count a guest's events as the account's;
    /// sending all of them in every answer made them most of an incremental sync's bytes.
    package func page(aliases: [Alias]) -> FeedPage {
        let needed = cursor == 0 ? aliases : aliases.filter { alias in events.contains { $0.learner == alias.guest } }
        return FeedPage(
            renewReplica: rules.renewReplica, retimed: rules.retimed, rejected: rules.rejected, events: events, aliases: needed,
            cursor: next, more: more, replicaLastSeq: rules.replicaLastSeq, cursorMark: next == 0 ? nil : nextMark, rewound: rewound,
            root: rules.root, storedThrough: rules.lastStoredPosition)
    }
}

/// An attached guest's own feed as its account's feed shows it: the guest's events keep their
/// rows and positions `first...last`, and appear at `first + offset ... last + offset`, a range
/// the account's feed reserved after its last position when the guest attached. Attaching moves
/// no rows, however many events the guest has.
package struct MappedFeed: Sendable, Equatable {
    package var guest: LearnerID
    package var offset: Int64
    package var first: Int64
    package var last: Int64

    package init(guest: LearnerID, offset: Int64, first: Int64, last: Int64) {
        self.guest = guest
        self.offset = offset
        self.first = first
        self.last = last
    }

    /// The mapping that puts a guest feed holding positions `first...last` right after
    /// `accountLast`, the account feed's last position.
    package init(guest: LearnerID, first: Int64, last: Int64, after accountLast: Int64) {
        self.init(guest: guest, offset: accountLast - first + 1, first: first, last: last)
    }

    /// The last position this guest's events take in the account's feed.
    package var mappedLast: Int64 { last + offset }

    /// Where the row at `position` of `root`'s feed is stored: in an attached guest's own feed
    /// when the position falls in its range, else in the root's.
    package static func row(at position: Int64, of root: LearnerID, mapped: [MappedFeed]) -> (root: LearnerID, position: Int64) {
        for guest in mapped where (guest.first + guest.offset...guest.mappedLast).contains(position) {
            return (guest.guest, position - guest.offset)
        }
        return (root, position)
    }
}

/// The check that a device's cursor still names the feed it pulled: the row at the cursor
/// carries the mark the answer that gave the cursor named. A server restored from a backup, or
/// that lost its last commits, holds no row there, or a row stored again since (with another
/// mark): it forgot part of the feed, and the device pulls it from the start.
package enum CursorCheck {
    /// Whether the feed went back in time under a request at `cursor` with `mark`, the row there
    /// carrying `stored` (nil: none). A request without a mark (a device from before marks)
    /// is not checked.
    package static func isRewound(cursor: Int64, mark: Int64?, stored: Int64?) -> Bool {
        guard cursor > 0, let mark else { return false }
        return stored != mark
    }

    /// Whether a store must read the mark at `cursor`: the request named one.
    package static func needsMark(cursor: Int64, mark: Int64?) -> Bool { cursor > 0 && mark != nil }

    /// The position a store's head statement reads the mark at in the root's own feed: the
    /// cursor when the request named a mark, else 0 (no row is there).
    package static func markPosition(cursor: Int64, mark: Int64?) -> Int64 { needsMark(cursor: cursor, mark: mark) ? cursor : 0 }

    /// Where the mark at `cursor` is read.
    package enum Source: Equatable {
        /// The request named no mark: nothing to read.
        case none
        /// In `root`'s own feed: what the head statement read at ``markPosition(cursor:mark:)``.
        case head
        /// In an attached guest's own feed, at that position (the cursor falls in its range).
        case guest(LearnerID, position: Int64)
    }

    /// Where the mark at `cursor` of `root`'s feed is read.
    package static func source(cursor: Int64, mark: Int64?, root: LearnerID, attached: AttachedGuests) -> Source {
        guard needsMark(cursor: cursor, mark: mark) else { return .none }
        let row = MappedFeed.row(at: cursor, of: root, mapped: attached.mapped)
        return row.root == root ? .head : .guest(row.root, position: row.position)
    }
}

/// The guests attached to an account, from its `alias` rows read once per request: every one
/// (for answers' `aliases` and for membership) and where those whose rows stay in their own feed
/// show in the account's (guests attached before migration v5 / 2 had their rows moved).
package struct AttachedGuests: Sendable {
    package var aliases: [Alias] = []
    package var mapped: [MappedFeed] = []

    /// A guest has none.
    package static let none = AttachedGuests()

    package init() {}

    /// From rows `guest, offset, first, last` of `account`'s aliases, in the order to answer.
    package init(account: LearnerID, rows: [(guest: String, offset: Int64?, first: Int64?, last: Int64?)]) {
        for row in rows {
            let guest = LearnerID(unchecked: row.guest)
            aliases.append(Alias(guest: guest, account: account))
            if let offset = row.offset, let first = row.first, let last = row.last {
                mapped.append(MappedFeed(guest: guest, offset: offset, first: first, last: last))
            }
        }
    }

    /// The learners whose events belong to the account's feed: the account and its guests.
    package func members(of account: LearnerID) -> Set<LearnerID> { Set([account] + aliases.map(\.guest)) }
}

/// One range read of a stored feed: rows of `root` with positions in `after + 1 ... through`,
/// shown in the account's feed at their position plus `offset`.
package struct FeedRead: Sendable, Equatable {
    package var root: LearnerID
    package var after: Int64
    package var through: Int64
    package var offset: Int64
}

extension MappedFeed {
    /// The reads, in feed order, that make up `root`'s feed after `cursor`: the account's own
    /// rows between the reserved ranges, and each attached guest's rows in its range. Every
    /// read is one index range of one stored feed, so a page costs what it reads.
    package static func reads(of root: LearnerID, mapped: [MappedFeed], after cursor: Int64) -> [FeedRead] {
        var reads = [FeedRead]()
        var at = cursor
        for guest in mapped.sorted(by: { $0.first + $0.offset < $1.first + $1.offset }) where guest.mappedLast > at {
            let start = guest.first + guest.offset
            if at < start - 1 { reads.append(FeedRead(root: root, after: at, through: start - 1, offset: 0)) }
            reads.append(FeedRead(root: guest.guest, after: max(at, start - 1) - guest.offset, through: guest.last, offset: guest.offset))
            at = guest.mappedLast
        }
        reads.append(FeedRead(root: root, after: at, through: .max, offset: 0))
        return reads
    }

    /// The last position of an account's feed: its own last row's, or the end of the last range
    /// it reserved for a guest, whichever is later.
    package static func lastPosition(own: Int64, mapped: [MappedFeed]) -> Int64 {
        mapped.reduce(own) { max($0, $1.mappedLast) }
    }
}
