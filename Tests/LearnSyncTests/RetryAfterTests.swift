import Foundation
import LearnSync
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import LearnSyncTesting
import Synchronization
import Testing

/// A server that answers 429 with `Retry-After` in front of a real one, for the first `busy`
/// sync requests.
final class BusyTransport: SyncTransport {
    let inner: any SyncTransport
    let retryAfter: Int
    let busy = Mutex(0)

    init(_ inner: any SyncTransport, busyFor count: Int, retryAfter: Int) {
        self.inner = inner
        self.retryAfter = retryAfter
        busy.withLock { $0 = count }
    }

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        let refuse = request.path == "/v1/sync" && busy.withLock { left in
            defer { left -= 1 }
            return left > 0
        }
        guard refuse else { return try await inner.send(request) }
        let problem = try WireCoding.encode(Problem(code: .rateLimited, detail: "busy"))
        return TransportResponse(status: 429, body: problem, headers: ["retry-after": "\(retryAfter)"])
    }
}

/// 429 answers are retried after the server's `Retry-After`, under the one state machine.
@Suite struct RetryAfterTests {
    @Test func aSyncWaitsOutA429AndCompletes() async throws {
        let world = try World()
        try await world.run { client in
            let waits = Mutex([Duration]())
            let transport = BusyTransport(TestClientTransport(client), busyFor: 2, retryAfter: 2)
            let device = LearnSyncClient(
                store: try DeviceStore.inMemory(catalog: world.catalog, clock: world.clock), transport: transport,
                retry: RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(10), maxDelay: .seconds(5)),
                sleep: { duration in waits.withLock { $0.append(duration) } })
            try await device.record(.lessonCompleted(lesson: world.course.lessons[0].id), in: world.course.id)
            let report = try await device.sync()
            #expect(report.pushed == 1)
            #expect(report.retries == 2)
            #expect(waits.withLock { $0 } == [.seconds(2), .seconds(2)], "at least the server's Retry-After")
            #expect(try await device.pendingCount() == 0)
        }
    }

    @Test func aWaitLongerThanThePolicyAllowsIsTheCallersToDecide() async throws {
        let world = try World()
        try await world.run { client in
            let transport = BusyTransport(TestClientTransport(client), busyFor: 1, retryAfter: 60)
            let device = LearnSyncClient(
                store: try DeviceStore.inMemory(catalog: world.catalog, clock: world.clock), transport: transport,
                retry: RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(10), maxDelay: .seconds(10)), sleep: { _ in })
            try await device.record(.lessonCompleted(lesson: world.course.lessons[0].id), in: world.course.id)
            do {
                try await device.sync()
                Issue.record("a 429 asking for 60 s must not be slept through")
            } catch let error as SyncError {
                #expect(error.code == .rateLimited)
                #expect(error.retryAfter == .seconds(60))
            }
            #expect(try await device.pendingCount() == 1, "nothing is lost; the next sync pushes it")
            #expect(try await device.sync().pushed == 1)
        }
    }
}
