import Foundation
public import Hummingbird
import LearnSyncProtocol
import Logging

/// Turns every error into an RFC 9457 problem answer (`application/problem+json`) and logs the
/// request's outcome without tokens, passwords or bodies.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            context.logger.debug("request", metadata: ["method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(response.status.code)"])
            return response
        } catch {
            let problem = Self.problem(for: error)
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
        case let error as HTTPError where error.status == .contentTooLarge:
            return Problem(code: .bodyTooLarge, detail: "the body must be at most \(ProtocolLimits.maxBodyBytes) bytes")
        case let error as HTTPError where error.status == .notFound:
            return Problem(code: .notFound, detail: "no such endpoint")
        case let error as HTTPError where error.status == .methodNotAllowed:
            return Problem(code: .notFound, detail: "no such endpoint for this method")
        default:
            return Problem(code: .internalError, detail: "the server could not complete the request")
        }
    }

    static func response(_ problem: Problem) -> Response {
        let body = (try? JSONEncoder().encode(problem)) ?? Data()
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if let retryAfter = problem.retryAfter { headers[.retryAfter] = "\(retryAfter)" }
        return Response(
            status: HTTPResponse.Status(code: problem.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
