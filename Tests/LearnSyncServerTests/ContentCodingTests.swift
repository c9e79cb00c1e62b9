import Foundation
import Hummingbird
import HummingbirdTesting
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import LearnSyncTesting
import Testing

/// gzip and deflate bodies both ways (RFC 9110 §8.4, RFC 7694): what is decoded, what is
/// refused, and that a refusal changes nothing.
@Suite struct ContentCodingTests {
    // MARK: The codec

    @Test(arguments: [0, 1, 1023, 70_000, 300_000])
    func gzipRoundTrips(_ size: Int) throws {
        var generator = SeededGenerator(seed: UInt64(size) + 1)
        print("gzipRoundTrips seed \(size + 1)")
        let data = Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let compressed = try #require(ContentCoding.gzip(data))
        #expect(ContentCoding.looksGzipped(compressed))
        #expect(try ContentCoding.inflate(compressed, limit: size) == data)
    }

    /// A body compressed in two parts (``ContentCoding/GzipStart``) is one gzip member whose
    /// trailer zlib checks: the CRC-32 and length of the whole.
    @Test(arguments: [0, 1, 5_000, 300_000])
    func aGzipBodyFinishedLaterIsOneGzipMember(_ size: Int) throws {
        let seed = SeededGenerator.seedFromEnvironment()
        print("aGzipBodyFinishedLaterIsOneGzipMember seed: \(seed)")
        var generator = SeededGenerator(seed: seed)
        // JSON-like text compresses; random bytes do not: both must come back.
        let text = Data(String(repeating: #"{"seq":12,"learner":"g-1","type":"lesson.completed"},"#, count: size / 50 + 1).utf8.prefix(size))
        let noise = Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) })
        for data in [text, noise] {
            let split = Int.random(in: 0...data.count, using: &generator)
            let start = try #require(ContentCoding.GzipStart(data.prefix(split)))
            let body = try #require(start.finished(with: data.suffix(from: split)))
            #expect(ContentCoding.looksGzipped(body))
            #expect(try ContentCoding.inflate(body, limit: data.count) == data, "split at \(split); seed \(seed)")
            // The trailer is checked: a wrong CRC or length is refused.
            for offset in [8, 4] {
                var wrong = body
                wrong[wrong.count - offset] ^= 0x01
                #expect(throws: ContentCoding.Failure.self, "seed \(seed)") { try ContentCoding.inflate(wrong, limit: data.count + 1) }
            }
        }
    }

    @Test func theZlibFormatOfDeflateIsReadToo() throws {
        let data = Data(String(repeating: #"{"seq": 1, "type": "lesson.completed"}"#, count: 100).utf8)
        #expect(try ContentCoding.inflate(Self.zlib(data), limit: data.count) == data)
    }

    @Test func inflatingStopsAtTheLimit() throws {
        // 64 MiB of zeros is under 1 % of that in gzip: a "zip bomb" must not reach memory.
        let bomb = try #require(ContentCoding.gzip(Data(count: 64 << 20)))
        #expect(bomb.count * 100 < 64 << 20)
        #expect(throws: ContentCoding.Failure.tooLarge(limit: 1 << 20)) { try ContentCoding.inflate(bomb, limit: 1 << 20) }
    }

    @Test func truncatedCorruptOrTrailedStreamsAreMalformed() throws {
        let good = try #require(ContentCoding.gzip(Data(String(repeating: "progress ", count: 500).utf8)))
        var corrupt = good
        corrupt[20] ^= 0xFF
        for bad in [good.prefix(good.count - 5), corrupt, good + Data([0x00]), Data("{\"protocol\": 1}".utf8)] {
            #expect {
                try ContentCoding.inflate(Data(bad), limit: 1 << 20)
            } throws: { error in
                if case .malformed = error as? ContentCoding.Failure { true } else { false }
            }
        }
    }

    @Test(arguments: [
        ("gzip", true), ("x-gzip", true), ("gzip;q=0.5", true), ("deflate, gzip, br, zstd", true), ("*", true),
        ("gzip;q=0", false), ("br", false), ("*;q=0", false), ("identity", false), ("*, gzip;q=0", false), ("", false),
    ])
    func acceptEncodingIsReadWithItsWeights(_ header: String, _ takesGzip: Bool) {
        #expect(ContentCoding.acceptsGzip(header) == takesGzip)
    }

    @Test(arguments: [
        ("gzip", ContentCoding.gzip), ("GZIP", .gzip), ("x-gzip", .gzip), ("deflate", .deflate), ("identity", .identity),
        ("br", nil), ("gzip, gzip", nil), ("gzip, deflate", nil), ("zstd", nil),
    ] as [(String, ContentCoding?)])
    func contentEncodingTakesOneKnownCoding(_ header: String, _ coding: ContentCoding?) {
        #expect(ContentCoding(contentEncoding: header) == coding)
    }

    // MARK: The server

    /// A push of `count` events as a request body.
    static func push(_ count: Int, learner: LearnerID) throws -> (SyncRequest, Data) {
        var events = EventFactory(learner: learner)
        let lesson = try SampleCatalog.load()[SampleCatalog.courseID]!.lessons[0].id
        let batch = try (0..<count).map { _ in try events.make(.timeSpent(lesson: lesson, seconds: 3)) }
        let request = SyncRequest(replica: events.replica, lastSeq: events.seq, cursor: 0, events: batch)
        return (request, try WireCoding.encode(request))
    }

    static func post(
        _ client: any TestClientProtocol, _ body: Data, encoding: String?, acceptEncoding: String? = nil, token: String
    ) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json", .authorization: "Bearer \(token)"]
        if let encoding { headers[.contentEncoding] = encoding }
        if let acceptEncoding { headers[.acceptEncoding] = acceptEncoding }
        return try await client.executeRequest(uri: "/v1/sync", method: .post, headers: headers, body: ByteBuffer(bytes: body))
    }

    @Test(arguments: StoreKind.all) func gzipAndDeflatePushesAreStoredAsPlainOnesAre(_ store: StoreKind) async throws {
        let server = try await TestServer(store)
        try await server.test { client in
            for encoding in ["gzip", "deflate"] {
                let (learner, token) = try await client.registerGuest()
                let (request, plain) = try Self.push(200, learner: learner)
                let body = encoding == "gzip" ? try #require(ContentCoding.gzip(plain)) : Self.zlib(plain)
                #expect(body.count * 5 < plain.count)
                let response = try await Self.post(client, body, encoding: encoding, token: token)
                #expect(response.status == .ok)
                #expect(try response.decode(SyncResponse.self).rejected.isEmpty && !request.events.isEmpty)
                #expect(try await Self.storedEvents(client, token: token) == 200)
            }
        }
    }

    @Test func badCodingsAreRefusedAndChangeNothing() async throws {
        let server = try TestServer()
        try await server.test { client in
            let (learner, token) = try await client.registerGuest()
            let (_, plain) = try Self.push(50, learner: learner)
            let gzipped = try #require(ContentCoding.gzip(plain))
            var corrupt = gzipped
            corrupt[gzipped.count / 2] ^= 0xFF

            let brotli = try await Self.post(client, plain, encoding: "br", token: token)
            #expect(brotli.status == .unsupportedMediaType && brotli.problem?.code == "unsupported-encoding")
            #expect(brotli.headers[.acceptEncoding] == "gzip, deflate")
            let stacked = try await Self.post(client, gzipped, encoding: "gzip, gzip", token: token)
            #expect(stacked.problem?.code == "unsupported-encoding")
            let broken = try await Self.post(client, corrupt, encoding: "gzip", token: token)
            #expect(broken.status == .badRequest && broken.problem?.code == "malformed-json")
            let truncated = try await Self.post(client, gzipped.prefix(gzipped.count - 9), encoding: "gzip", token: token)
            #expect(truncated.problem?.code == "malformed-json")
            let undeclared = try await Self.post(client, gzipped, encoding: nil, token: token)
            #expect(undeclared.problem?.code == "malformed-json")
            // A few KB on the wire, over 1 MiB once decoded: refused while it is decoded.
            var bomb = plain.dropLast(1)
            bomb.append(Data(repeating: UInt8(ascii: " "), count: ProtocolLimits.maxBodyBytes))
            bomb.append(UInt8(ascii: "}"))
            let zipped = try #require(ContentCoding.gzip(bomb))
            #expect(zipped.count < 16_384)
            let bombed = try await Self.post(client, zipped, encoding: "gzip", token: token)
            #expect(bombed.status == .contentTooLarge && bombed.problem?.code == "body-too-large")
            #expect(try await Self.storedEvents(client, token: token) == 0)
        }
    }

    @Test func answersAreGzippedWhenAskedAndLargeEnough() async throws {
        let server = try TestServer()
        try await server.test { client in
            let (learner, token) = try await client.registerGuest()
            let (_, plain) = try Self.push(300, learner: learner)
            _ = try await Self.post(client, plain, encoding: nil, token: token)
            // A new device of the same learner pulls the 300 events back.
            let pull = try WireCoding.encode(SyncRequest(replica: .random(), lastSeq: 0, cursor: 0, events: []))
            let asIs = try await Self.post(client, pull, encoding: nil, token: token)
            #expect(asIs.headers[.contentEncoding] == nil && asIs.headers[.vary] == "Accept-Encoding")
            let zipped = try await Self.post(client, pull, encoding: nil, acceptEncoding: "deflate, gzip, br", token: token)
            #expect(zipped.headers[.contentEncoding] == "gzip" && zipped.headers[.vary] == "Accept-Encoding")
            let body = Data(zipped.body.readableBytesView)
            #expect(body.count * 5 < asIs.body.readableBytes)
            let pulled = try WireCoding.decode(SyncResponse.self, from: try ContentCoding.inflate(body, limit: 1 << 24))
            #expect(pulled.events.count == 300)
            #expect(try WireCoding.decode(SyncResponse.self, from: Data(asIs.body.readableBytesView)).events == pulled.events)
            // An answer smaller than 1 KB goes as it is.
            let refused = try await Self.post(client, pull, encoding: nil, acceptEncoding: "gzip;q=0", token: token)
            #expect(refused.headers[.contentEncoding] == nil)
            let small = try await client.executeRequest(
                uri: "/v1/guests", method: .post, headers: [.contentType: "application/json", .acceptEncoding: "gzip"],
                body: ByteBuffer(bytes: try HTTPStrictnessTests.guestBody(.newGuest())))
            #expect(small.status == .ok && small.headers[.contentEncoding] == nil)
        }
    }

    // MARK: Helpers

    /// How many events the server holds for the token's learner, as a new device pulls them.
    static func storedEvents(_ client: any TestClientProtocol, token: String) async throws -> Int {
        try await client.sync(SyncRequest(replica: .random(), lastSeq: 0, cursor: 0, events: [], limit: 1000), token: token).events.count
    }

    /// `data` in the zlib format (RFC 1950) that `Content-Encoding: deflate` names: the gzip
    /// stream's deflate blocks between a zlib header and an Adler-32 trailer.
    static func zlib(_ data: Data) -> Data {
        let gzip = ContentCoding.gzip(data)!
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        let adler = (b << 16) | a
        return Data([0x78, 0x01]) + gzip.dropFirst(10).dropLast(8)
            + Data([UInt8(adler >> 24), UInt8(adler >> 16 & 0xFF), UInt8(adler >> 8 & 0xFF), UInt8(adler & 0xFF)])
    }
}
