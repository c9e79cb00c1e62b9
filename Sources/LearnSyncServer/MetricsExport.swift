import Hummingbird
import Logging
import Metrics
import Prometheus
import Synchronization

/// Where the server's metrics are published: Prometheus's text format at `GET /metrics` on a
/// listener of its own (keep it off the public network: it counts requests, not learners).
///
/// Published: Hummingbird's request counters and duration histograms per route
/// (`http_server_request_duration_seconds`, ...), sync rounds, events accepted, refused (by
/// reason) and pulled, failed sign-ins, throttled password checks, and the store's time per sync.
public struct MetricsExport: Sendable {
    /// The address and port of the metrics listener.
    public var host: String
    public var port: Int
    let registry: PrometheusCollectorRegistry

    /// Makes Prometheus this process's swift-metrics backend (once; later calls share it) and
    /// returns where to publish it.
    public static func prometheus(host: String = "127.0.0.1", port: Int) -> MetricsExport {
        MetricsExport(host: host, port: port, registry: bootstrapped)
    }

    private static let bootstrapped: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    /// The metrics listener: `GET /metrics` only.
    func application(logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router()
        router.get("/metrics") { [registry] _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "learnsync-metrics"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }
}
