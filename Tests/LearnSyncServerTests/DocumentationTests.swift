import Foundation
import LearnSyncProtocol
import LearnSyncTesting
import Testing

/// docs/openapi.yaml and docs/PROTOCOL.md name every endpoint, problem code and rejection code
/// the server uses.
@Suite struct DocumentationTests {
    static let docs = Fixtures.repository.appendingPathComponent("docs")
    static let endpoints = [
        "/health", "/v1/guests", "/v1/sync", "/v1/accounts", "/v1/sessions", "/v1/signout", "/v1/catalog", "/v1/progress",
        "/v1/account", "/v1/account/password", "/v1/export",
    ]

    @Test(arguments: ["openapi.yaml", "PROTOCOL.md"])
    func documentsEveryEndpointAndCode(_ file: String) throws {
        let text = try String(contentsOf: Self.docs.appendingPathComponent(file), encoding: .utf8)
        for endpoint in Self.endpoints { #expect(text.contains(endpoint), "\(file) lacks \(endpoint)") }
        for code in ProblemCode.allCases {
            #expect(text.contains(code.rawValue), "\(file) lacks problem \(code.rawValue)")
        }
        for code in RejectionCode.allCases {
            #expect(text.contains(code.rawValue), "\(file) lacks rejection \(code.rawValue)")
        }
    }
}
