import LearnSyncModels
/// The one state machine behind every call that talks to the server: a sync's rounds, a sign-in
/// or sign-up, and the renewal of a guest's token. It decides; ``LearnSyncClient`` performs the
/// actions and feeds the outcomes back (`LearnSyncClient.drive`).
///
/// ```
/// start ─▶ send ─▶ answered, more to do ─────────────────▶ send
///               ├▶ answered, done ───────────────────────▶ finish
///               ├▶ no answer, 5xx, 429 ─▶ sleep (backoff, or the server's Retry-After) ─▶ send
///               │                      └▶ after maxAttempts, or Retry-After > maxDelay ─▶ fail
///               ├▶ 401 on a call with a token ───────────▶ renewToken ─▶ renewed ─▶ send
///               │                                                    └▶ renewal failed ─▶ fail
///               └▶ 401 again or otherwise; any other refusal ─▶ fail
/// ```
struct SyncStateMachine {
    enum State: Equatable {
        case idle
        case sending(failures: Int)
        case sleeping(failures: Int)
        case renewing
        case finished
        case failed
    }

    enum Outcome: Equatable {
        /// An answer was stored; `more` when another round is needed (more to pull, the outbox
        /// not empty, a new replica id).
        case answered(more: Bool)
        /// No usable answer (no answer, 5xx, 429); `retryAfter` when the server said how long.
        case transientFailure(retryAfter: Duration?)
        /// The token was refused (401).
        case unauthorized
        /// A final refusal.
        case permanentFailure
        /// The renewal asked for by ``Action/renewToken`` stored a new token, or could not.
        case renewed(Bool)
    }

    enum Action: Equatable {
        case send
        case sleep(Duration)
        case renewToken
        case finish
        case fail
    }

    let policy: RetryPolicy
    /// Whether a refused token may be renewed (once per run): true for calls that send a token.
    /// Only a guest's can be (by registering again with the device secret); for an account the
    /// renewal reports `renewed(false)` and the run fails. A sign-in's 401 is a wrong password.
    let renewsToken: Bool
    /// A bound on rounds, so a misbehaving server cannot keep a device looping.
    var maxRounds = 100_000

    private(set) var state: State = .idle
    private(set) var rounds = 0
    private var renewedOnce = false

    init(policy: RetryPolicy = RetryPolicy(), renewsToken: Bool = false) {
        self.policy = policy
        self.renewsToken = renewsToken
    }

    mutating func start() -> Action {
        rounds = 1
        return send(failures: 0)
    }

    mutating func receive(_ outcome: Outcome) -> Action {
        switch (state, outcome) {
        case (.sending, .answered(let more)):
            guard more else { return finish() }
            guard rounds < maxRounds else { return fail() }
            rounds += 1
            return send(failures: 0)
        case (.sending(let failures), .transientFailure(let retryAfter)):
            guard failures + 1 < policy.maxAttempts else { return fail() }
            if let retryAfter, retryAfter > policy.maxDelay { return fail() }
            state = .sleeping(failures: failures + 1)
            let backoff = Duration.backoff(after: failures + 1, base: policy.baseDelay, maximum: policy.maxDelay)
            return .sleep(max(backoff, retryAfter ?? .zero))
        case (.sending, .unauthorized):
            guard renewsToken, !renewedOnce else { return fail() }
            renewedOnce = true
            state = .renewing
            return .renewToken
        case (.renewing, .renewed(let stored)):
            return stored ? send(failures: 0) : fail()
        case (.sending, .permanentFailure), (.renewing, .permanentFailure), (.renewing, .transientFailure), (.renewing, .unauthorized):
            return fail()
        case (.finished, _):
            return .finish
        default:
            return fail()
        }
    }

    /// Called after a sleep: try again.
    mutating func wake() -> Action {
        guard case .sleeping(let failures) = state else { return fail() }
        rounds += 1
        return send(failures: failures)
    }

    private mutating func send(failures: Int) -> Action {
        state = .sending(failures: failures)
        return .send
    }

    private mutating func finish() -> Action {
        state = .finished
        return .finish
    }

    private mutating func fail() -> Action {
        state = .failed
        return .fail
    }
}
