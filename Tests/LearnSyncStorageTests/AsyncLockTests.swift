import LearnSyncStorage
import LearnSyncTestSupport
import Synchronization
import Testing

@Suite struct AsyncLockTests {
    /// A task cancelled while it waits leaves at once, without running its body, and the lock
    /// goes on to the next waiter when its holder is done.
    @Test func aCancelledWaiterLeavesAtOnce() async throws {
        let lock = AsyncLock()
        let ran = Recorder()
        let (release, releaser) = AsyncStream.makeStream(of: Void.self)
        let (holding, holds) = AsyncStream.makeStream(of: Void.self)
        let holder = Task {
            try await lock.withLock {
                holds.yield()
                for await _ in release { break }
                ran.add("holder")
            }
        }
        for await _ in holding { break }
        let cancelled = Task {
            defer { ran.add("left the queue") }
            try await lock.withLock { ran.add("cancelled") }
        }
        let next = Task { try await lock.withLock { ran.add("next") } }
        // Let both queue up behind the holder, then cancel the first: it leaves while the holder
        // still holds the lock (waited for by polling, so that a lock that keeps it queued fails
        // the test instead of hanging it).
        try await Task.sleep(for: .milliseconds(50))
        cancelled.cancel()
        _ = try await eventually(timeout: .seconds(5)) { ran.names.contains("left the queue") }
        #expect(ran.names == ["left the queue"])

        releaser.yield()
        try await holder.value
        try await next.value
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(ran.names == ["left the queue", "holder", "next"])
    }

    /// A task cancelled before it asks does not take a free lock.
    @Test func aCancelledTaskDoesNotTakeAFreeLock() async throws {
        let lock = AsyncLock()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await lock.withLock { true }
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(try await lock.withLock { true })
    }
}

/// Names written from several tasks.
private final class Recorder: Sendable {
    private let list = Mutex<[String]>([])
    var names: [String] { list.withLock { $0 } }
    func add(_ name: String) { list.withLock { $0.append(name) } }
}
