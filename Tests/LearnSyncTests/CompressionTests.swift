import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import HummingbirdTesting
import LearnSync
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import LearnSyncTesting
import Synchronization
import Testing

/// The client's side of gzip: large pushes go compressed, answers come back compressed and are
/// read, and a server that takes no compressed bodies still gets every event.
@Suite struct CompressionTests {
    /// A server that takes no compressed bodies (an older one, or a proxy's rule).
    final class RefusesCompressedBodies: SyncTransport {
        let inner: any SyncTransport
        let refused = Mutex(0)

        init(inner: any SyncTransport) { self.inner = inner }

        func send(_ request: TransportRequest) async throws -> TransportResponse {
            guard request.headers["Content-Encoding"] == nil else {
                refused.withLock { $0 += 1 }
                // Slow to refuse: the client has written and compressed its next request by then.
                try await Task.sleep(for: .milliseconds(100))
                let problem = Problem(code: .unsupportedEncoding, detail: "no compressed bodies here")
                return TransportResponse(status: 415, body: try JSONEncoder().encode(problem))
            }
            return try await inner.send(request)
        }
    }

    static func entries(_ count: Int, in course: Course) -> [RecordEntry] {
        (0..<count).map { RecordEntry(course: course.id, payload: .timeSpent(lesson: course.lessons[$0 % 9].id, seconds: 2)) }
    }

    @Test(arguments: [false, true]) func largePushesGoCompressedUnlessRefused(_ refusing: Bool) async throws {
        let world = try World()
        try await world.run { client in
            let counted = CountingTransport(TestClientTransport(client))
            let refuser = RefusesCompressedBodies(inner: counted)
            let a = try world.device(refusing ? refuser : counted)
            let b = try world.device(client)
            try await a.signUp(username: "zipped", password: "a long password")
            // Three rounds: the requests after the first are written and compressed while the
            // answer before them is awaited, so the second is compressed before the slow refusal
            // comes; it must still go as it is.
            let count = ProtocolLimits.maxEventsPerRequest * 2 + 500
            _ = try await a.store.record(Self.entries(count, in: world.course))
            let report = try await a.sync()
            #expect(report.pushed == count)
            try await b.signIn(username: "zipped", password: "a long password")
            try await b.sync()
            #expect(try await b.progress(in: world.course.id).secondsSpent == 2 * count)
            // An event is about 125 bytes of JSON and 6 of gzip.
            let sent = counted.sent
            #expect(refusing ? sent > count * 100 : sent < count * 20, "sent \(sent) bytes")
            // A refusal is remembered: the next large push goes as it is, once.
            _ = try await a.store.record(Self.entries(400, in: world.course))
            try await a.sync()
            #expect(refuser.refused.withLock { $0 } == (refusing ? 1 : 0))
        }
    }

    @Test func aHostileServersGzipBombIsABadAnswer() async throws {
        let world = try World()
        try await world.run { client in
            let bomb = ContentCoding.gzip(Data(repeating: UInt8(ascii: " "), count: 65 << 20))!
            struct Bomber: SyncTransport {
                let inner: any SyncTransport
                let bomb: Data
                func send(_ request: TransportRequest) async throws -> TransportResponse {
                    guard request.path == "/v1/sync" else { return try await inner.send(request) }
                    return TransportResponse(status: 200, body: bomb, headers: ["Content-Encoding": "gzip"])
                }
            }
            let device = try world.device(Bomber(inner: TestClientTransport(client), bomb: bomb))
            _ = try await device.record(.timeSpent(lesson: world.course.lessons[0].id, seconds: 1), in: world.course.id)
            await #expect { try await device.sync() } throws: { ($0 as? SyncError)?.code == .badAnswer }
            #expect(try await device.pendingCount() == 1)
        }
    }
}

/// URLSession decodes gzip answers itself, so its transport caps what they decode to.
@Suite struct URLSessionCapTests {
    @Test func aGzipBombOverRealHTTPStopsAtTheCap() async throws {
        // 32 MiB of spaces: about 140 KB of gzip on the wire.
        let bomb = ContentCoding.gzip(Data(repeating: UInt8(ascii: " "), count: 32 << 20))!
        let router = Router()
        router.get("/bomb") { _, _ in
            Response(status: .ok, headers: [.contentEncoding: "gzip", .contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bomb)))
        }
        router.get("/small") { _, _ in "{}" }
        try await Application(router: router).test(.live) { client in
            let base = URL(string: "http://127.0.0.1:\(try #require(client.port))")!
            let capped = URLSessionTransport(baseURL: base, maxAnswerBytes: 1 << 20)
            await #expect(throws: URLError.self) {
                _ = try await capped.send(TransportRequest(method: "GET", path: "/bomb", body: Data()))
            }
            let small = try await capped.send(TransportRequest(method: "GET", path: "/small", body: Data()))
            #expect(small.status == 200 && small.body == Data("{}".utf8))
            // Under a cap it fits, the whole decoded answer arrives.
            let roomy = URLSessionTransport(baseURL: base, maxAnswerBytes: 64 << 20)
            let whole = try await roomy.send(TransportRequest(method: "GET", path: "/bomb", body: Data()))
            #expect(whole.body.count == 32 << 20)
        }
    }
}
