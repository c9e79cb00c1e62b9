public import Hummingbird
public import NIOCore

/// The server's request context: Hummingbird's basics plus the peer address, which the sign-in
/// rate limit counts by.
public struct LearnSyncRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The peer's IP address, or "unknown".
    var addressKey: String { remoteAddress?.ipAddress ?? "unknown" }
}
