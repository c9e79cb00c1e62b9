import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

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
        var continuation: CheckedContinuation<(Data, URLResponse), any Error>
    }

    private let downloads = Mutex<[Int: Download]>([:])

    /// Runs `request` on `session` (whose delegate this is) and returns its answer, or throws
    /// `URLError(.dataLengthExceedsMaximum)` once the answer passes `cap` bytes.
    func data(for request: URLRequest, cap: Int, on session: URLSession) async throws -> (Data, URLResponse) {
        let task = session.dataTask(with: request)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                downloads.withLock { $0[task.taskIdentifier] = Download(cap: cap, continuation: continuation) }
                task.resume()
            }
        } onCancel: {
            task.cancel()
        }
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        downloads.withLock { $0[dataTask.taskIdentifier]?.response = response }
        completionHandler(.allow)
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
        let overCap = downloads.withLock { downloads -> Bool in
            guard let (cap, gathered, tooLarge) = downloads[id].map({ ($0.cap, $0.data.count, $0.tooLarge) }), !tooLarge else { return false }
            if gathered + data.count > cap {
                downloads[id]!.tooLarge = true
                downloads[id]!.data = Data()
                return true
            }
            downloads[id]!.data.append(data)
            return false
        }
        if overCap { dataTask.cancel() }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        guard let download = downloads.withLock({ $0.removeValue(forKey: task.taskIdentifier) }) else { return }
        if download.tooLarge {
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
