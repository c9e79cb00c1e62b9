import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LearnSyncModels

/// The delegate of ``URLSessionTransport``'s session: it gathers each answer's bytes and cancels
/// a task whose answer passes its cap. URLSession decodes gzip answers itself, before any
/// caller sees them, so a cap on what `data(for:)` returns would come too late: a small body
/// can decode to gigabytes. It also refuses every redirect.
final class CappedDownloads: NSObject, URLSessionDataDelegate, Sendable {
    private struct Download {
        var cap: Int
        var data = Data()
        var response: URLResponse?
        var tooLarge = false
        /// Where a successful answer's body goes instead of `data` (a download to a file), and
        /// the bytes written there.
        var file: URL?
        var sink: FileHandle?
        var written = 0
        var failure: (any Error)?
        var continuation: CheckedContinuation<(Data, URLResponse), any Error>
    }

    private let downloads = Locked<[Int: Download]>([:])

    /// Runs `request` on `session` (whose delegate this is) and returns its answer, or throws
    /// `URLError(.dataLengthExceedsMaximum)` once the answer passes `cap` bytes.
    func data(for request: URLRequest, cap: Int, on session: URLSession) async throws -> (Data, URLResponse) {
        try await run(request, cap: cap, file: nil, on: session)
    }

    /// Runs `request` on `session` and writes a successful (2xx) answer's body to `file` (created
    /// 0600, or replaced) as it arrives; an answer of another status is returned in memory. Throws
    /// `URLError(.dataLengthExceedsMaximum)` once the answer passes `cap` bytes.
    func download(_ request: URLRequest, to file: URL, cap: Int, on session: URLSession) async throws -> (Data, URLResponse) {
        try await run(request, cap: cap, file: file, on: session)
    }

    private func run(_ request: URLRequest, cap: Int, file: URL?, on session: URLSession) async throws -> (Data, URLResponse) {
        let task = session.dataTask(with: request)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                downloads.withLock { $0[task.taskIdentifier] = Download(cap: cap, file: file, continuation: continuation) }
                // Cancelled before the entry was there, `onCancel` found nothing to end.
                if Task.isCancelled, let download = downloads.withLock({ $0.removeValue(forKey: task.taskIdentifier) }) {
                    task.cancel()
                    return download.continuation.resume(throwing: CancellationError())
                }
                task.resume()
            }
        } onCancel: {
            task.cancel()
            // Ended here, not by URLSession's answer to the cancel: a deadline must end the call
            // whatever the session does after it.
            downloads.withLock { $0.removeValue(forKey: task.taskIdentifier) }?.continuation.resume(throwing: CancellationError())
        }
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        let failed = downloads.withLock { downloads -> Bool in
            let id = dataTask.taskIdentifier
            downloads[id]?.response = response
            guard let file = downloads[id]?.file, let status = (response as? HTTPURLResponse)?.statusCode, (200...299).contains(status) else {
                return false
            }
            do {
                try PrivateFile.replace(file.path, with: Data())
                downloads[id]?.sink = try FileHandle(forWritingTo: file)
                return false
            } catch {
                downloads[id]?.failure = error
                return true
            }
        }
        completionHandler(failed ? .cancel : .allow)
    }

    /// Follows no redirect: the request carries the learner's bearer token, which must reach the
    /// configured server only. The redirect itself becomes the answer, which the client refuses
    /// as an unexpected status.
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        // In place (`downloads[id]!.…`): a copy of the entry would copy the bytes gathered so
        // far on every chunk.
        let id = dataTask.taskIdentifier
        let stop = downloads.withLock { downloads -> Bool in
            // Scalars only: a copy of the entry would share its bytes, and the append below would
            // then copy all of them (quadratic in the answer's size).
            guard let (gathered, cap, sink, blocked) = downloads[id].map({ ($0.written + $0.data.count, $0.cap, $0.sink, $0.tooLarge || $0.failure != nil) }),
                  !blocked
            else { return false }
            if gathered + data.count > cap {
                downloads[id]!.tooLarge = true
                downloads[id]!.data = Data()
                return true
            }
            if let sink {
                do {
                    try sink.write(contentsOf: data)
                    downloads[id]!.written += data.count
                } catch {
                    downloads[id]!.failure = error
                    return true
                }
            } else {
                downloads[id]!.data.append(data)
            }
            return false
        }
        if stop { dataTask.cancel() }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        guard let download = downloads.withLock({ $0.removeValue(forKey: task.taskIdentifier) }) else { return }
        if let sink = download.sink {
            do {
                try sink.synchronize()
                try sink.close()
            } catch {
                download.continuation.resume(throwing: error)
                return
            }
        }
        if let failure = download.failure {
            download.continuation.resume(throwing: failure)
        } else if download.tooLarge {
            download.continuation.resume(throwing: URLError(.dataLengthExceedsMaximum))
        } else if let error {
            download.continuation.resume(throwing: error)
        } else if let response = download.response {
            download.continuation.resume(returning: (download.data, response))
        } else {
            download.continuation.resume(throwing: URLError(.badServerResponse))
        }
    }
}
