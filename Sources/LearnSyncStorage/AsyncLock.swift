import Synchronization

/// A lock for async code, handed over in arrival order: whoever holds it may suspend while
/// holding it. A device store has one for its syncs, so that two `sync()` calls (a timer and a
/// pull-to-refresh, or two clients on one store) take turns instead of pushing the same batch
/// twice; a sign-in or sign-out and a sync take turns too.
package final class AsyncLock: Sendable {
    private let state = Mutex<(locked: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    package init() {}

    /// Runs `body` holding the lock, waiting for it first. A task cancelled while it waits still
    /// gets its turn (and `body` can check for cancellation); the lock is released however
    /// `body` ends.
    package func withLock<T>(_ body: () async throws -> T) async rethrows -> T {
        await lock()
        defer { unlock() }
        return try await body()
    }

    private func lock() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = state.withLock { state in
                if state.locked {
                    state.waiting.append(continuation)
                    return false
                }
                state.locked = true
                return true
            }
            if acquired { continuation.resume() }
        }
    }

    private func unlock() {
        // The next waiter gets the lock as it is, still locked.
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.locked = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
