import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import HummingbirdTesting
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncServer
import Logging
import LearnSyncTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Slow clients on a real loopback server: half-sent heads and bodies are cut off, and the
/// connection limit keeps the server answering others.
@Suite(.serialized, .tags(.timing)) struct SlowClientTests {
    /// A raw TCP connection to the server, for sending partial requests.
    final class RawConnection: Sendable {
        let socket: Int32

        /// - Parameter receiveBuffer: the socket's receive buffer in bytes, set before it
        ///   connects: a small one keeps the server's answer in the server's buffers.
        init(port: Int, receiveBuffer: Int32? = nil) throws {
            socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            if var receiveBuffer {
                setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, socklen_t(MemoryLayout<Int32>.size))
            }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw ServerError("connect failed") }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        func send(_ text: String) {
            _ = text.withCString { Glibc.send(socket, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        }

        /// Seconds until the server closes the connection (reads return 0), or nil after 5 s
        /// without a byte. With `afterAnswer`, counted from the first byte of an answer.
        func secondsUntilClosed(afterAnswer: Bool = false) -> Double? {
            var start = Date()
            var answered = false
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = recv(socket, &buffer, buffer.count, 0)
                if count < 0 && errno == EINTR { continue }
                if count == 0 || (count < 0 && errno == ECONNRESET) { return Date().timeIntervalSince(start) }
                if count < 0 { return nil }
                if afterAnswer, !answered {
                    answered = true
                    start = Date()
                }
            }
        }

        /// Every byte until the server closes the connection, or nil after 5 s without one.
        func readUntilClosed() -> [UInt8]? { readSteadily(chunk: 65_536, pause: .zero) }

        /// Every byte until the server closes the connection, read `chunk` bytes at a time with a
        /// pause of `pause` between reads, or nil after 5 s without one.
        func readSteadily(chunk: Int, pause: Duration) -> [UInt8]? {
            var answer = [UInt8](), buffer = [UInt8](repeating: 0, count: chunk)
            while true {
                let count = recv(socket, &buffer, buffer.count, 0)
                if count < 0 && errno == EINTR { continue }
                if count == 0 || (count < 0 && errno == ECONNRESET) { return answer }
                if count < 0 { return nil }
                answer += buffer[..<count]
                guard pause > .zero else { continue }
                let (seconds, attoseconds) = pause.components
                var time = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
                nanosleep(&time, nil)
            }
        }

        /// Closes the sending side and reads what comes back until the server closes.
        func finishAndRead() -> String {
            shutdown(socket, Int32(SHUT_WR))
            var answer = [UInt8](), buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = recv(socket, &buffer, buffer.count, 0)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { return String(decoding: answer, as: UTF8.self) }
                answer += buffer[..<count]
            }
        }

        deinit { close(socket) }
    }

    /// A body that ends before its Content-Length is the client's fault: 400, never 500.
    @Test func aBodyCutShortIsABadRequest() async throws {
        // The default deadlines: the answer must come from the cut body, not from a deadline.
        let server = try await EmbeddedServer.start(
            databasePath: NSTemporaryDirectory() + "/cut-\(UUID().uuidString).sqlite", catalog: try SampleCatalog.load(), passwordCost: 4)
        defer { Task { await server.stop() } }
        let connection = try RawConnection(port: server.url.port!)
        connection.send("POST /v1/guests HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        let answer = try await onOwnThread { connection.finishAndRead() }
        #expect(answer.hasPrefix("HTTP/1.1 400"), "\(answer.prefix(200))")
    }

    static func start(_ folder: String, bodyTimeout: Duration = .milliseconds(400)) async throws -> EmbeddedServer {
        try await EmbeddedServer.start(
            databasePath: folder + "/slow-\(UUID().uuidString).sqlite", catalog: try SampleCatalog.load(), passwordCost: 4
        ) { configuration in
            configuration.headTimeout = .milliseconds(400)
            configuration.bodyTimeout = bodyTimeout
            configuration.maxConnections = 8
        }
    }

    @Test func halfSentHeadsAndBodiesAreCutOff() async throws {
        let server = try await Self.start(NSTemporaryDirectory())
        defer { Task { await server.stop() } }
        let port = server.url.port!
        let head = try RawConnection(port: port)
        head.send("POST /v1/sync HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: app")
        let body = try RawConnection(port: port)
        body.send("POST /v1/guests HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"protocol\": 1,")
        for (what, connection) in [("head", head), ("body", body)] {
            // Waited for on a thread of its own: a blocking read on the concurrency pool would
            // stall the tests running beside it.
            let closed = try await onOwnThread { connection.secondsUntilClosed() }
            #expect(closed != nil && closed! < 2, "a half-sent \(what) was not cut off")
        }
    }

    /// After an answer, the next head must come within the head timeout, even when the body
    /// timeout before it was longer (the connection's one timer is moved earlier).
    @Test func aConnectionIdleAfterItsAnswerIsClosed() async throws {
        let server = try await Self.start(NSTemporaryDirectory(), bodyTimeout: .seconds(30))
        defer { Task { await server.stop() } }
        let connection = try RawConnection(port: server.url.port!)
        connection.send("POST /v1/guests HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n")
        // Past the head timeout, within the body timeout: the body is still welcome.
        try await Task.sleep(for: .milliseconds(600))
        connection.send("{}")
        // The answer (a problem: the body is not a registration) arrives, then the close; a
        // timer left at the body's deadline would close it only after 30 s.
        let closed = try await onOwnThread { connection.secondsUntilClosed(afterAnswer: true) }
        #expect(closed != nil && closed! < 4, "an idle connection was closed \(closed.map { "\($0) s" } ?? "more than 5 s") after its answer, not after the 0.4 s head timeout")
    }

    /// A server whose body timeout is `bodyTimeout`, holding a guest whose export is larger
    /// than the kernel's socket buffers may grow to (4 MB here): `body` gets the port and the
    /// export's request.
    func withLargeExport(bodyTimeout: Duration, _ body: @Sendable (Int, String) async throws -> Void) async throws {
        let server = try TestServer()
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, passwordCost: 4)
        configuration.headTimeout = .seconds(5)
        configuration.bodyTimeout = bodyTimeout
        let app = buildApplication(configuration: configuration, service: server.service, logger: Logger(label: "slow-reader"))
        try await app.test(.live) { client in
            let (learner, token) = try await client.registerGuest()
            var factory = EventFactory(learner: learner)
            for _ in 0..<15 {
                let cursor = factory.seq
                let events = try (0..<ProtocolLimits.maxEventsPerRequest).map { _ in try factory.make(.timeSpent(lesson: "keep-secure", seconds: 1)) }
                _ = try await client.sync(SyncRequest(replica: factory.replica, lastSeq: factory.seq, cursor: cursor, events: events), token: token)
            }
            try await body(client.port!, "GET /v1/export HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nConnection: close\r\n\r\n")
        }
    }

    /// A client that stops taking an answer is closed once the answer has waited for it for the
    /// body timeout: it holds no connection (or live stream, or graceful shutdown) for ever.
    @Test func aClientThatStopsReadingItsAnswerIsClosed() async throws {
        try await withLargeExport(bodyTimeout: .milliseconds(400)) { port, request in
            let reading = try RawConnection(port: port)
            reading.send(request)
            // A reader gets the whole answer, then the close it asked for.
            let whole = try #require(try await onOwnThread { reading.readUntilClosed() })
            #expect(String(decoding: whole.suffix(5), as: UTF8.self) == "0\r\n\r\n", "the export is not one chunked answer")
            let stalled = try RawConnection(port: port, receiveBuffer: 2048)
            stalled.send(request)
            try await Task.sleep(for: .seconds(2))
            let cut = try await onOwnThread { stalled.readUntilClosed() }
            print("SlowClientTests: an export of \(whole.count) B; a client that read nothing for 2 s got \(cut?.count ?? -1) B before the close")
            // One that stopped reading is closed with part of it.
            #expect(cut != nil, "the stalled connection was still open")
            #expect(cut.map { $0.count < whole.count } == true, "the stalled client got the whole answer")
        }
    }

    /// A client that takes its answer slowly but steadily gets all of it, although the answer
    /// waits for it much longer than the body timeout in all.
    @Test func aSteadyReaderGetsTheWholeAnswer() async throws {
        try await withLargeExport(bodyTimeout: .milliseconds(300)) { port, request in
            let connection = try RawConnection(port: port, receiveBuffer: 16_384)
            connection.send(request)
            let start = ContinuousClock.now
            // About 1.6 MB/s, 16 KiB every 10 ms: 4 s for the export.
            let answer = try #require(try await onOwnThread { connection.readSteadily(chunk: 16_384, pause: .milliseconds(10)) })
            print("SlowClientTests: a steady reader got \(answer.count) B in \(ContinuousClock.now - start)")
            #expect(String(decoding: answer.suffix(5), as: UTF8.self) == "0\r\n\r\n", "the steady reader's answer was cut after \(answer.count) B")
        }
    }

    @Test func slowClientsCannotStarveOthers() async throws {
        let server = try await Self.start(NSTemporaryDirectory())
        defer { Task { await server.stop() } }
        // Three times as many half-open connections as the server takes at once.
        let slow = try (0..<24).map { _ in try RawConnection(port: server.url.port!) }
        for connection in slow { connection.send("GET /health HTTP/1.1\r\nHo") }
        let start = Date()
        var request = URLRequest(url: server.url.appendingPathComponent("health"), timeoutInterval: 10)
        request.httpMethod = "GET"
        let (data, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200 && String(decoding: data, as: UTF8.self) == "ok")
        let waited = Date().timeIntervalSince(start)
        print("SlowClientTests: /health answered after \(String(format: "%.2f", waited)) s beside 24 slow connections (limit 8)")
        #expect(waited < 5)
        _ = slow.count
    }
}
