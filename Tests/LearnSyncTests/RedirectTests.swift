import Foundation
import Hummingbird
import HummingbirdTesting
import LearnSync
import LearnSyncModels
import LearnSyncTesting
import Synchronization
import Testing

/// A server that redirects is not followed: the device's requests carry its bearer token, which
/// must reach the configured server only.
@Suite struct RedirectTests {
    @Test func theClientFollowsNoRedirectAndSendsItsTokenNowhereElse() async throws {
        let reached = Mutex<[String]>([])
        let elsewhere = Router()
        elsewhere.on("**", method: .post) { request, _ -> Response in
            reached.withLock { $0.append("\(request.uri.path) \(request.headers[.authorization] ?? "no token")") }
            return Response(status: .ok)
        }
        try await Application(router: elsewhere).test(.live) { other in
            let target = "http://127.0.0.1:\(try #require(other.port))"
            let redirecting = Router()
            redirecting.on("**", method: .post) { request, _ -> Response in
                Response(status: .temporaryRedirect, headers: [.location: target + request.uri.path])
            }
            try await Application(router: redirecting).test(.live) { server in
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent("learnsync-redirect-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: folder) }
                let device = try await LearnSyncClient(
                    path: folder.appendingPathComponent("phone.sqlite").path, catalog: try SampleCatalog.load(),
                    server: URL(string: "http://127.0.0.1:\(try #require(server.port))")!)
                try await device.record(.lessonStarted(lesson: "keep-secure"), in: SampleCatalog.courseID)
                await #expect(throws: SyncError.self) { try await device.sync() }
            }
        }
        #expect(reached.withLock { $0 }.isEmpty, "the redirect was followed: \(reached.withLock { $0 })")
    }
}
