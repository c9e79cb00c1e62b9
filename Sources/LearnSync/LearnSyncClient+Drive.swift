import Foundation
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage

extension LearnSyncClient {
    /// Runs `step` under the one ``SyncStateMachine`` until it is done: every call that talks to
    /// the server goes through here (sync rounds, sign-in and sign-up, the lifecycle calls), so
    /// retries, `Retry-After` and the renewal of a guest's token follow one set of rules.
    ///
    /// `step` makes one request with the current token (nil for calls that need none) and says
    /// whether another round is needed. Only ``SyncError``s reach the machine; anything else (a
    /// `StorageError` of the device's own file) is thrown at once.
    func drive<T>(
        _ transport: any SyncTransport, token needsToken: Bool, report: inout SyncReport,
        _ step: (_ token: String?, _ report: inout SyncReport) async throws -> (value: T, more: Bool)
    ) async throws -> T {
        // Only a call that sends a token may renew it; for an account, `renewGuestToken` finds
        // nothing to renew and the 401 stands.
        var machine = SyncStateMachine(policy: retry, renewsToken: needsToken)
        var action = machine.start()
        let deadline = retry.deadline.map { ContinuousClock.now + $0 }
        var lastFailure: SyncError?
        var value: T?
        // Read once per call, not per round; a renewal replaces it.
        var token: String?
        while true {
            switch action {
            case .finish:
                guard let value else { throw SyncError(.badAnswer, "the sync finished without an answer") }
                return value
            case .fail:
                throw lastFailure ?? SyncError(.unreachable, "the server did not answer")
            case .sleep(let duration):
                if let deadline, ContinuousClock.now + duration >= deadline { throw Self.pastDeadline(retry, lastFailure) }
                report.retries += 1
                try await sleep(duration)
                action = machine.wake()
            case .renewToken:
                do {
                    token = try await renewGuestToken(transport, report: &report)
                    action = machine.receive(.renewed(token != nil))
                } catch let error as SyncError {
                    lastFailure = error
                    action = machine.receive(.permanentFailure)
                }
            case .send:
                if let deadline, ContinuousClock.now >= deadline { throw Self.pastDeadline(retry, lastFailure) }
                do {
                    if needsToken, token == nil { token = try await ensureToken(transport, report: &report) }
                    let answer = try await step(token, &report)
                    value = answer.value
                    action = machine.receive(.answered(more: answer.more))
                } catch let error as SyncError {
                    lastFailure = error
                    action = machine.receive(Self.outcome(of: error))
                }
            }
        }
    }

    /// The error of a call that reached its ``RetryPolicy/deadline`` without an answer.
    static func pastDeadline(_ retry: RetryPolicy, _ lastFailure: SyncError?) -> SyncError {
        let limit = retry.deadline.map { " within \($0.components.seconds) s" } ?? ""
        let why = lastFailure.map { ": \($0.message)" } ?? ""
        return SyncError(.unreachable, "the server did not answer\(limit)\(why)", problem: lastFailure?.problem, cause: lastFailure)
    }

    /// One request under the state machine, with the current token.
    func request<T>(_ transport: any SyncTransport, token needsToken: Bool = true, _ body: (_ token: String?) async throws -> T) async throws -> T {
        var report = SyncReport()
        return try await drive(transport, token: needsToken, report: &report) { token, _ in (try await body(token), false) }
    }

    /// What a failure means to the state machine.
    static func outcome(of error: SyncError) -> SyncStateMachine.Outcome {
        switch error.code {
        case .unreachable, .rateLimited: .transientFailure(retryAfter: error.retryAfter)
        case .unauthorized: .unauthorized
        default: .permanentFailure
        }
    }

    /// The configured transport, or ``SyncError`` `noServer`.
    func requireTransport() throws -> any SyncTransport {
        guard let transport else { throw SyncError(.noServer, "no server is configured for this device") }
        return transport
    }
}
