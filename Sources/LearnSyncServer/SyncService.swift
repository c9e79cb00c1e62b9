import Foundation
import HummingbirdBcrypt
import LearnSyncMerge
package import LearnSyncModels
package import LearnSyncProtocol

/// The protocol's logic, independent of HTTP: checks requests, authenticates tokens, judges each
/// pushed event and talks to the ``ServerStore``.
package struct SyncService: Sendable {
    package let store: any ServerStore
    private let catalogs: CatalogHolder
    package let clock: any WallClock
    /// How long a token lives, in milliseconds (default 30 days).
    package let tokenLifetime: Int64
    /// Events one learner may store (default 1,000,000).
    package let eventQuota: Int64
    /// Where erasures are written outside the database (nil: nowhere, and a restore from an
    /// older backup brings erased learners back).
    package let erasureJournal: ErasureJournal?
    /// The bcrypt cost of password hashes (default 12; tests use 4, the minimum).
    package var passwordCost: UInt8 { hasher.cost }
    /// bcrypt, off the event loops and bounded.
    let hasher: PasswordHasher
    /// The throttles of password checks and sign-ups.
    let attempts: PasswordAttempts
    /// A hash to verify against when the username is unknown, so both cases take the same time.
    let decoyHash: String
    /// Counters and timers for the process's metrics backend, if one was bootstrapped.
    let metrics = ServerMetrics()
    /// Each caller's grading, kept between calls of `GET /v1/progress`.
    let grades = ProgressGrades()
    /// The store's key of alias attestations, read at first use.
    let attestation = AttestationKey()
    /// This process's open live streams.
    package let live = LiveFeeds()
    /// This process's live notices on their way to the other processes of a shared database.
    package let announcer = LiveAnnouncer()
    /// Whether this process tells its live notices to other server processes sharing the store,
    /// and whether it hears them back there with every other process's (neither: this
    /// process's streams are all there are). Looked up once, not on every push.
    let liveNotices: (tells: Bool, hears: Bool)

    /// - Parameters:
    ///   - store: where learners, sessions and events are kept.
    ///   - catalog: the courses events are checked and graded against.
    ///   - clock: wall time (tokens, last-seen times, the time sync answers carry).
    ///   - tokenLifetime: how long a token lives, in milliseconds (30 days).
    ///   - passwordCost: the bcrypt cost of new password hashes (12; 4 only for tests).
    ///   - loginAttempts: failed sign-ins per username before each further one waits (1 s,
    ///     doubling, at most 30 s); five times as many per address (at most 60 s).
    ///   - signUpsPerAddress: sign-ups one address may make in 15 minutes (and five times as many
    ///     guest registrations).
    ///   - eventsPerLearner: events one learner (an account with its guests, or a guest) may
    ///     store; a push that could pass it is refused `quota-exceeded`.
    ///   - passwordConcurrency: bcrypt runs at most this many at once (default: half the cores,
    ///     at least one), with at most `passwordQueue` more waiting; beyond, `rate-limited`.
    ///   - passwordQueue: password checks that may wait for bcrypt.
    ///   - erasureJournal: where each erasure is written before it is made, and read again at
    ///     start (``reapplyErasures()``).
    package init(
        store: any ServerStore, catalog: Catalog, clock: any WallClock = SystemWallClock(),
        tokenLifetime: Int64 = 30 * 24 * 3600 * 1000, passwordCost: UInt8 = ServerConfiguration.defaults.passwordCost, loginAttempts: Int = 5,
        signUpsPerAddress: Int = ServerConfiguration.defaults.signUpsPerAddress, eventsPerLearner: Int = ServerConfiguration.defaults.maxEventsPerLearner, passwordConcurrency: Int? = nil, passwordQueue: Int = 64, erasureJournal: ErasureJournal? = nil
    ) {
        self.erasureJournal = erasureJournal
        eventQuota = Int64(max(0, eventsPerLearner))
        self.store = store
        let backed = store as? any ServiceBackedStore
        liveNotices = (tells: backed?.tellsLiveNotices ?? false, hears: backed?.hearsLiveNotices ?? false)
        catalogs = CatalogHolder(catalog)
        self.clock = clock
        self.tokenLifetime = tokenLifetime
        hasher = PasswordHasher(
            cost: passwordCost, concurrency: passwordConcurrency ?? max(1, ProcessInfo.processInfo.activeProcessorCount / 2),
            queue: passwordQueue)
        attempts = PasswordAttempts(freeFailures: loginAttempts, signUps: signUpsPerAddress)
        decoyHash = PasswordHasher.scheme + Bcrypt.hash(PasswordHasher.prehash(IdentifierRules.randomToken()), cost: passwordCost)
    }

    /// The catalog events are checked and graded against, with its fingerprint.
    package var catalog: Catalog { catalogs.current.catalog }

    /// Serves `catalog` (at start, or a server upgraded to new course versions while running)
    /// with every course version this server served before, from its store: a version left out
    /// is still served and grades the attempts answered under it. Events refused under the old
    /// catalog are pushed again by their devices, which see the new fingerprint in their next
    /// sync answer.
    /// - Throws: ``ServerError`` naming the course and version when `catalog` holds a version
    ///   this server served before with other content (a change must be a new version: attempts
    ///   answered under the old content would be graded differently); the catalog served does
    ///   not change then.
    package func publish(_ catalog: Catalog) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let offered = try catalog.allVersions.map { StoredCourse(id: $0.id.rawValue, version: $0.version, content: try encoder.encode($0)) }
        let kept = try await store.keepCourses(offered)
        let keptContent = Dictionary(kept.map { ("\($0.id)@\($0.version)", $0.content) }, uniquingKeysWith: { first, _ in first })
        for course in offered where keptContent["\(course.id)@\(course.version)"] != course.content {
            throw ServerError(
                "course \(course.id) version \(course.version) differs from the version \(course.version) this server served before: publish a change as a new version")
        }
        let decoder = JSONDecoder()
        var served = catalog
        for course in kept where catalog.course(try CourseID(validating: course.id), version: course.version) == nil {
            served = served.merging(try Catalog([decoder.decode(Course.self, from: course.content)]))
        }
        catalogs.set(served)
    }

    /// `GET /v1/catalog`: every course version, or nil when `ifNoneMatch` names the current
    /// fingerprint (the answer is then 304 Not Modified).
    package func catalogAnswer(ifNoneMatch: String?) -> CatalogResponse? {
        let current = catalogs.current
        if let ifNoneMatch, ifNoneMatch.split(separator: ",").contains(where: { Self.etagValue($0) == current.fingerprint }) {
            return nil
        }
        return CatalogResponse(catalog: current.catalog)
    }

    /// An ETag header value without quotes and weak prefix.
    private static func etagValue(_ raw: Substring) -> String {
        var value = raw.trimmingCharacters(in: .whitespaces)[...]
        if value.hasPrefix("W/") { value = value.dropFirst(2) }
        return String(value.trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
    }

    /// `GET /v1/progress`: the caller's progress and certificates as the server grades them from
    /// the events it holds, with the same rules as the device. A call folds only the events
    /// stored since the caller's previous call (`ProgressGrades`).
    package func progress(authorization: String?) async throws -> ProgressResponse {
        let tokenHash = Credentials.hash(try Self.bearerToken(authorization))
        let now = clock.millisecondsSince1970()
        let current = catalogs.current
        let kept = grades.kept(for: tokenHash, fingerprint: current.fingerprint)
        var graded: ProgressGrades.Graded?
        if let kept {
            guard let feed = try await store.learnerEvents(tokenHash: tokenHash, now: now, after: kept.feedEnd, through: .max, limit: .max) else {
                throw try await refusal(forToken: tokenHash)
            }
            // nil for a reset, or a feed that went back: the whole feed is graded again.
            graded = ProgressGrades.advance(kept, by: feed, catalog: current.catalog)
        }
        if graded == nil {
            graded = try await ProgressGrades.grade(FeedPages(store: store, tokenHash: tokenHash, now: now), catalog: current.catalog, fingerprint: current.fingerprint)
        }
        guard let graded else { throw try await refusal(forToken: tokenHash) }
        grades.keep(graded, for: tokenHash)
        return ProgressResponse(learner: graded.learner, catalog: current.fingerprint, courses: CourseReport.reports(graded.courses, catalog: current.catalog))
    }

    /// `POST /v1/guests`: registers a guest (or re-registers it with the same secret) and
    /// returns a new token for it. An address may register five times as many guests as it may
    /// sign up accounts (a device registers its guest on its first sync).
    /// - Throws: `Problem` `rate-limited` past that, `conflict`, `guest-attached`, `learner-erased`.
    package func registerGuest(_ request: RegisterGuestRequest, address: String) async throws -> SessionResponse {
        try request.validate()
        try attempts.registerGuest(address: address, now: clock.millisecondsSince1970())
        let (token, session) = newSession()
        switch try await store.registerGuest(GuestClaim(learner: request.learner, secretHash: Credentials.hash(request.secret)), session: session) {
        case .attached:
            return SessionResponse(learner: request.learner, token: token, expiresAt: session.expiresAt)
        case .restarted:
            return SessionResponse(learner: request.learner, token: token, expiresAt: session.expiresAt, guestExpired: true)
        case .attachedElsewhere:
            throw Problem(code: .guestAttached, detail: "this guest is attached to an account: sign in to it")
        case .erased:
            throw Self.erasedGuest
        case .wrongGuestSecret, .usernameTaken, .passwordChanged:
            throw Problem(code: .conflict, detail: "this guest id is registered with another device secret")
        }
    }

    static let erasedGuest = Problem(code: .learnerErased, detail: "this guest was erased with its account; nothing of it is kept or accepted")

    /// The live session of a token hash.
    /// - Throws: `Problem` `unauthorized` when the token is unknown, expired or revoked (one
    ///   answer for all, so tokens cannot be probed), `learner-erased` when its learner was erased.
    func session(tokenHash: String) async throws -> SessionRecord {
        guard let session = try await store.session(tokenHash: tokenHash, now: clock.millisecondsSince1970()) else {
            throw try await refusal(forToken: tokenHash)
        }
        return session
    }

    /// The answer to a token that does not authenticate: `learner-erased` (410) when its learner
    /// was erased, else `unauthorized`.
    func refusal(forToken tokenHash: String) async throws -> Problem {
        guard let tombstone = try await store.tombstone(tokenHash: tokenHash) else { return Self.unknownToken }
        return Problem(
            code: .learnerErased,
            detail: "erased on \(XAPIExport.timestamp(tombstone.at)); nothing of it is kept or accepted")
    }

    /// The token of an `Authorization: Bearer <token>` header.
    static func bearerToken(_ authorization: String?) throws(Problem) -> String {
        guard let authorization, authorization.hasPrefix("Bearer "), (8...1024).contains(authorization.utf8.count) else {
            throw Problem(code: .unauthorized, detail: "send Authorization: Bearer <token>")
        }
        return String(authorization.dropFirst(7))
    }

    static let unknownToken = Problem(code: .unauthorized, detail: "the token is unknown, expired or revoked")

    /// `POST /v1/sync`: stores the acceptable pushed events and answers the next page of the
    /// caller's feed. A refused event never blocks the others. The token is checked in the same
    /// transaction that stores the events, so a token revoked meanwhile stores nothing.
    /// - Throws: `Problem` `unauthorized` (nothing stored), or a request-level problem.
    package func sync(_ request: SyncRequest, authorization: String?) async throws -> SyncResponse {
        let tokenHash = Credentials.hash(try Self.bearerToken(authorization))
        try request.validate()
        let now = clock.millisecondsSince1970()
        let current = catalogs.current
        var rejected = [Rejection]()
        var events = [ProgressEvent]()
        events.reserveCapacity(request.events.count)
        // Events the catalog refuses still go through the replica checks (`held`): one may sit
        // under an id the server holds with other content (a restored phone).
        var held = [EventID: Rejection]()
        // An id given to two different events is a collision within the request: as with one
        // stored already, that event and every later one of the replica are refused, and the
        // device takes a new replica id.
        let (contested, copies) = Self.idsGivenTwice(request.events, replica: request.replica)
        var colliding = false
        for (index, event) in request.events.enumerated() where !copies.contains(index) {
            if event.id.replica == request.replica, colliding || contested.contains(event.id) {
                colliding = true
                rejected.append(Rejection(id: event.id, code: .replicaConflict, reason: Self.givenTwiceReason))
                continue
            }
            switch judge(event, replica: request.replica, catalog: current.catalog) {
            case let rejection? where rejection.code == RejectionCode.foreignReplica.rawValue:
                rejected.append(rejection)
                continue
            case let rejection?:
                held[event.id] = rejection
            case nil:
                break
            }
            events.append(event)
        }
        // Attachments the server attested and may have forgotten (restored from an older backup).
        if !request.aliases.isEmpty {
            let key = try await attestation.get(from: store)
            let proven = request.aliases.filter { AliasProof.holds($0.proof ?? "", guest: $0.guest, account: $0.account, key: key) }
            if !proven.isEmpty { try await store.reattach(proven, tokenHash: tokenHash, now: now) }
        }
        let started = ContinuousClock.now
        guard let page = try await store.sync(
            tokenHash: tokenHash, now: now, replica: request.replica, lastSeq: request.lastSeq, events: events, held: held,
            cursor: request.cursor, cursorMark: request.cursorMark, limit: request.pageSize, quota: eventQuota)
        else { throw try await refusal(forToken: tokenHash) }
        if let end = page.storedThrough { announce(.feed(root: page.root, feedEnd: end, replica: request.replica)) }
        metrics.synced(
            accepted: events.count - page.rejected.count, refused: rejected + page.rejected, pulled: page.events.count,
            storeTime: ContinuousClock.now - started)
        return SyncResponse(
            time: clock.millisecondsSince1970(), catalog: current.fingerprint, renewReplica: page.renewReplica || colliding, retimed: page.retimed,
            rejected: rejected + page.rejected, events: page.events, aliases: try await attested(page.aliases), cursor: page.cursor, more: page.more,
            // Left out when they say nothing new: a server holding exactly the device's counters,
            // and a cursor that stayed with the mark the request named (a device keeps its own).
            lastSeq: page.replicaLastSeq == request.lastSeq ? nil : page.replicaLastSeq,
            cursorMark: page.cursor == request.cursor && page.cursorMark == request.cursorMark && !page.rewound ? nil : page.cursorMark,
            rewound: page.rewound)
    }

    /// `aliases` with the server's attestation of each (``AliasProof``).
    private func attested(_ aliases: [Alias]) async throws -> [Alias] {
        guard !aliases.isEmpty else { return [] }
        let key = try await attestation.get(from: store)
        return aliases.map { Alias(guest: $0.guest, account: $0.account, proof: AliasProof.make(guest: $0.guest, account: $0.account, key: key)) }
    }

    /// A new random token and the session record that stores only its hash.
    func newSession() -> (token: String, session: NewSession) {
        let token = Credentials.newToken(), now = clock.millisecondsSince1970()
        return (token, NewSession(tokenHash: Credentials.hash(token), createdAt: now, expiresAt: now + tokenLifetime))
    }

    /// The ids of `replica` that `events` gives to two different events (which one is the
    /// device's?), and the indexes of later copies of an event given before (one event, sent
    /// twice). Other replicas' events are refused `foreign-replica` one by one.
    static func idsGivenTwice(_ events: [ProgressEvent], replica: ReplicaID) -> (contested: Set<EventID>, copies: Set<Int>) {
        // A device sends its events in counter order: then no id can repeat, and no table is
        // built on the push's path.
        var last = Int64.min
        var ordered = true
        for event in events where event.id.replica == replica {
            guard event.id.seq > last else {
                ordered = false
                break
            }
            last = event.id.seq
        }
        if ordered { return ([], []) }
        var first = [EventID: Int](minimumCapacity: events.count)
        var contested = Set<EventID>(), copies = Set<Int>()
        for (index, event) in events.enumerated() where event.id.replica == replica {
            guard let earlier = first[event.id] else {
                first[event.id] = index
                continue
            }
            copies.insert(index)
            if events[earlier] != event { contested.insert(event.id) }
        }
        return (contested, copies)
    }

    static let givenTwiceReason = "this request gives one id of this replica to two different events: push them again under a new replica id"

    private func judge(_ event: ProgressEvent, replica: ReplicaID, catalog: Catalog) -> Rejection? {
        guard event.id.replica == replica else {
            return Rejection(id: event.id, code: .foreignReplica, reason: "a device pushes only its own replica's events")
        }
        do {
            try catalog.validate(event)
        } catch {
            let code: RejectionCode = switch error.code {
            case .unknownCourse: .unknownCourse
            case .unknownVersion: .unknownVersion
            default: .unknownItem
            }
            return Rejection(id: event.id, code: code, reason: error.message)
        }
        return nil
    }
}

/// The server's current catalog and its fingerprint, replaceable while the server runs.
final class CatalogHolder: Sendable {
    struct Current: Sendable {
        let catalog: Catalog
        let fingerprint: String
    }

    private let state: Locked<Current>

    init(_ catalog: Catalog) {
        state = Locked(Current(catalog: catalog, fingerprint: catalog.fingerprint))
    }

    var current: Current { state.withLock { $0 } }

    func set(_ catalog: Catalog) {
        let next = Current(catalog: catalog, fingerprint: catalog.fingerprint)
        state.withLock { $0 = next }
    }
}
