/// Writes compact JSON straight into a byte buffer, for the sync messages. Strings are escaped
/// as RFC 8259 requires (quote, backslash, control characters); everything else is copied.
package struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    /// Whether the next member of the current object or array needs a comma first.
    private var needsComma = false

    init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    mutating func object(_ members: (inout JSONWriter) -> Void) {
        container("{", "}", members)
    }

    mutating func array(_ elements: (inout JSONWriter) -> Void) {
        container("[", "]", elements)
    }

    private mutating func container(_ open: Unicode.Scalar, _ close: Unicode.Scalar, _ body: (inout JSONWriter) -> Void) {
        opening(open)
        body(&self)
        closing(close)
    }

    /// Opens an object whose members, and the `}` of ``closingObject()``, may be written by
    /// another writer: a message written in two parts.
    mutating func openingObject() {
        opening("{")
    }

    /// Ends an object opened by ``openingObject()`` in a writer made with ``init(afterMembers:)``.
    mutating func closingObject() {
        closing("}")
    }

    /// A writer that goes on with an object whose members so far another writer wrote.
    init(afterMembers capacity: Int) {
        self.init(capacity: capacity)
        needsComma = true
    }

    private mutating func opening(_ open: Unicode.Scalar) {
        separate()
        bytes.append(UInt8(ascii: open))
        needsComma = false
    }

    private mutating func closing(_ close: Unicode.Scalar) {
        bytes.append(UInt8(ascii: close))
        needsComma = true
    }

    /// A member's name; its value follows.
    mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func string(_ value: String) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        // Most strings (identifiers) need no escape: copied whole.
        let copied = value.utf8.withContiguousStorageIfAvailable { utf8 in
            guard !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else { return false }
            bytes.append(contentsOf: utf8)
            return true
        }
        if copied != true { escaping(value) }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// `value`'s UTF-8 with quotes, backslashes and control characters escaped.
    private mutating func escaping(_ value: String) {
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(byte)
            case 0..<0x20:
                let digits = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: Array("\\u00".utf8))
                bytes.append(digits[Int(byte >> 4)])
                bytes.append(digits[Int(byte & 0x0f)])
            default:
                bytes.append(byte)
            }
        }
    }

    mutating func int(_ value: Int64) {
        separate()
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var position = buffer.count
            repeat {
                position -= 1
                buffer[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            bytes.append(contentsOf: buffer[position...])
        }
        needsComma = true
    }

    mutating func int(_ value: Int) {
        int(Int64(value))
    }

    mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: value ? Array("true".utf8) : Array("false".utf8))
        needsComma = true
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }
}
