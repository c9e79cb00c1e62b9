import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A live stream (`GET /v1/live`) held on a bare socket: thousands of them cost the benchmark
/// little, so what is measured is the server's side.
final class LiveSocket {
    private let descriptor: Int32
    /// Bytes read from the stream so far.
    private(set) var received = 0
    /// Whether the server still holds the stream open (as of the last ``drain()``).
    private(set) var isOpen = true

    /// Opens a stream with `token` and returns once its first `feed` event arrived.
    init(port: Int, token: String) throws {
        #if os(Linux)
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw BenchError("socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            throw BenchError("connect() failed: errno \(errno)")
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request = Array("GET /v1/live HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nAccept: text/event-stream\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(descriptor, $0.baseAddress, $0.count, 0) }) == request.count else {
            close(descriptor)
            throw BenchError("send() failed: errno \(errno)")
        }
        var head = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while head.count < 65_536, !String(decoding: head, as: UTF8.self).contains("event: feed") {
            let count = read(descriptor, &buffer, buffer.count)
            guard count > 0 else {
                close(descriptor)
                throw BenchError("the live stream closed before its first event: \(String(decoding: head, as: UTF8.self))")
            }
            head += buffer[..<count]
        }
        received = head.count
        guard String(decoding: head.prefix(12), as: UTF8.self) == "HTTP/1.1 200" else {
            close(descriptor)
            throw BenchError("the live stream was refused: \(String(decoding: head, as: UTF8.self))")
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
    }

    /// Reads what arrived without waiting, and notes a stream the server closed.
    func drain() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while isOpen {
            let count = read(descriptor, &buffer, buffer.count)
            if count > 0 {
                received += count
            } else if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) {
                isOpen = false
            } else {
                return
            }
        }
    }

    /// Closes the stream.
    func end() {
        close(descriptor)
        isOpen = false
    }

    /// Raises this process's open-file limit to its hard limit (a process started after
    /// inherits it).
    static func raiseDescriptorLimit() {
        var limit = rlimit()
        #if os(Linux)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        guard getrlimit(resource, &limit) == 0 else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(resource, &limit)
    }
}
