import Foundation
import LearnSyncSQLite
import HTTPTypes
package import Hummingbird
import LearnSyncProtocol
import Logging
import NIOCore
import NIOHTTP1

/// Turns every error into an RFC 9457 problem answer (`application/problem+json`), logs the
/// request's outcome without tokens, passwords or bodies, and names the request in an
/// `X-Request-ID` header: the `hb.request.id` its log lines carry. Every answer says
/// `Cache-Control: no-store`: they hold a learner's progress, tokens or account, and no shared or
/// browser cache may keep them.
package struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The methods each endpoint takes, so that another method gets 405 with `Allow`.
    let allowed: [String: [HTTPRequest.Method]]

    package init() { allowed = [:] }

    init(allowed: [String: [HTTPRequest.Method]]) { self.allowed = allowed }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await answer(request, context: context, next: next)
        // The id every log line of this request carries (`hb.request.id`), for support.
        response.headers[.xRequestID] = context.id
        response.headers[.cacheControl] = "no-store"
        return response
    }

    private func answer(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            context.logger.debug("request", metadata: ["method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(response.status.code)"])
            return response
        } catch {
            var problem = Self.problem(for: error)
            if problem.knownCode == .notFound, let methods = allowed[request.uri.path], !methods.contains(request.method) {
                problem = Problem(code: .methodNotAllowed, detail: "\(request.uri.path) takes \(methods.map(\.rawValue).joined(separator: ", "))")
                var response = Self.response(problem)
                response.headers[.allow] = methods.map(\.rawValue).joined(separator: ", ")
                context.logger.info("request refused", metadata: ["path": "\(request.uri.path)", "problem": "\(problem.code)"])
                return response
            }
            if problem.status >= 500 {
                context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(type(of: error))"])
            } else {
                context.logger.info("request refused", metadata: ["path": "\(request.uri.path)", "problem": "\(problem.code)"])
            }
            return Self.response(problem)
        }
    }

    static func problem(for error: any Error) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case is HTTPParserError:
            // The body ended before its Content-Length (or its chunks) did, or did not parse: the
            // client's fault, never the server's.
            return Problem(code: .invalidRequest, detail: "the request's body ended early or is not valid HTTP")
        case is NIOTooManyBytesError:
            // A body sent without Content-Length (chunked) that grew past the limit while read.
            return Problem(code: .bodyTooLarge, detail: "the body must be at most \(ProtocolLimits.maxBodyBytes) bytes")
        case let error as HTTPError where error.status == .contentTooLarge:
            return Problem(code: .bodyTooLarge, detail: "the body must be at most \(ProtocolLimits.maxBodyBytes) bytes")
        case let error as HTTPError where error.status == .notFound:
            return Problem(code: .notFound, detail: "no such endpoint")
        case let error as HTTPError where error.status == .methodNotAllowed:
            return Problem(code: .methodNotAllowed, detail: "this endpoint does not take this method")
        case let error where DiskFailure(error) != nil:
            // The transaction was rolled back: nothing of the request is stored or acknowledged,
            // and the same request succeeds once the disk has room or works again.
            let cause = DiskFailure(error) == .full ? "the server's disk is full" : "the server's disk failed to write"
            return Problem(code: .storageFailed, detail: "\(cause); nothing of this request was stored, try again later", retryAfter: 30)
        case is StoreUnreachable:
            // A connection that closed under the request may have taken a commit's answer with it:
            // the request may be stored. A push sent again is stored once.
            return Problem(code: .storageFailed, detail: "the server's database cannot be reached; this request may not have been stored, try again later", retryAfter: 5)
        default:
            return Problem(code: .internalError, detail: "the server could not complete the request")
        }
    }

    static func response(_ problem: Problem) -> Response {
        let body = (try? JSONEncoder().encode(problem)) ?? Data()
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if let retryAfter = problem.retryAfter { headers[.retryAfter] = "\(retryAfter)" }
        // RFC 7694: the codings a request body may use instead.
        if problem.knownCode == .unsupportedEncoding { headers[.acceptEncoding] = ContentCoding.accepted }
        return Response(
            status: HTTPResponse.Status(code: problem.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension HTTPField.Name {
    static let xRequestID = Self("X-Request-ID")!
}
