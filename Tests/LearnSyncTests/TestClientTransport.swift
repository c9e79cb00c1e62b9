import HummingbirdTesting
import LearnSync
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol
import LearnSyncStorage
import Foundation
import Hummingbird
import HTTPTypes

/// A ``SyncTransport`` over Hummingbird's test client: the real router, in process, no sockets.
///
/// ```swift
/// try await app.test(.router) { client in
///     let device = LearnSyncClient(store: store, transport: TestClientTransport(client))
///     try await device.sync()
/// }
/// ```
struct TestClientTransport: SyncTransport {
    let client: any TestClientProtocol

    init(_ client: any TestClientProtocol) {
        self.client = client
    }

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        var headers = HTTPFields()
        for (name, value) in request.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        let response = try await client.executeRequest(
            uri: request.path, method: HTTPRequest.Method(rawValue: request.method) ?? .post, headers: headers,
            body: ByteBuffer(bytes: request.body))
        var answerHeaders = [String: String]()
        for field in response.headers { answerHeaders[field.name.canonicalName] = field.value }
        return TransportResponse(status: Int(response.status.code), body: Data(response.body.readableBytesView), headers: answerHeaders)
    }
}
