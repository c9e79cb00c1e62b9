import Foundation
import Hummingbird
import HummingbirdTesting
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncTesting
import Testing

/// The stores every conformance test runs against: SQLite always, PostgreSQL unless the run
/// was asked to skip it (`LEARNSYNC_SKIP_POSTGRES=1`, announced once), and PostgreSQL through
/// PgBouncer in transaction mode when asked (`LEARNSYNC_CONFORMANCE_PGBOUNCER=1`: a third of
/// the suite again, too much load for the 2-core CI beside everything else; the differential
/// quick-push test, the multi-process, live and metrics tests run through PgBouncer always).
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres, pgbouncer

    static let all: [StoreKind] = {
        guard TestPostgres.isSkipped else {
            let pooled = ProcessInfo.processInfo.environment["LEARNSYNC_CONFORMANCE_PGBOUNCER"] == "1"
            return pooled ? allCases : [.sqlite, .postgres]
        }
        print("PostgreSQL store tests skipped: LEARNSYNC_SKIP_POSTGRES=1")
        return [.sqlite]
    }()

    var testDescription: String { rawValue }

    /// A fresh store of this kind: SQLite in memory, or PostgreSQL on a new database with its
    /// pool running for as long as the second value lives.
    func makeStore(label: String = #function) async throws -> (any ServerStore, RunningPostgresStore?) {
        switch self {
        case .sqlite:
            return (try SQLiteServerStore(), nil)
        case .postgres, .pgbouncer:
            let running = try await RunningPostgresStore(label, throughPooler: self == .pgbouncer)
            return (running.store, running)
        }
    }
}

/// A server on a fresh store with the sample catalog, and helpers to call it.
struct TestServer {
    let catalog: Catalog
    let clock = ManualWallClock(millisecondsSince1970: 1_767_225_600_000 + 3_600_000)
    let service: SyncService
    let router: Router<LearnSyncRequestContext>
    /// Keeps a PostgreSQL store's connection pool running.
    private let running: RunningPostgresStore?

    init() throws {
        try self.init(store: try SQLiteServerStore())
    }

    /// A server on an in-memory SQLite store, or on a fresh PostgreSQL database.
    init(_ kind: StoreKind, label: String = #function) async throws {
        let (store, running) = try await kind.makeStore(label: label)
        try self.init(store: store, running: running)
    }

    init(store: any ServerStore, running: RunningPostgresStore? = nil) throws {
        self.running = running
        catalog = try SampleCatalog.load()
        service = SyncService(store: store, catalog: catalog, clock: clock, passwordCost: 4)
        router = buildRouter(service: service)
    }

    /// Registers a new guest through the service, without HTTP; returns it and its token.
    func registerGuest() async throws -> (learner: LearnerID, token: String) {
        let learner = LearnerID.newGuest()
        let session = try await service.registerGuest(
            RegisterGuestRequest(learner: learner, secret: "a-device-secret-of-enough-length"), address: "direct")
        return (learner, session.token)
    }

    func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = Application(router: router)
        try await app.test(.router) { client in try await body(client) }
    }
}

extension TestClientProtocol {
    func post(_ path: String, _ body: Data, token: String? = nil, contentType: String = "application/json") async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: contentType]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await executeRequest(uri: path, method: .post, headers: headers, body: ByteBuffer(bytes: body))
    }

    func post<T: WireCodable>(_ path: String, json: T, token: String? = nil) async throws -> TestResponse {
        try await post(path, try WireCoding.encode(json), token: token)
    }

    func delete<T: WireCodable>(_ path: String, json: T, token: String?) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await executeRequest(uri: path, method: .delete, headers: headers, body: ByteBuffer(bytes: try WireCoding.encode(json)))
    }

    func get(_ path: String, token: String?) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await executeRequest(uri: path, method: .get, headers: headers, body: nil)
    }

    /// Signs up (attaching `guest` if given) and returns the account and its token.
    func signUp(_ username: String, password: String = "a long password", guest: GuestProof? = nil) async throws -> (LearnerID, String) {
        let response = try await post("/v1/accounts", json: CredentialsRequest(username: username, password: password, guest: guest))
        let session = try WireCoding.decode(SessionResponse.self, from: Data(response.body.readableBytesView))
        return (session.learner, session.token)
    }

    /// Signs in (attaching `guest` if given) and returns the answer.
    func signIn(_ username: String, password: String = "a long password", guest: GuestProof? = nil) async throws -> TestResponse {
        try await post("/v1/sessions", json: CredentialsRequest(username: username, password: password, guest: guest))
    }

    /// Registers a new guest and returns its id and token.
    func registerGuest(_ learner: LearnerID = .newGuest(), secret: String = "a-device-secret-of-enough-length") async throws -> (LearnerID, String) {
        let response = try await post("/v1/guests", json: RegisterGuestRequest(learner: learner, secret: secret))
        let session = try WireCoding.decode(SessionResponse.self, from: Data(response.body.readableBytesView))
        return (learner, session.token)
    }

    func sync(_ request: SyncRequest, token: String) async throws -> SyncResponse {
        let response = try await post("/v1/sync", json: request, token: token)
        guard response.status == .ok else { throw Problem(code: .internalError, detail: "HTTP \(response.status.code): \(String(buffer: response.body))") }
        return try WireCoding.decode(SyncResponse.self, from: Data(response.body.readableBytesView))
    }
}

extension TestResponse {
    var problem: Problem? { try? WireCoding.decode(Problem.self, from: Data(body.readableBytesView)) }

    func decode<T: WireCodable>(_ type: T.Type) throws -> T { try WireCoding.decode(type, from: Data(body.readableBytesView)) }
}

/// Events of one learner and replica for tests.
struct EventFactory {
    let learner: LearnerID
    let replica: ReplicaID
    var seq: Int64 = 0
    var time: Int64 = 1_767_225_600_000

    init(learner: LearnerID, replica: ReplicaID = .random()) {
        self.learner = learner
        self.replica = replica
    }

    mutating func make(_ payload: EventPayload, course: CourseID = SampleCatalog.courseID, at millis: Int64? = nil) throws -> ProgressEvent {
        seq += 1
        time += 1
        return try ProgressEvent(
            id: EventID(replica: replica, seq: seq), learner: learner,
            timestamp: HLCTimestamp(physicalMilliseconds: millis ?? time), course: course, payload: payload)
    }
}
