import LearnSyncModels
package import PostgresNIO

/// A connection of the pool, leased within a deadline.
///
/// postgres-nio's `withConnection` waits for as long as the pool keeps trying to connect: a
/// minute and more while PostgreSQL is down, with the request, its socket and its memory held
/// all that time. Here a task of its own asks the pool and holds the lease; the request that
/// asked waits for the connection at most `deadline`, and uses it in its own task. A lease
/// granted after the wait ended goes back to the pool at once.
package struct PoolLease: Sendable {
    package let connection: PostgresConnection
    private let release: CheckedContinuation<Void, Never>

    /// Gives the connection back to the pool. Call it once, when done with the connection.
    package func end() { release.resume() }

    /// Leases a connection of `client`'s pool.
    /// - Throws: ``LeaseTimedOut`` when none is granted within `deadline` (kept by
    ///   `deadlines`); the pool's error when it fails the lease; `CancellationError` when the
    ///   calling task is cancelled first.
    package static func lease(from client: PostgresClient, within deadline: Duration, _ deadlines: Deadlines) async throws -> PoolLease {
        let handoff = Handoff()
        let holder = Task {
            do {
                try await client.withConnection { connection in
                    // A continuation, not a cancellable wait: cancelling the holder (a late
                    // deadline) must not take the connection from the request using it.
                    await withCheckedContinuation { (release: CheckedContinuation<Void, Never>) in
                        if !handoff.give(PoolLease(connection: connection, release: release)) { release.resume() }
                    }
                }
            } catch {
                handoff.fail(error)
            }
        }
        let watched = deadlines.add(ContinuousClock.now + deadline) {
            handoff.fail(LeaseTimedOut(deadline: deadline))
            holder.cancel()
        }
        defer { deadlines.remove(watched) }
        return try await withTaskCancellationHandler {
            try await handoff.wait()
        } onCancel: {
            handoff.fail(CancellationError())
            holder.cancel()
        }
    }
}

/// The deadlines of what the store waits for from the pool and PostgreSQL (a lease, a
/// statement's answer), kept by one task that looks at them ten times a second while any is
/// waited for: a timer task per lease cost more than the lease itself. A wait is ended at most
/// 100 ms past its deadline.
///
/// A look that comes more than a second late means this process was held up (its threads
/// starved, the machine suspended): the waits it watches were held up with it, so their
/// deadlines move by the time lost, up to twice their length in all. A stall of the process
/// is not taken for PostgreSQL's; a wait still ends.
package final class Deadlines: Sendable {
    private struct Wait {
        var deadline: ContinuousClock.Instant
        /// The latest the deadline moves to: twice the wait's length after it began.
        let latest: ContinuousClock.Instant
        let expire: @Sendable () -> Void
    }

    private struct State {
        var next: UInt64 = 0
        var waiting: [UInt64: Wait] = [:]
        var keeping = false
    }

    private let state = Locked(State())
    /// How often the deadlines are looked at.
    private let tick = Duration.milliseconds(100)
    private let sleep: @Sendable (Duration) async -> Void

    /// - Parameter sleep: how the keeper waits for its next look (a test's stand-in for a
    ///   stalled process).
    package init(sleep: @escaping @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) }) {
        self.sleep = sleep
    }

    /// Watches a wait until `deadline`; `expire` runs if it is still watched then.
    func add(_ deadline: ContinuousClock.Instant, expire: @escaping @Sendable () -> Void) -> UInt64 {
        let now = ContinuousClock.now
        let wait = Wait(deadline: deadline, latest: deadline + (deadline - now), expire: expire)
        let (id, starts) = state.withLock { state in
            state.next += 1
            state.waiting[state.next] = wait
            defer { state.keeping = true }
            return (state.next, !state.keeping)
        }
        if starts { Task.detached { await self.keep() } }
        return id
    }

    /// Stops watching a wait: it ended.
    func remove(_ id: UInt64) {
        state.withLock { state in _ = state.waiting.removeValue(forKey: id) }
    }

    /// Expires the waits past their deadline until none is left.
    private func keep() async {
        var last = ContinuousClock.now
        while true {
            await sleep(tick)
            let now = ContinuousClock.now
            let lost = now - last - tick
            last = now
            let (due, done) = state.withLock { state in
                if lost > .seconds(1) {
                    for (id, wait) in state.waiting { state.waiting[id]?.deadline = min(wait.deadline + lost, wait.latest) }
                }
                let due = state.waiting.filter { $0.value.deadline <= now }
                for id in due.keys { state.waiting[id] = nil }
                if state.waiting.isEmpty { state.keeping = false }
                return (due.values.map(\.expire), state.waiting.isEmpty)
            }
            for expire in due { expire() }
            if done { return }
        }
    }
}

/// No connection of the pool was granted within the deadline.
struct LeaseTimedOut: Error, CustomStringConvertible {
    var deadline: Duration
    var description: String { "no PostgreSQL connection within \(deadline)" }
}

/// One lease handed from the task holding it to the request waiting for it, or one error,
/// whichever comes first.
private final class Handoff: Sendable {
    private enum State {
        case empty
        case waiting(CheckedContinuation<PoolLease, any Error>)
        case given(PoolLease)
        case failed(any Error)
        /// The waiter has its lease or its error.
        case done
    }

    private let state = Locked(State.empty)

    /// Hands `lease` over; false when the wait has ended already (the caller ends the lease).
    func give(_ lease: PoolLease) -> Bool { settle(.success(lease)) }

    /// Ends the wait with `error`, unless it has a lease already.
    func fail(_ error: any Error) { _ = settle(.failure(error)) }

    /// Settles the wait with `outcome` if nothing settled it before; false otherwise.
    private func settle(_ outcome: Result<PoolLease, any Error>) -> Bool {
        let (waiter, settled): (CheckedContinuation<PoolLease, any Error>?, Bool) = state.withLock { state in
            switch state {
            case .empty:
                switch outcome {
                case .success(let lease): state = .given(lease)
                case .failure(let error): state = .failed(error)
                }
                return (nil, true)
            case .waiting(let waiter):
                state = .done
                return (waiter, true)
            case .given, .failed, .done:
                return (nil, false)
            }
        }
        waiter?.resume(with: outcome)
        return settled
    }

    /// The lease, or the error that came first. Called once.
    func wait() async throws -> PoolLease {
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<PoolLease, any Error>) in
            let now: Result<PoolLease, any Error>? = state.withLock { state in
                switch state {
                case .empty:
                    state = .waiting(waiter)
                    return nil
                case .given(let lease):
                    state = .done
                    return .success(lease)
                case .failed(let error):
                    state = .done
                    return .failure(error)
                case .waiting, .done:
                    preconditionFailure("a lease is waited for once")
                }
            }
            if let now { waiter.resume(with: now) }
        }
    }
}
