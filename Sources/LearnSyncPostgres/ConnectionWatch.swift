import LearnSyncModels
import PostgresNIO

/// The statements waiting for a first answer on one connection, failed together with
/// ``ConnectionLost`` when the connection closes (``StoreConnection``'s `unlessClosed`).
///
/// One close callback per connection, registered when the store first leases it: a callback per
/// statement would pile up on a connection that lives for millions of them.
final class ConnectionWatch: Sendable {
    private struct State {
        var closed = false
        var next: UInt64 = 0
        var waiting: [UInt64: @Sendable () -> Void] = [:]
    }

    private let state = Locked(State())

    /// Watches `connection`; `closed` runs once it closes (the store forgets the watch).
    init(_ connection: PostgresConnection, closed: @escaping @Sendable () -> Void) {
        connection.closeFuture.whenComplete { [self] _ in
            let failing = state.withLock { state in
                state.closed = true
                defer { state.waiting = [:] }
                return Array(state.waiting.values)
            }
            for fail in failing { fail() }
            closed()
        }
    }

    /// Registers `fail`, run if the connection closes before ``unregister(_:)``; nil when it
    /// closed already.
    func register(_ fail: @escaping @Sendable () -> Void) -> UInt64? {
        state.withLock { state in
            guard !state.closed else { return nil }
            state.next += 1
            state.waiting[state.next] = fail
            return state.next
        }
    }

    func unregister(_ id: UInt64) {
        state.withLock { state in _ = state.waiting.removeValue(forKey: id) }
    }
}

/// The connections a store leased, each with its ``ConnectionWatch``.
final class ConnectionWatches: Sendable {
    private let watches = Locked<[ObjectIdentifier: ConnectionWatch]>([:])

    /// `connection`'s watch, made on its first lease.
    func watch(_ connection: PostgresConnection) -> ConnectionWatch {
        let key = ObjectIdentifier(connection)
        if let watch = watches.withLock({ $0[key] }) { return watch }
        let watch = ConnectionWatch(connection) { [weak self] in self?.forget(key) }
        return watches.withLock { known in
            if let other = known[key] { return other }
            known[key] = watch
            return watch
        }
    }

    private func forget(_ key: ObjectIdentifier) {
        watches.withLock { _ = $0.removeValue(forKey: key) }
    }
}
