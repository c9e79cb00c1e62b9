import LearnSyncModels
import Crypto
import Foundation
import HummingbirdBcrypt
import LearnSyncProtocol
import NIOPosix

/// Runs bcrypt off the event loops, on NIO's shared thread pool, at most `concurrency` at once
/// with at most `queue` more waiting; beyond that a request is refused `rate-limited` at once.
/// A flood of sign-ins and sign-ups then costs a bounded share of the CPU, and syncs and health
/// checks keep their latency. A check marked `priority` (the owner's, from an address it signed in
/// from) is never refused for the queue: it waits ahead of the others. Passwords are hashed and checked in ``PasswordRule``'s NFC form.
final class PasswordHasher: Sendable {
    let cost: UInt8
    private let gate: Gate

    init(cost: UInt8, concurrency: Int, queue: Int) {
        self.cost = cost
        gate = Gate(limit: concurrency, queue: queue)
    }

    /// Marks hashes of the pre-hashed form; older hashes are bcrypt of the password itself.
    static let scheme = "sha256-bcrypt:"

    func hash(_ password: String) async throws -> String {
        let cost = cost, input = Self.prehash(password)
        return try await gate.run { Self.scheme + Bcrypt.hash(input, cost: cost) }
    }

    /// Whether `password` matches `hash`; with no hash, checks against `decoy` so that an
    /// unknown username takes as long as a known one, and answers false.
    func verify(_ password: String, hash: String?, decoy: String, priority: Bool = false) async throws -> Bool {
        let stored = hash ?? decoy
        let input = stored.hasPrefix(Self.scheme) ? Self.prehash(password) : PasswordRule.normalized(password)
        let bcrypt = String(stored.dropFirst(stored.hasPrefix(Self.scheme) ? Self.scheme.count : 0))
        let verified = try await gate.run(priority: priority) { Bcrypt.verify(input, hash: bcrypt) }
        return hash != nil && verified
    }

    /// What bcrypt hashes: base64 of SHA-256 of the NFC form, 44 bytes, so no password is cut
    /// at bcrypt's 72 and none carries a NUL.
    static func prehash(_ password: String) -> String {
        Data(SHA256.hash(data: Data(PasswordRule.normalized(password).utf8))).base64EncodedString()
    }

    /// Admits at most `limit` jobs at once and `queue` waiting; priority jobs wait ahead of the
    /// others, and are never refused (the throttles bound how many there are).
    final class Gate: Sendable {
        private struct State {
            var running = 0
            var waiting: [CheckedContinuation<Void, Never>] = []
            var waitingFirst: [CheckedContinuation<Void, Never>] = []
        }

        private let limit: Int
        private let queue: Int
        private let state = Locked(State())

        init(limit: Int, queue: Int) {
            self.limit = max(1, limit)
            self.queue = queue
        }

        func run<T: Sendable>(priority: Bool = false, _ job: @escaping @Sendable () -> T) async throws -> T {
            try await enter(priority: priority)
            defer { leave() }
            return try await NIOThreadPool.singleton.runIfActive(job)
        }

        private func enter(priority: Bool) async throws(Problem) {
            enum Admission { case now, wait, refuse }
            let admission = state.withLock { state -> Admission in
                if state.running < limit {
                    state.running += 1
                    return .now
                }
                return priority || state.waiting.count < queue ? .wait : .refuse
            }
            switch admission {
            case .now: return
            case .refuse: throw Problem(code: .rateLimited, detail: "the server is busy checking passwords; try again in 1 second", retryAfter: 1)
            case .wait:
                await withCheckedContinuation { continuation in
                    let admitted = state.withLock { state -> Bool in
                        if state.running < limit {
                            state.running += 1
                            return true
                        }
                        if priority { state.waitingFirst.append(continuation) } else { state.waiting.append(continuation) }
                        return false
                    }
                    if admitted { continuation.resume() }
                }
            }
        }

        /// Hands the slot to the first waiter, or frees it.
        private func leave() {
            let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if !state.waitingFirst.isEmpty { return state.waitingFirst.removeFirst() }
                guard !state.waiting.isEmpty else {
                    state.running -= 1
                    return nil
                }
                return state.waiting.removeFirst()
            }
            next?.resume()
        }
    }
}
