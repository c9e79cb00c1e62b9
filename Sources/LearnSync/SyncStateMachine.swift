/// The sync loop's decisions, free of I/O: the owner (``LearnSyncClient``) performs the actions
/// and feeds the outcomes back.
///
/// ```
/// start ─▶ send round ─▶ answer: more or outbox not empty ─▶ send round
///                     ├▶ answer: all done ─────────────────▶ finish
///                     ├▶ no answer / 5xx / 429 ─▶ sleep (exponential backoff) ─▶ send round
///                     │                        └▶ after maxAttempts ─▶ fail(unreachable)
///                     └▶ 401 ─▶ fail(unauthorized);  other 4xx ─▶ fail(refused)
/// ```
struct SyncStateMachine {
    enum State: Equatable {
        case idle
        case sending(failures: Int)
        case finished
        case failed
    }

    enum Outcome {
        /// An answer was stored; `more` when the server has more to pull, `pending` when the
        /// outbox still holds events.
        case answered(more: Bool, pending: Bool)
        /// No usable answer (transport error, 5xx, 429); `retryAfter` from the server, if any.
        case transientFailure(retryAfter: Duration?)
        /// A final refusal.
        case permanentFailure
    }

    enum Action: Equatable {
        case sendRound
        case sleep(Duration)
        case finish
        case fail
    }

    /// How many failed tries in a row before giving up.
    var maxAttempts: Int = 5
    var baseDelay: Duration = .milliseconds(200)
    var maxDelay: Duration = .seconds(10)
    /// A bound on rounds, so a misbehaving server cannot keep a device looping.
    var maxRounds: Int = 100_000

    private(set) var state: State = .idle
    private(set) var rounds = 0

    mutating func start() -> Action {
        state = .sending(failures: 0)
        rounds = 1
        return .sendRound
    }

    mutating func receive(_ outcome: Outcome) -> Action {
        guard case .sending(let failures) = state else { return state == .finished ? .finish : .fail }
        switch outcome {
        case .answered(let more, let pending):
            guard more || pending else {
                state = .finished
                return .finish
            }
            guard rounds < maxRounds else {
                state = .failed
                return .fail
            }
            rounds += 1
            state = .sending(failures: 0)
            return .sendRound
        case .transientFailure(let retryAfter):
            guard failures + 1 < maxAttempts else {
                state = .failed
                return .fail
            }
            state = .sending(failures: failures + 1)
            let backoff = min(baseDelay * (1 << failures), maxDelay)
            return .sleep(max(backoff, retryAfter ?? .zero))
        case .permanentFailure:
            state = .failed
            return .fail
        }
    }

    /// Called after a sleep: try the round again.
    mutating func wake() -> Action {
        rounds += 1
        return .sendRound
    }
}
