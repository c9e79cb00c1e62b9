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

    mutating func add(_ text: String?) {
        separate()
        guard var text else { return writeNull() }
        text.withUTF8 { bytes in
            guard bytes.contains(where: Self.needsEscape) else {
                buffer.writeBytes(bytes)
                return
            }
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
                case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
                case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
                default: buffer.writeInteger(byte)
                }
            }
        }
    }

    mutating func add(_ number: Int64?) {
        separate()
        guard let number else { return writeNull() }
        if number < 0 { buffer.writeInteger(UInt8(ascii: "-")) }
        // Unsigned: Int64.min has no positive Int64.
        var magnitude = number.magnitude
        var digits = 1
        var rest = magnitude / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        var index = buffer.writerIndex + digits
        buffer.writeRepeatingByte(UInt8(ascii: "0"), count: digits)
        repeat {
            index -= 1
            buffer.setInteger(UInt8(ascii: "0") + UInt8(magnitude % 10), at: index)
            magnitude /= 10
        } while magnitude > 0
    }

    private mutating func separate() {
        if !atRowStart { buffer.writeInteger(UInt8(ascii: "\t")) }
        atRowStart = false
    }

    private mutating func writeNull() {
        buffer.writeStaticString("\\N")
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
