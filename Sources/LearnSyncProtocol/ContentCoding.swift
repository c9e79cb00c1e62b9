import CZlib
package import Foundation

/// The HTTP content codings a body of the protocol may travel in (RFC 9110 §8.4.1): none,
/// `gzip`, or `deflate` (the zlib format). Both sides read either and write gzip.
package enum ContentCoding: Sendable, Equatable {
    case identity, gzip, deflate

    /// The coding a `Content-Encoding` header names, or nil for one the protocol does not take:
    /// an unknown coding (`br`, `zstd`, …) or a chain of several.
    package init?(contentEncoding header: String?) {
        let codings = (header ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        switch codings {
        case [], ["identity"]: self = .identity
        case ["gzip"], ["x-gzip"]: self = .gzip
        case ["deflate"]: self = .deflate
        default: return nil
        }
    }

    /// Whether an `Accept-Encoding` header takes gzip (RFC 9110 §12.5.3): named, or covered by
    /// `*`, with a weight above 0. No header takes nothing but the body as it is.
    package static func acceptsGzip(_ header: String?) -> Bool {
        guard let header else { return false }
        var gzip: Double?, any: Double?
        for item in header.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            var weight = 1.0
            for parameter in parts.dropFirst() where parameter.hasPrefix("q=") { weight = Double(parameter.dropFirst(2)) ?? 0 }
            switch parts.first {
            case "gzip", "x-gzip": gzip = weight
            case "*": any = weight
            default: break
            }
        }
        return (gzip ?? any ?? 0) > 0
    }

    /// Bodies smaller than this go as they are: gzip's 18 bytes of framing and the CPU cost more
    /// than they save (an incremental sync's request and answer are about 300 bytes).
    package static let minimumCompressedBytes = 1024

    /// The value for `Accept-Encoding` on a `415 unsupported-encoding` answer (RFC 7694).
    package static let accepted = "gzip, deflate"

    /// What the codings' two sides say when the bytes are wrong.
    package enum Failure: Error, Equatable, CustomStringConvertible {
        /// The decoded body would pass the limit.
        case tooLarge(limit: Int)
        /// Not a gzip or zlib stream, corrupt, truncated, or followed by other bytes.
        case malformed(String)

        package var description: String {
            switch self {
            case .tooLarge(let limit): "it decodes to more than \(limit) bytes"
            case .malformed(let reason): reason
            }
        }
    }

    /// `data` gzip-compressed at zlib's fastest level (about 6 bytes per sync event in place of
    /// 140, at a few hundred MB/s), or nil if zlib could not start (out of memory).
    package static func gzip(_ data: Data) -> Data? {
        var stream = z_stream()
        // 15 bits of window, +16 for the gzip wrapper.
        guard CZlib_deflateInit2(&stream, Z_BEST_SPEED, 15 + 16) == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        var output = Data(count: Int(deflateBound(&stream, uLong(data.count))))
        let status = data.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { out in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
                stream.avail_in = uInt(input.count)
                stream.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(out.count)
                return CZlib.deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return nil }
        output.count = Int(stream.total_out)
        return output
    }

    /// Whether `data` starts as a gzip stream does (1f 8b). JSON never does, so a body that was
    /// already decoded on the way (URLSession decodes gzip answers itself) is told apart.
    package static func looksGzipped(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B
    }

    /// The bytes a gzip or zlib stream decodes to, never more than `limit` of them: a small
    /// body that inflates past it (a "zip bomb") stops as soon as it does.
    package static func inflate(_ data: Data, limit: Int) throws(Failure) -> Data {
        var stream = z_stream()
        // 15 bits of window, +32 to take a gzip or a zlib header.
        guard CZlib_inflateInit2(&stream, 15 + 32) == Z_OK else { throw .malformed("zlib could not start") }
        defer { inflateEnd(&stream) }
        var output = Data()
        output.reserveCapacity(min(limit, max(data.count * 8, 4096)))
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let outcome: Result<Void, Failure> = data.withUnsafeBytes { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(input.count)
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                guard output.count + produced <= limit else { return .failure(.tooLarge(limit: limit)) }
                output.append(contentsOf: chunk[..<produced])
                switch status {
                case Z_STREAM_END:
                    return stream.avail_in == 0 ? .success(()) : .failure(.malformed("bytes follow the end of the compressed stream"))
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.avail_in == 0:
                    return .failure(.malformed("the compressed stream is truncated"))
                default:
                    return .failure(.malformed(stream.msg.map { String(cString: $0) } ?? "the compressed stream is corrupt"))
                }
            }
        }
        try outcome.get()
        return output
    }
}
