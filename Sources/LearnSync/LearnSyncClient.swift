public import Foundation
public import LearnSyncMerge
public import LearnSyncModels
public import LearnSyncStorage
import Synchronization

/// The facade app developers use: record what the learner does, read and observe progress, and
/// sync with a server. Everything is saved on the device first; `sync()` can run whenever the
/// device is online.
///
/// ```swift
/// let catalog = try Catalog.load(from: coursesURL)
/// let client = try await LearnSyncClient(
///     path: documents.appendingPathComponent("learnsync.sqlite").path,
///     catalog: catalog,
///     server: URL(string: "https://learn.example.com")!)
/// try await client.record(.lessonCompleted(lesson: "keep-secure"), in: "customer-privacy")
/// let progress = try await client.progress(in: "customer-privacy")
/// let report = try await client.sync()
/// ```
public final class LearnSyncClient: Sendable {
    /// The device store (event log, outbox, progress); the facade is the way in.
    package let store: DeviceStore
    let transport: (any SyncTransport)?
    let sleep: @Sendable (Duration) async throws -> Void
    let retry: RetryPolicy
    /// Set once the server answered a compressed request `415 unsupported-encoding`: later
    /// requests go as they are instead of being sent twice.
    let serverRefusesGzip = Atomic<Bool>(false)
    /// Live sync, while it runs (``startSync(_:)``), and its status.
    let liveRun = Mutex<LiveRun?>(nil)
    let liveStatus = LiveStatusHub()

    /// Creates a client on an open store (`DeviceStore.init(path:catalog:clock:secrets:)` with
    /// a Keychain-backed `SecretStore`, or `DeviceStore.inMemory(catalog:clock:)` for previews)
    /// and a transport of your own. Without a transport the client works offline only.
    public init(
        store: DeviceStore, transport: (any SyncTransport)?, retry: RetryPolicy = RetryPolicy(),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.store = store
        self.transport = transport
        self.retry = retry
        self.sleep = sleep
    }

    /// Opens the store file at `path` (created 0600) and syncs with `server` over HTTP (if given).
    /// A token belongs to the server that issued it: changing `server` drops it.
    /// - Parameters:
    ///   - path: the SQLite file; its folder must exist.
    ///   - catalog: the app's bundled courses.
    ///   - server: the sync server, or nil to work offline only.
    ///   - allowInsecureHTTP: allow plain `http://` to a host other than this machine.
    ///   - secrets: where the token and the guest's secret are kept (default: a `0600` file
    ///     beside the store; on Apple platforms pass `KeychainSecretStore`).
    ///   - retry: how failed sync rounds are retried, and the deadline of a whole call.
    ///   - timeout: how long one request to the server may take in all
    ///     (``URLSessionTransport/timeout``).
    /// - Throws: `StorageError`, or ``SyncError`` `refused` for plain `http://` to another host.
    public convenience init(
        path: String, catalog: Catalog, server: URL?, allowInsecureHTTP: Bool = false, secrets: (any SecretStore)? = nil,
        retry: RetryPolicy = RetryPolicy(), timeout: TimeInterval = 30
    ) async throws {
        if let server { try URLSessionTransport.checkSecure(server, allowInsecureHTTP: allowInsecureHTTP) }
        let store = try DeviceStore(path: path, catalog: catalog, secrets: secrets)
        if let server { try await store.setServer(server) }
        self.init(store: store, transport: server.map { URLSessionTransport(baseURL: $0, timeout: timeout) }, retry: retry)
    }

    /// The course catalog: the app's bundled courses, every version it bundled before, and
    /// every version the server served (the server's copy where both hold a version).
    public var catalog: Catalog { store.catalog }

    /// Course versions the server serves with other content than the app bundled under the
    /// same version number (an answer key or a certificate rule corrected without a new
    /// version). The server's copy grades on this device too, so every device and the server
    /// agree; an app should report these to its course authors. Empty in the normal case.
    public var catalogConflicts: [CatalogConflict] { store.catalogConflicts() }

    /// Who this device is and which learner it records for.
    public func identity() async throws -> DeviceIdentity { try await store.identity() }

    /// Records one event for the current learner: the event, its place in the outbox and its
    /// effect on progress commit in one transaction, at once (offline is fine).
    ///
    /// ```swift
    /// try await client.record(.quizAttempt(quiz: "privacy-quiz", answers: answers, version: 1), in: "customer-privacy")
    /// ```
    /// - Returns: the event as stored, with its id and hybrid logical time.
    /// - Throws: `StorageError` `invalidEvent` (unknown course or item, value out of range;
    ///   nothing is written) or `database`.
    @discardableResult
    public func record(_ payload: EventPayload, in course: CourseID) async throws -> ProgressEvent {
        let event = try await store.record(payload, in: course)
        liveRecorded()
        return event
    }

    /// Records one event, blocking the calling thread until it is committed: for callers on
    /// their own thread or queue (it saves two thread hops, but waits while a sync writes a
    /// page). In async code Swift picks the async form.
    /// - Throws: `StorageError`, as the async form.
    @discardableResult
    public func record(_ payload: EventPayload, in course: CourseID) throws -> ProgressEvent {
        let event = try store.record(payload, in: course)
        liveRecorded()
        return event
    }

    /// Records several events in one transaction, in order; one bad entry records nothing.
    /// - Throws: `StorageError`, as `record(_:in:)`.
    @discardableResult
    public func record(_ entries: [RecordEntry]) async throws -> [ProgressEvent] {
        let events = try await store.record(entries)
        liveRecorded()
        return events
    }

    /// Records several events in one transaction, blocking the calling thread.
    /// - Throws: `StorageError`, as `record(_:in:)`.
    @discardableResult
    public func record(_ entries: [RecordEntry]) throws -> [ProgressEvent] {
        let events = try store.record(entries)
        liveRecorded()
        return events
    }

    /// Every event of the current learner (and the guests it includes) in a course, in merge
    /// order (`EventKey`).
    public func events(in course: CourseID) async throws -> [ProgressEvent] {
        try await store.events(in: course)
    }

    /// The current learner's merged progress in a course.
    public func progress(in course: CourseID) async throws -> CourseProgress {
        try await store.progress(in: course)
    }

    /// The current learner's merged progress in every course of the catalog, in catalog order.
    public func allProgress() async throws -> [CourseProgress] {
        try await store.allProgress()
    }

    /// Yields the current learner's progress in a course now and after every change.
    public func observeProgress(in course: CourseID) -> AsyncThrowingStream<CourseProgress, any Error> {
        store.observeProgress(in: course)
    }

    /// The certificate status of a course for the current learner.
    public func certificate(in courseID: CourseID) async throws -> CertificateStatus {
        guard let course = catalog[courseID] else {
            throw StorageError(.notFound, "unknown course \(courseID)")
        }
        return try await progress(in: courseID).certificate(for: course)
    }

    /// Events the server refused, with reasons.
    public func rejectedEvents() async throws -> [RejectedEvent] { try await store.rejectedEvents() }

    /// How many recorded events wait to be synced.
    public func pendingCount() async throws -> Int { try await store.pendingCount() }
}

/// How the sync loop retries when no answer comes, and how long a call may take in all.
public struct RetryPolicy: Sendable {
    /// Failed tries in a row before ``SyncError/Code/unreachable``.
    public var maxAttempts: Int
    /// The first backoff; it doubles after each failure up to `maxDelay`.
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// How long one call (a ``LearnSyncClient/sync(progress:)`` with all its rounds and retries, a
    /// sign-in, an export) may take in all (2 minutes; nil: no bound but the retries'). No retry
    /// starts past it, a backoff that would end past it is not slept, and the call fails
    /// ``SyncError/Code/unreachable``; a request under way when it passes ends by its own
    /// deadline (``URLSessionTransport/timeout``).
    public var deadline: Duration?

    public init(
        maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(200), maxDelay: Duration = .seconds(10), deadline: Duration? = .seconds(120)
    ) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.deadline = deadline
    }
}
