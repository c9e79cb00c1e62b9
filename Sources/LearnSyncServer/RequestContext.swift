package import Hummingbird
package import NIOCore
import Logging

/// The server's request context: Hummingbird's basics plus the peer address, which the sign-in
/// rate limit counts by.
package struct LearnSyncRequestContext: RequestContext, RemoteAddressRequestContext {
    package var coreContext: CoreRequestContextStorage
    package let remoteAddress: SocketAddress?

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        // Hummingbird's id counts up from a random start, so two answers' ids would tell how many
        // requests the server took between them: each request gets 128 random bits instead.
        logger[metadataKey: "hb.request.id"] = .string(Self.randomID())
    }

    /// 32 hexadecimal digits from the system's random generator.
    static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = String(generator.next() as UInt64, radix: 16), low = String(generator.next() as UInt64, radix: 16)
        return String(repeating: "0", count: 16 - high.count) + high + String(repeating: "0", count: 16 - low.count) + low
    }

    /// The peer's IP address, or "unknown".
    var addressKey: String { remoteAddress?.ipAddress ?? "unknown" }
}
