import LearnSyncModels
import LearnSyncProtocol

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
    private let entries = Locked<[String: Entry]>([:])

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
///
/// A username is throttled two ways. Each address that tries it has its own throttle (5 free
/// failures, then 1 s doubling up to 30 s), so guessing from one address never slows another.
/// Across addresses, the username's failures throttle every address that has not signed in to
/// it before (in the last 30 days, in this process): an attacker spreading guesses over many
/// addresses gets one guess per 30 s in all, while the owner, at an address it signed in from,
/// waits only for its own failures. A guessing attack cannot lock the owner out.
struct PasswordAttempts: Sendable {
    /// Failed sign-ins per username, for addresses it never signed in from (5 free).
    let usernames: AttemptThrottle
    /// Failed sign-ins per username and address (5 free).
    let pairs: AttemptThrottle
    /// Failed sign-ins per client address (25 free: a school behind one address shares it).
    let addresses: AttemptThrottle
    /// Sign-ups per client address (`signUps` free per 15 minutes, each counted as a "failure").
    let signUps: AttemptThrottle
    /// Guest registrations per client address (five times `signUps`).
    let guests: AttemptThrottle
    /// The addresses each username signed in from.
    let known = KnownAddresses()

    init(freeFailures: Int, signUps: Int) {
        usernames = AttemptThrottle(.init(free: freeFailures, maxDelay: 30_000))
        pairs = AttemptThrottle(.init(free: freeFailures, maxDelay: 30_000))
        addresses = AttemptThrottle(.init(free: freeFailures * 5, maxDelay: 60_000))
        self.signUps = AttemptThrottle(.init(free: signUps, maxDelay: 60_000))
        guests = AttemptThrottle(.init(free: signUps.multipliedReportingOverflow(by: 5).overflow ? .max : signUps * 5, maxDelay: 60_000))
    }

    /// Runs `check` (which returns whether the password was right) as one attempt of `username`
    /// from `address`, reserved before it runs; `check` is told whether the address is one the
    /// username signed in from. A check that gives no answer (bcrypt busy) counts as no failure.
    /// - Throws: `Problem` `rate-limited` with `retryAfter` when a key must wait.
    func attempt(username: String, address: String, now: @Sendable () -> Int64, _ check: (_ known: Bool) async throws -> Bool) async throws -> Bool {
        let start = now()
        var throttles = [(pairs, username + "\u{0}" + address), (addresses, address)]
        let isKnown = known.contains(username, address, now: start)
        if !isKnown { throttles.insert((usernames, username), at: 0) }
        for (index, (throttle, key)) in throttles.enumerated() {
            guard let wait = throttle.begin(key, now: start) else { continue }
            for (begun, key) in throttles[..<index] { begun.end(key, failed: false, now: start, forgetOnSuccess: false) }
            throw Self.limited(wait)
        }
        var answer: Bool?
        defer {
            let end = now()
            for (throttle, key) in throttles { throttle.end(key, failed: answer == false, now: end, forgetOnSuccess: throttle !== addresses) }
            if answer == true { known.insert(username, address, now: end) }
        }
        let right = try await check(isKnown)
        answer = right
        return right
    }

    /// Counts a sign-up from `address`.
    /// - Throws: `Problem` `rate-limited` when the address made too many.
    func signUp(address: String, now: Int64) throws(Problem) {
        try count(signUps, address, now)
    }

    /// Counts a guest registration from `address`.
    /// - Throws: `Problem` `rate-limited` when the address made too many.
    func registerGuest(address: String, now: Int64) throws(Problem) {
        try count(guests, address, now)
    }

    private func count(_ throttle: AttemptThrottle, _ address: String, _ now: Int64) throws(Problem) {
        if let wait = throttle.begin(address, now: now) { throw Self.limited(wait) }
        throttle.end(address, failed: true, now: now, forgetOnSuccess: false)
    }

    static func limited(_ seconds: Int) -> Problem {
        Problem(code: .rateLimited, detail: "too many attempts; try again in \(seconds) second\(seconds == 1 ? "" : "s")", retryAfter: seconds)
    }
}

/// The addresses each username signed in from lately: at most 8 per username, each for 30 days,
/// for at most 100,000 usernames (past that, the oldest are forgotten; a forgotten owner's address
/// is throttled like any other).
final class KnownAddresses: Sendable {
    static let perUsername = 8
    static let lifetime: Int64 = 30 * 24 * 3600 * 1000
    static let maxUsernames = 100_000
    private let entries = Locked<[String: [(address: String, at: Int64)]]>([:])

    func contains(_ username: String, _ address: String, now: Int64) -> Bool {
        entries.withLock { entries in
            entries[username]?.contains { $0.address == address && now - $0.at < Self.lifetime } ?? false
        }
    }

    func insert(_ username: String, _ address: String, now: Int64) {
        entries.withLock { entries in
            var list = entries[username, default: []].filter { $0.address != address && now - $0.at < Self.lifetime }
            list.append((address, now))
            if list.count > Self.perUsername { list.removeFirst(list.count - Self.perUsername) }
            entries[username] = list
            if entries.count > Self.maxUsernames {
                entries = entries.filter { $0.value.contains { now - $0.at < Self.lifetime } }
                if entries.count > Self.maxUsernames {
                    let oldest = entries.sorted { ($0.value.last?.at ?? 0) < ($1.value.last?.at ?? 0) }.prefix(entries.count / 10)
                    for (name, _) in oldest { entries[name] = nil }
                }
            }
        }
    }
}
