import LearnSyncModels

/// A lock for async code, handed over in arrival order: whoever holds it may suspend while
/// holding it. A device store has one for its syncs, so that two `sync()` calls (a timer and a
/// pull-to-refresh, or two clients on one store) take turns instead of pushing the same batch
/// twice; a sign-in or sign-out and a sync take turns too.
package final class AsyncLock: Sendable {
    private struct State {
        var locked = false
        var waiting: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var lastID: UInt64 = 0
    }

    private let state = Locked(State())

    package init() {}

    /// Runs `body` holding the lock, waiting for it first; the lock is released however `body`
    /// ends. A task cancelled before it gets the lock leaves the queue at once and throws
    /// `CancellationError` without running `body`.
    package func withLock<T>(_ body: () async throws -> T) async throws -> T {
        try await lock()
        defer { unlock() }
        return try await body()
    }

    private func lock() async throws {
        let id = state.withLock { state in
            state.lastID += 1
            return state.lastID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Checked under the mutex: a cancellation either comes before (and is seen here)
                // or finds this waiter in the queue.
                let acquired: Bool? = state.withLock { state in
                    if Task.isCancelled { return nil }
                    if state.locked {
                        state.waiting.append((id, continuation))
                        return false
                    }
                    state.locked = true
                    return true
                }
                switch acquired {
                case true: continuation.resume()
                case false: break
                case nil: continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiting.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    private func unlock() {
        // The next waiter gets the lock as it is, still locked.
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard !state.waiting.isEmpty else {
                state.locked = false
                return nil
            }
            return state.waiting.removeFirst().continuation
        }
        next?.resume()
    }
}
