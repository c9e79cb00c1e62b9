@testable import LearnSync
import Testing

@Suite struct SyncStateMachineTests {
    @Test func keepsSendingWhileMoreWaitsThenFinishes() {
        var machine = SyncStateMachine()
        #expect(machine.start() == .sendRound)
        #expect(machine.receive(.answered(more: true, pending: false)) == .sendRound)
        #expect(machine.receive(.answered(more: false, pending: true)) == .sendRound)
        #expect(machine.receive(.answered(more: false, pending: false)) == .finish)
        #expect(machine.state == .finished)
    }

    @Test func backsOffExponentiallyAndGivesUp() {
        var machine = SyncStateMachine(maxAttempts: 4, baseDelay: .milliseconds(100), maxDelay: .milliseconds(250))
        _ = machine.start()
        #expect(machine.receive(.transientFailure(retryAfter: nil)) == .sleep(.milliseconds(100)))
        #expect(machine.wake() == .sendRound)
        #expect(machine.receive(.transientFailure(retryAfter: nil)) == .sleep(.milliseconds(200)))
        _ = machine.wake()
        #expect(machine.receive(.transientFailure(retryAfter: .seconds(3))) == .sleep(.seconds(3)))
        _ = machine.wake()
        #expect(machine.receive(.transientFailure(retryAfter: nil)) == .fail)
        #expect(machine.state == .failed)
    }

    @Test func aSuccessResetsTheFailureCount() {
        var machine = SyncStateMachine(maxAttempts: 2)
        _ = machine.start()
        #expect(machine.receive(.transientFailure(retryAfter: nil)) != .fail)
        _ = machine.wake()
        #expect(machine.receive(.answered(more: true, pending: false)) == .sendRound)
        #expect(machine.receive(.transientFailure(retryAfter: nil)) != .fail)
    }

    @Test func stopsAtOnceOnAPermanentFailure() {
        var machine = SyncStateMachine()
        _ = machine.start()
        #expect(machine.receive(.permanentFailure) == .fail)
    }
}
