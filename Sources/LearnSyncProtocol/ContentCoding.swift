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
        GzipStart(Data())?.finished(with: data)
    }

    /// A gzip body whose start is compressed before its end is known, so that the end (a sync
    /// request's cursor, known only when the previous answer arrives) costs a few bytes of work.
    ///
    /// The start is a raw deflate stream flushed to a byte boundary with no final block
    /// (`Z_SYNC_FLUSH`); the end is a second raw deflate stream that ends the data. A decoder
    /// reads the two as one stream of blocks, and the gzip trailer's CRC-32 of the whole is
    /// combined from the two parts' (`crc32_combine`): the body is one ordinary gzip member.
    package struct GzipStart: Sendable {
        /// The start, deflated and flushed (empty for an empty start).
        private let deflated: Data
        private let crc: UInt
        private let count: Int

        /// Compresses `start`; nil if zlib could not start (out of memory).
        package init?(_ start: Data) {
            guard let deflated = start.isEmpty ? Data() : ContentCoding.rawDeflate(start, flush: Z_SYNC_FLUSH) else { return nil }
            self.deflated = deflated
            self.crc = ContentCoding.crc32(of: start)
            self.count = start.count
        }

        /// The gzip body of the start followed by `end`; nil if zlib could not start.
        package func finished(with end: Data) -> Data? {
            guard let last = ContentCoding.rawDeflate(end, flush: Z_FINISH) else { return nil }
            // RFC 1952: magic, deflate, no flags, no time, fastest level (XFL 4), unknown system.
            var body = Data([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 4, 255])
            body.reserveCapacity(body.count + deflated.count + last.count + 8)
            body.append(deflated)
            body.append(last)
            let total = UInt32(truncatingIfNeeded: count + end.count)
            let whole = UInt32(truncatingIfNeeded: crc32_combine(crc, ContentCoding.crc32(of: end), off_t(end.count)))
            for value in [whole, total] { withUnsafeBytes(of: value.littleEndian) { body.append(contentsOf: $0) } }
            return body
        }
    }

    /// `data` as a raw deflate stream (no header, no trailer) at zlib's fastest level, ended by
    /// `flush`: `Z_FINISH` ends the stream, `Z_SYNC_FLUSH` leaves it open at a byte boundary.
    private static func rawDeflate(_ data: Data, flush: Int32) -> Data? {
        var stream = z_stream()
        // 15 bits of window, negative for no zlib wrapper.
        guard CZlib_deflateInit2(&stream, Z_BEST_SPEED, -15) == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        // deflateBound covers Z_FINISH; a sync flush adds an empty stored block (5 bytes).
        var output = Data(count: Int(deflateBound(&stream, uLong(data.count))) + 16)
        let status = data.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { out in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
                stream.avail_in = uInt(input.count)
                stream.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(out.count)
                return CZlib.deflate(&stream, flush)
            }
        }
        // A sync flush is complete when all input is taken and output room is left (zlib's manual).
        let complete = flush == Z_FINISH ? status == Z_STREAM_END : status == Z_OK && stream.avail_in == 0 && stream.avail_out > 0
        guard complete else { return nil }
        output.count = Int(stream.total_out)
        return output
    }

    /// The CRC-32 that gzip's trailer holds.
    private static func crc32(of data: Data) -> UInt {
        data.withUnsafeBytes { bytes in
            CZlib.crc32(0, bytes.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(bytes.count))
        }
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
