import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Metrics
import Prometheus
import Synchronization

/// Where the server's metrics are published: Prometheus's text format at `GET /metrics` on a
/// listener of its own (keep it off the public network: it counts requests, not learners). The
/// listener has the API's head and body deadlines, at most ``maxConnections`` connections and
/// 4 per address, so slow clients of it cannot take the process's file descriptors.
///
/// Published: Hummingbird's request counters and duration histograms per route
/// (`http_server_request_duration_seconds`, ...), sync rounds, events accepted, refused (by
/// reason) and pulled, failed sign-ins, throttled password checks, and the store's time per sync;
/// on PostgreSQL, the pushes by path and the connection pool's use. Durations are histograms
/// with buckets from 100 µs to 10 s.
public struct MetricsExport: Sendable {
    /// The address and port of the metrics listener.
    public var host: String
    public var port: Int
    let registry: PrometheusCollectorRegistry
    /// Most connections the metrics listener holds at once.
    public static let maxConnections = 16

    /// Makes Prometheus this process's swift-metrics backend (once; later calls share it) and
    /// returns where to publish it.
    public static func prometheus(host: String = "127.0.0.1", port: Int) -> MetricsExport {
        MetricsExport(host: host, port: port, registry: bootstrapped)
    }

    private static let bootstrapped: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // From 100 µs: a sync, and a PostgreSQL statement, take well under the default's first 5 ms.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// The metrics listener: `GET /metrics` only.
    func application(
        headTimeout: TimeAmount, bodyTimeout: TimeAmount, logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/metrics") { [registry] _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        let counts = ConnectionCounts(limit: 4)
        return Application(
            router: router,
            server: .http1(configuration: .init(
                additionalChannelHandlers: [AddressConnectionCap(counts), RequestDeadlineHandler(headTimeout: headTimeout, bodyTimeout: bodyTimeout)],
                idleTimeout: headTimeout + bodyTimeout)),
            configuration: .init(
                address: .hostname(host, port: port), serverName: "learnsync-metrics",
                availableConnectionsDelegate: MaximumAvailableConnections(Self.maxConnections)),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }
}
