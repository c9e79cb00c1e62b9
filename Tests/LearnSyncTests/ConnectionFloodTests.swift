import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LearnSync
import LearnSyncModels
import LearnSyncTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A real `learnsync serve` flooded with slow connections from one loopback address (127.0.0.2)
/// on its API port and from another (127.0.0.3) on its metrics port, while a learner on
/// 127.0.0.1 checks `/health` and syncs.
@Suite(.serialized, .tags(.timing)) struct ConnectionFloodTests {
    /// Non-blocking TCP connections from `source` to `port` on 127.0.0.1, each sending half a
    /// request head; closed together.
    final class Flood {
        private(set) var sockets: [Int32] = []

        init(count: Int, from source: String, to port: Int) throws {
            sockets.reserveCapacity(count)
            for _ in 0..<count {
                let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
                guard socket >= 0 else { throw ChildProcessError(description: "socket: errno \(errno) after \(sockets.count)") }
                sockets.append(socket)
                var local = Self.address(source, port: 0), remote = Self.address("127.0.0.1", port: port)
                let size = socklen_t(MemoryLayout<sockaddr_in>.size)
                let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, size) } }
                guard bound == 0 else { throw ChildProcessError(description: "bind \(source): errno \(errno)") }
                _ = withUnsafePointer(to: &remote) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, size) } }
            }
        }

        /// Sends half a head on every connection that is up by now.
        func sendHalfHeads() {
            for socket in sockets { _ = "GET /health HTTP/1.1\r\nHo".withCString { send(socket, $0, strlen($0), Int32(MSG_NOSIGNAL)) } }
        }

        static func address(_ host: String, port: Int) -> sockaddr_in {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr(host)
            return address
        }

        deinit { for socket in sockets { close(socket) } }
    }

    @Test func oneAddressCannotHoldTheSlotsAndTheMetricsPortCannotTakeTheDescriptors() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-flood-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let server = try await ServerProcess.start(
            1, binary: try BuiltExecutable.url(), database: folder.appendingPathComponent("server.sqlite").path, folder: folder,
            arguments: ["--metrics-port", "0", "--max-connections", "512"])[0]
        defer { server.stop() }
        let metricsURL = try await server.waitForMetricsURL()
        let metricsPort = try #require(metricsURL?.port)
        let device = try await LearnSyncClient(
            path: folder.appendingPathComponent("phone.sqlite").path, catalog: try SampleCatalog.load(), server: server.url)

        // The API port: 5,000 slow connections from one address, ten times the server's slots.
        var flood: Flood? = try Flood(count: 5000, from: "127.0.0.2", to: server.url.port!)
        try await Task.sleep(for: .milliseconds(500))
        flood?.sendHalfHeads()
        try await expectAnswers(server.url, device, beside: "5,000 slow connections from one address on the API port")
        flood = nil

        // The metrics port: as many connections as this process may open besides its own.
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let count = min(20_000, Int(limit.rlim_cur) - 500)
        flood = try Flood(count: count, from: "127.0.0.3", to: metricsPort)
        try await Task.sleep(for: .milliseconds(500))
        flood?.sendHalfHeads()
        try await expectAnswers(server.url, device, beside: "\(count) connections to the metrics port")
        let (metrics, _) = try await URLSession.shared.data(from: try #require(metricsURL))
        #expect(String(decoding: metrics, as: UTF8.self).contains("learnsync_sync_rounds_total"), "the metrics still answer")
        _ = flood
    }

    /// `/health` and a sync from 127.0.0.1 each answer within a second.
    func expectAnswers(_ url: URL, _ device: LearnSyncClient, beside flood: String) async throws {
        var start = ContinuousClock.now
        var request = URLRequest(url: url.appendingPathComponent("health"), timeoutInterval: 5)
        request.httpMethod = "GET"
        let (data, _) = try await URLSession.shared.data(for: request)
        let health = ContinuousClock.now - start
        #expect(String(decoding: data, as: UTF8.self) == "ok")
        try await device.record(.lessonStarted(lesson: "keep-secure"), in: SampleCatalog.courseID)
        start = ContinuousClock.now
        try await device.sync()
        let sync = ContinuousClock.now - start
        print("ConnectionFloodTests: beside \(flood), /health answered in \(health), a sync in \(sync)")
        #expect(health < .seconds(1) && sync < .seconds(1), "beside \(flood): /health \(health), sync \(sync)")
    }
}
