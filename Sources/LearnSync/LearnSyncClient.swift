public import Foundation
public import LearnSyncMerge
public import LearnSyncModels
public import LearnSyncStorage

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
    /// The device store (event log, outbox, progress).
    public let store: DeviceStore
    let transport: (any SyncTransport)?
    let sleep: @Sendable (Duration) async throws -> Void
    let retry: RetryPolicy

    /// Creates a client on an open store. Without a transport the client works offline only.
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
    /// - Parameter allowInsecureHTTP: allow plain `http://` to a host other than this machine.
    /// - Throws: ``StorageError``, or ``SyncError`` `refused` for plain `http://` to another host.
    public convenience init(path: String, catalog: Catalog, server: URL?, allowInsecureHTTP: Bool = false) async throws {
        if let server { try URLSessionTransport.checkSecure(server, allowInsecureHTTP: allowInsecureHTTP) }
        let store = try DeviceStore(path: path, catalog: catalog)
        if let server { try await store.setServer(server) }
        self.init(store: store, transport: server.map { URLSessionTransport(baseURL: $0) })
    }

    /// The course catalog.
    public var catalog: Catalog { store.catalog }

    /// Who this device is and which learner it records for.
    public func identity() async throws -> DeviceIdentity { try await store.identity() }

    /// Records one event for the current learner, saved at once (offline is fine).
    @discardableResult
    public func record(_ payload: EventPayload, in course: CourseID) async throws -> ProgressEvent {
        try await store.record(payload, in: course)
    }

    /// The current learner's merged progress in a course.
    public func progress(in course: CourseID) async throws -> CourseProgress {
        try await store.progress(in: course)
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

/// How the sync loop retries when no answer comes.
public struct RetryPolicy: Sendable {
    /// Failed tries in a row before ``SyncError/Code/unreachable``.
    public var maxAttempts: Int
    /// The first backoff; it doubles after each failure up to `maxDelay`.
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(200), maxDelay: Duration = .seconds(10)) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }
}
