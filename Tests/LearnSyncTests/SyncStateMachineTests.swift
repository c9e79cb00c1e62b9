@testable import LearnSync
import Testing

/// Every transition of the one state machine behind sync, sign-in and token renewal.
@Suite struct SyncStateMachineTests {
    let policy = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(100), maxDelay: .milliseconds(250))

    @Test func keepsSendingWhileMoreWaitsThenFinishes() {
        var machine = SyncStateMachine()
        #expect(machine.start() == .send)
        #expect(machine.receive(.answered(more: true)) == .send)
        #expect(machine.rounds == 2)
        #expect(machine.receive(.answered(more: false)) == .finish)
        #expect(machine.state == .finished)
        #expect(machine.receive(.answered(more: true)) == .finish, "a finished run stays finished")
    }

    @Test func backsOffExponentiallyUpToTheCapAndGivesUp() {
        var machine = SyncStateMachine(policy: policy)
        _ = machine.start()
        #expect(machine.receive(.transientFailure(retryAfter: nil)) == .sleep(.milliseconds(100)))
        #expect(machine.state == .sleeping(failures: 1))
        #expect(machine.wake() == .send)
        #expect(machine.receive(.transientFailure(retryAfter: nil)) == .sleep(.milliseconds(200)))
        _ = machine.wake()
        #expect(machine.receive(.transientFailure(retryAfter: nil)) == .sleep(.milliseconds(250)))
        _ = machine.wake()
        #expect(machine.receive(.transientFailure(retryAfter: nil)) == .fail)
        #expect(machine.state == .failed)
    }

    @Test func waitsAtLeastTheServersRetryAfterButNotBeyondTheCap() {
        var machine = SyncStateMachine(policy: policy)
        _ = machine.start()
        #expect(machine.receive(.transientFailure(retryAfter: .milliseconds(240))) == .sleep(.milliseconds(240)))
        _ = machine.wake()
        #expect(machine.receive(.transientFailure(retryAfter: .seconds(30))) == .fail, "a wait beyond maxDelay is the caller's to decide")
    }

    @Test func aSuccessResetsTheFailureCount() {
        var machine = SyncStateMachine(policy: RetryPolicy(maxAttempts: 2))
        _ = machine.start()
        #expect(machine.receive(.transientFailure(retryAfter: nil)) != .fail)
        _ = machine.wake()
        #expect(machine.receive(.answered(more: true)) == .send)
        #expect(machine.receive(.transientFailure(retryAfter: nil)) != .fail)
    }

    @Test func aGuestsRefusedTokenIsRenewedOnce() {
        var machine = SyncStateMachine(renewsToken: true)
        _ = machine.start()
        #expect(machine.receive(.unauthorized) == .renewToken)
        #expect(machine.state == .renewing)
        #expect(machine.receive(.renewed(true)) == .send)
        #expect(machine.receive(.unauthorized) == .fail, "only once per run")
    }

    @Test func aFailedRenewalFails() {
        var renewalRefused = SyncStateMachine(renewsToken: true)
        _ = renewalRefused.start()
        _ = renewalRefused.receive(.unauthorized)
        #expect(renewalRefused.receive(.renewed(false)) == .fail)
        var renewalUnanswered = SyncStateMachine(renewsToken: true)
        _ = renewalUnanswered.start()
        _ = renewalUnanswered.receive(.unauthorized)
        #expect(renewalUnanswered.receive(.permanentFailure) == .fail)
    }

    @Test func anAccountsRefusedTokenOrPasswordFailsAtOnce() {
        var machine = SyncStateMachine(renewsToken: false)
        _ = machine.start()
        #expect(machine.receive(.unauthorized) == .fail)
    }

    @Test func stopsAtOnceOnAPermanentFailure() {
        var machine = SyncStateMachine()
        _ = machine.start()
        #expect(machine.receive(.permanentFailure) == .fail)
    }

    @Test func outcomesOutOfTurnFail() {
        var machine = SyncStateMachine()
        #expect(machine.wake() == .fail, "waking without sleeping")
        var sending = SyncStateMachine()
        _ = sending.start()
        #expect(sending.receive(.renewed(true)) == .fail, "a renewal nobody asked for")
    }

    @Test func aMisbehavingServerCannotKeepTheDeviceLooping() {
        var machine = SyncStateMachine()
        machine.maxRounds = 3
        _ = machine.start()
        #expect(machine.receive(.answered(more: true)) == .send)
        #expect(machine.receive(.answered(more: true)) == .send)
        #expect(machine.receive(.answered(more: true)) == .fail)
    }
}
