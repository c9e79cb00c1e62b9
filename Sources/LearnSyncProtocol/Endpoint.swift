/// The protocol's endpoints, each with the one method it takes: the one definition the device,
/// the server's router and the tools use (docs/PROTOCOL.md describes each).
package enum Endpoint: String, CaseIterable, Sendable {
    case health = "/health"
    case guests = "/v1/guests"
    case sync = "/v1/sync"
    case catalog = "/v1/catalog"
    case progress = "/v1/progress"
    case accounts = "/v1/accounts"
    case sessions = "/v1/sessions"
    case signOut = "/v1/signout"
    case account = "/v1/account"
    case password = "/v1/account/password"
    case export = "/v1/export"
    case live = "/v1/live"

    /// The request path.
    package var path: String { rawValue }

    /// The HTTP method the endpoint takes; any other gets `405 method-not-allowed`.
    package var method: String {
        switch self {
        case .health, .catalog, .progress, .export, .live: "GET"
        case .account: "DELETE"
        case .guests, .sync, .accounts, .sessions, .signOut, .password: "POST"
        }
    }
}
