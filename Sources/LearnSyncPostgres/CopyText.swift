import LearnSyncModels
import NIOCore

/// Rows in the text format of PostgreSQL's `COPY … FROM STDIN`: a value per column, separated
/// by tabs, a row per line, NULL written `\N`. In a text value a backslash, tab, newline and
/// carriage return are escaped (`\\`, `\t`, `\n`, `\r`), so no value can end its column or row
/// early, whatever a client sent; every other byte goes as it is (the connection is UTF-8).
struct CopyText {
    private(set) var buffer: ByteBuffer
    private var atRowStart = true

    init(capacity: Int) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    /// Ends the current row.
    mutating func endRow() {
        buffer.writeInteger(UInt8(ascii: "\n"))
        atRowStart = true
    }

    // Each value is written with one call into the buffer's memory, its separator included: a
    // call per byte (ByteBuffer's bounds and uniqueness checks each time) made building the
    // rows a fifth of the server's CPU in a long push.

    mutating func add(_ text: String?) {
        guard var text else { return writeNull() }
        let separated = !atRowStart
        atRowStart = false
        text.withUTF8 { bytes in
            let escapes = bytes.reduce(0) { $0 + (Self.needsEscape($1) ? 1 : 0) }
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bytes.count + escapes + 1) { out in
                var index = 0
                if separated {
                    out[0] = UInt8(ascii: "\t")
                    index = 1
                }
                guard escapes > 0 else {
                    if let source = bytes.baseAddress, !bytes.isEmpty {
                        out.baseAddress!.advanced(by: index).copyMemory(from: source, byteCount: bytes.count)
                    }
                    return index + bytes.count
                }
                for byte in bytes {
                    let escaped: UInt8? = switch byte {
                    case UInt8(ascii: "\\"): UInt8(ascii: "\\")
                    case UInt8(ascii: "\t"): UInt8(ascii: "t")
                    case UInt8(ascii: "\n"): UInt8(ascii: "n")
                    case UInt8(ascii: "\r"): UInt8(ascii: "r")
                    default: nil
                    }
                    if let escaped {
                        out[index] = UInt8(ascii: "\\")
                        out[index + 1] = escaped
                        index += 2
                    } else {
                        out[index] = byte
                        index += 1
                    }
                }
                return index
            }
        }
    }

    mutating func add(_ number: Int64?) {
        guard let number else { return writeNull() }
        let separated = !atRowStart
        atRowStart = false
        // A separator, a sign and at most 20 digits.
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 22) { out in
            var index = 0
            if separated {
                out[0] = UInt8(ascii: "\t")
                index = 1
            }
            if number < 0 {
                out[index] = UInt8(ascii: "-")
                index += 1
            }
            // Unsigned: Int64.min has no positive Int64. The digits are written last first,
            // then turned around.
            var magnitude = number.magnitude
            let first = index
            repeat {
                out[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                index += 1
            } while magnitude > 0
            var (low, high) = (first, index - 1)
            while low < high {
                out.swapAt(low, high)
                low += 1
                high -= 1
            }
            return index
        }
    }

    private mutating func writeNull() {
        buffer.writeStaticString(atRowStart ? "\\N" : "\t\\N")
        atRowStart = false
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
    }
}

extension CopyText {
    /// An event's columns, in ``EventColumns/Column``'s order.
    mutating func add(_ columns: EventColumns) {
        add(columns.replica)
        add(columns.seq)
        add(columns.learner)
        add(columns.hlc)
        add(columns.course)
        add(columns.type)
        add(columns.item)
        add(columns.answers)
        add(columns.seen)
        add(columns.choice)
        add(columns.seconds.map(Int64.init))
        add(columns.position.map(Int64.init))
        add(columns.version.map(Int64.init))
    }
}
