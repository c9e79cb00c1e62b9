import LearnSyncProtocol
import Synchronization

/// Slows password guessing without locking out the right password.
///
/// Each key (a username, an address) may fail `free` times; after that every further attempt
/// waits after the last failure: 1 s, then twice as long after each failure, up to `maxDelay`
/// (`Retry-After`). So an attacker gets at most one guess per `maxDelay` per key, and the owner
/// with the right password waits at most `maxDelay`, never longer. Failures are forgotten
/// `window` after the last one; a success forgets the username's.
///
/// An attempt is counted when it *begins*, before the expensive password check, so parallel
/// guesses cannot outrun the limit: at most `free - failures` attempts of a key run at once, and
/// one at a time once it is throttled. In memory: each server process throttles on its own.
final class AttemptThrottle: Sendable {
    struct Policy: Sendable {
        var free: Int
        var maxDelay: Int64
        var window: Int64 = 15 * 60_000
    }

    private struct Entry {
        var failures = 0
        var inFlight = 0
        var lastFailure: Int64 = 0
    }

    private let policy: Policy
    private let entries = Mutex<[String: Entry]>([:])

    init(_ policy: Policy) {
        self.policy = policy
    }

    /// Reserves an attempt under `key` at `now`, or returns the seconds to wait.
    func begin(_ key: String, now: Int64) -> Int? {
        entries.withLock { entries in
            var entry = entries[key] ?? Entry()
            if entry.failures > 0, now - entry.lastFailure >= policy.window { entry.failures = 0 }
            if entry.failures >= policy.free {
                let delay = min(policy.maxDelay, 1000 << min(entry.failures - policy.free, 20))
                let wait = entry.lastFailure + delay - now
                if wait > 0 || entry.inFlight > 0 { return Int((max(wait, 1000) + 999) / 1000) }
            } else if entry.failures + entry.inFlight >= policy.free {
                return 1
            }
            entry.inFlight += 1
            entries[key] = entry
            if entries.count > 100_000 { entries = entries.filter { $0.value.inFlight > 0 || now - $0.value.lastFailure < policy.window } }
            return nil
        }
    }

    /// Ends an attempt begun under `key`: a failure counts; a success forgets the key's failures
    /// when `forgetOnSuccess`.
    func end(_ key: String, failed: Bool, now: Int64, forgetOnSuccess: Bool) {
        entries.withLock { entries in
            guard var entry = entries[key] else { return }
            entry.inFlight = max(0, entry.inFlight - 1)
            if failed {
                entry.failures += 1
                entry.lastFailure = now
            } else if forgetOnSuccess {
                entry.failures = 0
            }
            entries[key] = entry
        }
    }
}

/// The throttles of the password-checking endpoints, and the one way through them.
struct PasswordAttempts: Sendable {
    /// Failed sign-ins per username (5 free).
    let usernames: AttemptThrottle
    /// Failed sign-ins per client address (25 free: a school behind one address shares it).
    let addresses: AttemptThrottle
    /// Sign-ups per client address (`signUps` free per 15 minutes, each counted as a "failure").
    let signUps: AttemptThrottle

    init(freeFailures: Int, signUps: Int) {
        usernames = AttemptThrottle(.init(free: freeFailures, maxDelay: 30_000))
        addresses = AttemptThrottle(.init(free: freeFailures * 5, maxDelay: 60_000))
        self.signUps = AttemptThrottle(.init(free: signUps, maxDelay: 60_000))
    }

    /// Runs `check` (which returns whether the password was right) as one attempt of `username`
    /// from `address`, reserved before it runs.
    /// - Throws: `Problem` `rate-limited` with `retryAfter` when either key must wait.
    func attempt(username: String, address: String, now: @Sendable () -> Int64, _ check: () async throws -> Bool) async throws -> Bool {
        let start = now()
        if let wait = usernames.begin(username, now: start) { throw Self.limited(wait) }
        if let wait = addresses.begin(address, now: start) {
            usernames.end(username, failed: false, now: start, forgetOnSuccess: false)
            throw Self.limited(wait)
        }
        var right = false
        defer {
            let end = now()
            usernames.end(username, failed: !right, now: end, forgetOnSuccess: true)
            addresses.end(address, failed: !right, now: end, forgetOnSuccess: false)
        }
        right = try await check()
        return right
    }

    /// Counts a sign-up from `address`.
    /// - Throws: `Problem` `rate-limited` when the address made too many.
    func signUp(address: String, now: Int64) throws(Problem) {
        if let wait = signUps.begin(address, now: now) { throw Self.limited(wait) }
        signUps.end(address, failed: true, now: now, forgetOnSuccess: false)
    }

    static func limited(_ seconds: Int) -> Problem {
        Problem(code: .rateLimited, detail: "too many attempts; try again in \(seconds) seconds", retryAfter: seconds)
    }
}
