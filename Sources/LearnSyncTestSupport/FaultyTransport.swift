import Foundation
public import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage

/// Faults to inject, as probabilities from 0 to 1.
public struct Faults: Sendable, Hashable {
    /// The request never reaches the server.
    public var dropRequest: Double
    /// The server handles the request but the answer is lost.
    public var dropAnswer: Double
    /// The request reaches the server twice (the client sees the second answer).
    public var duplicate: Double
    /// An older request of this device arrives late, before this one (its answer is lost).
    public var reorder: Double

    public init(dropRequest: Double = 0, dropAnswer: Double = 0, duplicate: Double = 0, reorder: Double = 0) {
        self.dropRequest = dropRequest
        self.dropAnswer = dropAnswer
        self.duplicate = duplicate
        self.reorder = reorder
    }
}

/// What a ``FaultyTransport`` did.
public struct FaultCounts: Sendable, Hashable {
    public var requests = 0
    public var droppedRequests = 0
    public var droppedAnswers = 0
    public var duplicated = 0
    public var reordered = 0

    /// Every fault injected.
    public var total: Int { droppedRequests + droppedAnswers + duplicated + reordered }
}

/// The error a ``FaultyTransport`` throws for a lost request or answer.
public struct InjectedFault: Error, Sendable {}

/// Wraps a transport and loses or duplicates exchanges at random, seeded, so that tests and
/// `learnsync simulate` exercise retries and idempotency. It can also be switched offline.
public final class FaultyTransport: SyncTransport {
    private struct State {
        var generator: SeededGenerator
        var counts = FaultCounts()
        var offline = false
        var enabled = true
        var history: [TransportRequest] = []
        /// The open streams, cut when the device goes offline.
        var streams: [Int: AsyncThrowingStream<Data, any Error>.Continuation] = [:]
        var nextStream = 0
    }

    private let base: any SyncTransport
    private let faults: Faults
    private let state: Locked<State>

    public init(_ base: any SyncTransport, faults: Faults, seed: UInt64) {
        self.base = base
        self.faults = faults
        state = Locked(State(generator: SeededGenerator(seed: seed)))
    }

    /// What was injected so far.
    public var counts: FaultCounts { state.withLock { $0.counts } }

    /// While offline every request fails at once, as with no network, and open streams break.
    public func setOffline(_ offline: Bool) {
        let cut = state.withLock { state -> [AsyncThrowingStream<Data, any Error>.Continuation] in
            state.offline = offline
            guard offline else { return [] }
            defer { state.streams = [:] }
            return Array(state.streams.values)
        }
        for stream in cut { stream.finish(throwing: InjectedFault()) }
    }

    /// Opens the base transport's stream, unless offline or the request is lost (a dropped
    /// request draw); the stream breaks when the device goes offline.
    public func openStream(_ request: TransportRequest) async throws -> TransportStream {
        let lost = state.withLock { state in
            state.counts.requests += 1
            let drop = Double.random(in: 0..<1, using: &state.generator) < faults.dropRequest
            if state.offline { return true }
            if state.enabled && drop {
                state.counts.droppedRequests += 1
                return true
            }
            return false
        }
        if lost { throw InjectedFault() }
        let opened = try await base.openStream(request)
        let (bytes, sink) = AsyncThrowingStream<Data, any Error>.makeStream()
        let id = state.withLock { state -> Int? in
            guard !state.offline else { return nil }
            state.nextStream += 1
            state.streams[state.nextStream] = sink
            return state.nextStream
        }
        guard let id else { throw InjectedFault() }
        let forward = Task {
            do {
                for try await chunk in opened.bytes { sink.yield(chunk) }
                sink.finish()
            } catch {
                sink.finish(throwing: error)
            }
        }
        sink.onTermination = { [weak self] _ in
            forward.cancel()
            _ = self?.state.withLock { $0.streams.removeValue(forKey: id) }
        }
        return TransportStream(response: opened.response, bytes: bytes)
    }

    /// Turns fault injection on or off (offline still applies).
    public func setFaultsEnabled(_ enabled: Bool) { state.withLock { $0.enabled = enabled } }

    public func send(_ request: TransportRequest) async throws -> TransportResponse {
        let (offline, dropRequest, dropAnswer, duplicate, late) = state.withLock { state in
            state.counts.requests += 1
            let draws = (
                Double.random(in: 0..<1, using: &state.generator) < faults.dropRequest,
                Double.random(in: 0..<1, using: &state.generator) < faults.dropAnswer,
                Double.random(in: 0..<1, using: &state.generator) < faults.duplicate,
                Double.random(in: 0..<1, using: &state.generator) < faults.reorder)
            guard !state.offline else { return (true, false, false, false, TransportRequest?.none) }
            guard state.enabled else { return (false, false, false, false, nil) }
            var late: TransportRequest?
            if draws.3, let old = state.history.randomElement(using: &state.generator) {
                late = old
                state.counts.reordered += 1
            }
            state.history.append(request)
            if state.history.count > 8 { state.history.removeFirst() }
            if draws.0 { state.counts.droppedRequests += 1 }
            else if draws.1 { state.counts.droppedAnswers += 1 }
            else if draws.2 { state.counts.duplicated += 1 }
            return (false, draws.0, !draws.0 && draws.1, !draws.0 && !draws.1 && draws.2, late)
        }
        if offline { throw InjectedFault() }
        if let late { _ = try? await base.send(late) }
        if dropRequest { throw InjectedFault() }
        var response = try await base.send(request)
        if duplicate { response = try await base.send(request) }
        if dropAnswer { throw InjectedFault() }
        return response
    }
}
