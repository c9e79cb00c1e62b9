import Foundation
import LearnSync
import LearnSyncModels
import LearnSyncStorage
import LearnSyncTesting
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Every network call ends, whatever the server does: a request by its transport's deadline, a
/// sync by its own. (Before, each try waited 60 s on Linux whatever the timeout: the bounds below
/// leave room for a loaded machine and still tell the two apart.)
@Suite(.serialized) struct DeadlineTests {
    /// A loopback listener that accepts every connection and then never answers, or drips an
    /// answer's head one byte every 100 ms for at most 30 s.
    final class StallingServer: Sendable {
        let port: Int
        private let listener: Int32
        private let accepted = Accepted()

        /// The accepted connections, closed by ``stop()``.
        final class Accepted: Sendable {
            let sockets = Mutex<[Int32]>([])
        }

        init(drip: Bool) throws {
            let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            self.listener = listener
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var size = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, size) == 0 && getsockname(listener, $0, &size) == 0 }
            }
            guard bound, listen(listener, 16) == 0 else { throw ChildProcessError(description: "cannot listen: errno \(errno)") }
            port = Int(UInt16(bigEndian: address.sin_port))
            let accepted = accepted
            Thread.detachNewThread {
                while true {
                    let connection = accept(listener, nil, nil)
                    guard connection >= 0 else { return }  // the listener was closed
                    accepted.sockets.withLock { $0.append(connection) }
                    guard drip else { continue }
                    Thread.detachNewThread {
                        for byte in Array("HTTP/1.1 200 OK\r\nX-Slow: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 300) {
                            var byte = byte
                            guard send(connection, &byte, 1, Int32(MSG_NOSIGNAL)) == 1 else { return }
                            usleep(100_000)
                        }
                    }
                }
            }
        }

        func stop() {
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
            for connection in accepted.sockets.withLock({ $0 }) { shutdown(connection, Int32(SHUT_RDWR)) }
        }
    }

    static func client(_ server: StallingServer, timeout: TimeInterval, retry: RetryPolicy) throws -> LearnSyncClient {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-deadline-\(UUID().uuidString).sqlite").path
        let url = URL(string: "http://127.0.0.1:\(server.port)")!
        return LearnSyncClient(
            store: try DeviceStore(path: path, catalog: try SampleCatalog.load()), transport: URLSessionTransport(baseURL: url, timeout: timeout),
            retry: retry)
    }

    @Test(arguments: [false, true]) func eachRequestEndsByItsDeadline(_ drip: Bool) async throws {
        let server = try StallingServer(drip: drip)
        defer { server.stop() }
        let client = try Self.client(server, timeout: 1, retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10)))
        try await client.record(.lessonStarted(lesson: "keep-secure"), in: SampleCatalog.courseID)
        let start = ContinuousClock.now
        let error = await #expect(throws: SyncError.self) { try await client.sync() }
        let took = ContinuousClock.now - start
        print("DeadlineTests: a server that \(drip ? "drips" : "never answers"): two tries of 1 s ended after \(took)")
        #expect(error?.code == .unreachable)
        #expect(took < .seconds(30), "two tries of 1 s took \(took)")
        #expect(try await client.pendingCount() == 1, "nothing was lost")
    }

    /// The CLI's sync against a server that never answers: exit 69 within its tries of
    /// `--timeout`, naming the server and the cause.
    @Test func theCLIEndsAndSaysWhy() async throws {
        let server = try StallingServer(drip: false)
        defer { server.stop() }
        let device = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-deadline-cli-\(UUID().uuidString)").path
        let start = ContinuousClock.now
        let child = try ChildProcess(
            [try BuiltExecutable.url().path, "sync", "--device", device, "--server", "http://127.0.0.1:\(server.port)", "--timeout", "1"],
            outputPath: device + ".out", errorPath: device + ".err")
        let status = try await child.exitCode()
        let took = ContinuousClock.now - start
        print("DeadlineTests: the CLI's sync ended after \(took) with \(status): \(child.errors)")
        #expect(status == 69)
        #expect(took < .seconds(60), "five tries of 1 s took \(took)")
        #expect(child.errors.contains("127.0.0.1:\(server.port)") && child.errors.contains("within 1 s"), "\(child.errors)")
    }

    @Test func aSyncEndsByItsOwnDeadline() async throws {
        let server = try StallingServer(drip: false)
        defer { server.stop() }
        let client = try Self.client(
            server, timeout: 1, retry: RetryPolicy(maxAttempts: 100, baseDelay: .milliseconds(10), maxDelay: .milliseconds(100), deadline: .seconds(3)))
        try await client.record(.lessonStarted(lesson: "keep-secure"), in: SampleCatalog.courseID)
        let start = ContinuousClock.now
        let error = await #expect(throws: SyncError.self) { try await client.sync() }
        let took = ContinuousClock.now - start
        print("DeadlineTests: a sync with a deadline of 3 s ended after \(took)")
        #expect(error?.code == .unreachable && error?.message.contains("within 3 s") == true, "\(String(describing: error))")
        #expect(took < .seconds(30), "a sync with a deadline of 3 s took \(took)")
    }
}
