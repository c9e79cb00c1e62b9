import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LearnSyncModels

/// The delegate of ``URLSessionTransport``'s streaming session: it hands a 2xx answer's bytes on
/// as they arrive (``SyncTransport/openStream(_:)``), gathers any other answer whole under a
/// cap, and refuses every redirect (the request carries the learner's token).
final class StreamingAnswers: NSObject, URLSessionDataDelegate, Sendable {
    private enum Phase {
        /// Waiting for the answer's head.
        case opening(CheckedContinuation<TransportStream, any Error>)
        /// A 2xx answer: its bytes go to the stream.
        case streaming(AsyncThrowingStream<Data, any Error>.Continuation)
        /// Another answer, gathered whole.
        case gathering(HTTPURLResponse, Data, CheckedContinuation<TransportStream, any Error>)
    }

    /// The most bytes of a non-2xx answer kept (a problem is a few hundred).
    private let cap: Int
    private let tasks = Locked<[Int: Phase]>([:])

    init(cap: Int) {
        self.cap = cap
    }

    /// Runs `request` on `session` (whose delegate this is) until its answer's head arrives.
    func open(_ request: URLRequest, on session: URLSession) async throws -> TransportStream {
        let task = session.dataTask(with: request)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                tasks.withLock { $0[task.taskIdentifier] = .opening(continuation) }
                // Cancelled before the entry was there, `onCancel` found nothing to end: a
                // `stopSync()` right after `startSync()` waited for ever.
                if Task.isCancelled, case .opening(let continuation)? = tasks.withLock({ $0.removeValue(forKey: task.taskIdentifier) }) {
                    task.cancel()
                    return continuation.resume(throwing: CancellationError())
                }
                task.resume()
            }
        } onCancel: {
            task.cancel()
            // Ended here, not by URLSession's answer to the cancel, which on Linux may never
            // come: whether the head came or not, and a refusal's body is being gathered.
            let phase = tasks.withLock { tasks -> Phase? in
                switch tasks[task.taskIdentifier] {
                case .opening?, .gathering?: return tasks.removeValue(forKey: task.taskIdentifier)
                default: return nil
                }
            }
            switch phase {
            case .opening(let continuation)?, .gathering(_, _, let continuation)?: continuation.resume(throwing: CancellationError())
            default: break
            }
        }
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        let id = dataTask.taskIdentifier
        let opened: (CheckedContinuation<TransportStream, any Error>, TransportStream)? = tasks.withLock { tasks in
            guard case .opening(let continuation)? = tasks[id], let http = response as? HTTPURLResponse else { return nil }
            guard (200...299).contains(http.statusCode) else {
                tasks[id] = .gathering(http, Data(), continuation)
                return nil
            }
            let (bytes, sink) = AsyncThrowingStream<Data, any Error>.makeStream()
            sink.onTermination = { _ in dataTask.cancel() }
            tasks[id] = .streaming(sink)
            return (continuation, TransportStream(response: Self.transportResponse(http, body: Data()), bytes: bytes))
        }
        if let (continuation, stream) = opened { continuation.resume(returning: stream) }
        completionHandler(.allow)
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let id = dataTask.taskIdentifier, cap = cap
        let sink: AsyncThrowingStream<Data, any Error>.Continuation? = tasks.withLock { tasks in
            switch tasks[id] {
            case .streaming(let sink)?: return sink
            case .gathering(let response, var body, let continuation)?:
                tasks[id] = nil  // the entry holds no copy while the body grows
                body.append(data.prefix(max(0, cap - body.count)))
                tasks[id] = .gathering(response, body, continuation)
                return nil
            default: return nil
            }
        }
        sink?.yield(data)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        switch tasks.withLock({ $0.removeValue(forKey: task.taskIdentifier) }) {
        case .opening(let continuation)?:
            continuation.resume(throwing: error ?? URLError(.badServerResponse))
        case .streaming(let sink)?:
            sink.finish(throwing: error)
        case .gathering(let response, let body, let continuation)?:
            if let error {
                continuation.resume(throwing: error)
            } else {
                let (bytes, sink) = AsyncThrowingStream<Data, any Error>.makeStream()
                sink.finish()
                continuation.resume(returning: TransportStream(response: Self.transportResponse(response, body: body), bytes: bytes))
            }
        case nil:
            break
        }
    }

    private static func transportResponse(_ http: HTTPURLResponse, body: Data) -> TransportResponse {
        var headers = [String: String]()
        for case let (name as String, value as String) in http.allHeaderFields { headers[name] = value }
        return TransportResponse(status: http.statusCode, body: body, headers: headers)
    }
}
