import Foundation
import LearnSyncModels

/// The one JSON reader of every request (RFC 8259): objects, arrays, strings with every escape,
/// integers, booleans and null. It reads values in place, so a message decodes without building
/// an intermediate tree. Unknown object keys are skipped; a key given twice in one object is
/// refused, and so is an object of more than ``maxFields`` fields (which keeps finding a repeated
/// key linear in the document). Where an integer is expected, any JSON number whose value is whole is one (`2`,
/// `2.0`, `2e0`, as JSON Schema counts integers); a fraction is refused.
package struct JSONReader {
    /// Why reading stopped: the path to the value (`events[3].seq`) and what was wrong with it,
    /// never the value itself.
    package struct Failure: Error {
        var path: [String]
        var message: String

        var description: String {
            guard !path.isEmpty else { return message }
            var joined = ""
            for part in path.reversed() {
                if !part.hasPrefix("[") && !joined.isEmpty { joined += "." }
                joined += part
            }
            return "\(joined): \(message)"
        }
    }

    /// Nesting deeper than this is refused (the messages nest three levels).
    static let maxDepth = 32

    /// More fields than this in one object are refused. The messages have at most a dozen; the
    /// rest is room for fields a later version adds. Each key is compared with the object's
    /// earlier ones, so the cap bounds that work at `maxFields` comparisons per key.
    static let maxFields = 64

    /// The document, valid only during ``read(_:_:)``: a reader (or a copy of one) never outlives
    /// the `body` it is handed to. Reading through a pointer, not an `Array`, spares a retain and
    /// a release of the array's storage for each string and a bounds check for each byte (a
    /// third of decoding a push went to reference counting).
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0
    /// The keys read so far in the open objects, innermost last. Kept flat and reused, so no
    /// allocation per object.
    private var keys: [Key] = []
    /// The bytes of keys that needed decoding (escapes, other than ASCII), which ``Key``s point to.
    private var decodedKeys: DecodedKeys?

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Reads one whole document with `body` and checks that only whitespace follows.
    static func read<T>(_ data: Data, _ body: (inout JSONReader) throws(Failure) -> T) throws(Failure) -> T {
        // `withUnsafeBytes` rethrows untyped; the failure is carried out in a `Result`.
        let result = data.withUnsafeBytes { raw -> Result<T, Failure> in
            var reader = JSONReader(raw.bindMemory(to: UInt8.self))
            do throws(Failure) {
                let value = try body(&reader)
                reader.skipWhitespace()
                guard reader.index == reader.bytes.count else { throw Failure(path: [], message: "unexpected text after the JSON value") }
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    // MARK: Structure

    /// Reads an object, calling `field` with each key; `field` must read (or skip) its value.
    mutating func object(_ field: (inout JSONReader, Key) throws(Failure) -> Void) throws(Failure) {
        try open(UInt8(ascii: "{"), "expected an object")
        // This object's keys follow those of the objects around it.
        let first = keys.count
        defer { keys.removeLast(keys.count - first) }
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw fail("expected a field name") }
            let key = try self.key()
            guard keys.count - first < Self.maxFields else { throw fail("an object may hold at most \(Self.maxFields) fields") }
            for earlier in first..<keys.count where keys[earlier].hasSameText(as: key) {
                throw fail("the field \"\(key.text)\" is given twice")
            }
            keys.append(key)
            skipWhitespace()
            guard next() == UInt8(ascii: ":") else { throw fail("expected ':' after a field name") }
            do {
                try field(&self, key)
            } catch {
                throw Failure(path: error.path + [key.text], message: error.message)
            }
            skipWhitespace()
            switch next() {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "}"):
                depth -= 1
                return
            default: throw fail("expected ',' or '}' in an object")
            }
        }
    }

    /// Reads an array, calling `element` for each value with its position.
    mutating func array(_ element: (inout JSONReader, Int) throws(Failure) -> Void) throws(Failure) {
        try open(UInt8(ascii: "["), "expected an array")
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return
        }
        var position = 0
        while true {
            do {
                try element(&self, position)
            } catch {
                throw Failure(path: error.path + ["[\(position)]"], message: error.message)
            }
            position += 1
            skipWhitespace()
            switch next() {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "]"):
                depth -= 1
                return
            default: throw fail("expected ',' or ']' in an array")
            }
        }
    }

    /// Skips any value (for fields this version does not know).
    mutating func skip() throws(Failure) {
        skipWhitespace()
        switch peek() {
        case UInt8(ascii: "{"): try object { reader, _ throws(Failure) in try reader.skip() }
        case UInt8(ascii: "["): try array { reader, _ throws(Failure) in try reader.skip() }
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try bool()
        case UInt8(ascii: "n"): try literal("null")
        default: try number()
        }
    }

    /// Whether the next value is `null` (consumed if so).
    mutating func null() throws(Failure) -> Bool {
        skipWhitespace()
        guard peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    // MARK: Scalars

    mutating func string() throws(Failure) -> String {
        skipWhitespace()
        guard next() == UInt8(ascii: "\"") else { throw fail("expected a string") }
        let start = index
        // Fast path: no escapes.
        var high: UInt8 = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                let text = UnsafeBufferPointer(rebasing: bytes[start..<index - 1])
                return high < 0x80 ? String(decoding: text, as: UTF8.self) : try utf8(text)
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw fail("control character in a string") }
            high |= byte
            index += 1
        }
        var out = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return try out.withUnsafeBufferPointer { buffer throws(Failure) in try utf8(buffer) }
            case UInt8(ascii: "\\"):
                try escape(into: &out)
            case 0..<0x20:
                throw fail("control character in a string")
            default:
                out.append(byte)
            }
        }
        throw fail("unterminated string")
    }

    /// A string that must be an identifier (``IdentifierRules``), checked on its bytes in place
    /// before a `String` is made; the failure names the rule and `kind`, never the value.
    mutating func identifierText(kind: @autoclosure () -> String) throws(Failure) -> String {
        guard let utf8 = plainString() else {
            // Escapes, other than ASCII, or not a string: read it the long way.
            let text = try string()
            do {
                return try IdentifierRules.validate(text, kind: kind())
            } catch {
                throw fail(error.message)
            }
        }
        if let broken = IdentifierRules.violation(utf8) { throw fail(broken.error(kind: kind()).message) }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// An object's key: its bytes in place when it is plain ASCII (the usual case: no `String` is
    /// made for it), else decoded.
    private mutating func key() throws(Failure) -> Key {
        if let utf8 = plainString() { return Key(bytes: utf8) }
        // Escapes or other than ASCII: decoded, and kept as long as the reader and its copies.
        let decoded = try string()
        if decodedKeys == nil { decodedKeys = DecodedKeys() }
        return Key(bytes: decodedKeys!.keep(decoded))
    }

    /// The next value's bytes in place when it is a string of printable ASCII without escapes
    /// (the reader then stands after it); nil, with nothing read, for anything else.
    private mutating func plainString() -> UnsafeBufferPointer<UInt8>? {
        skipWhitespace()
        guard peek() == UInt8(ascii: "\"") else { return nil }
        let start = index + 1
        var end = start
        while end < bytes.count, case let byte = bytes[end], byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\"), byte >= 0x20, byte < 0x80 {
            end += 1
        }
        guard end < bytes.count, bytes[end] == UInt8(ascii: "\"") else { return nil }
        index = end + 1
        return UnsafeBufferPointer(rebasing: bytes[start..<end])
    }

    /// An integer with no fraction or exponent, in Int64's range.
    mutating func int64() throws(Failure) -> Int64 {
        skipWhitespace()
        let negative = peek() == UInt8(ascii: "-")
        if negative { index += 1 }
        let start = index
        var value: Int64 = 0
        while index < bytes.count, case let byte = bytes[index], byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            let digit = Int64(byte - UInt8(ascii: "0"))
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { throw fail("integer out of range") }
            value = sum
            index += 1
        }
        guard index > start else { throw fail("expected an integer") }
        guard index - start == 1 || bytes[start] != UInt8(ascii: "0") else { throw fail("expected an integer without leading zeros") }
        guard let byte = peek(), byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") else { return value }
        return try wholeNumber(integerPart: value, negative: negative)
    }

    /// The rest of a number with a fraction or an exponent, which is an integer as JSON Schema
    /// counts them when its value is whole (`2.0`, `1e3`, `1.5e1`); `1.5` is refused.
    private mutating func wholeNumber(integerPart: Int64, negative: Bool) throws(Failure) -> Int64 {
        var fraction = [Int64]()
        if peek() == UInt8(ascii: ".") {
            index += 1
            while let byte = peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                fraction.append(Int64(byte - UInt8(ascii: "0")))
                index += 1
            }
            guard !fraction.isEmpty else { throw fail("expected digits after '.'") }
        }
        var exponent = 0
        if let byte = peek(), byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            index += 1
            let negativeExponent = peek() == UInt8(ascii: "-")
            if peek() == UInt8(ascii: "-") || peek() == UInt8(ascii: "+") { index += 1 }
            let digitsStart = index
            while let byte = peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                guard exponent < 100_000 else { throw fail("integer out of range") }
                exponent = exponent * 10 + Int(byte - UInt8(ascii: "0"))
                index += 1
            }
            guard index > digitsStart else { throw fail("expected digits in the exponent") }
            if negativeExponent { exponent = -exponent }
        }
        while fraction.last == 0 { fraction.removeLast() }
        var mantissa = integerPart
        for digit in fraction {
            let (times, overflow1) = mantissa.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { throw fail("integer out of range") }
            mantissa = sum
        }
        var shift = exponent - fraction.count
        while shift > 0, mantissa != 0 {
            let (times, overflow) = mantissa.multipliedReportingOverflow(by: 10)
            guard !overflow else { throw fail("integer out of range") }
            mantissa = times
            shift -= 1
        }
        while shift < 0, mantissa != 0 {
            guard mantissa % 10 == 0 else { throw fail("expected an integer") }
            mantissa /= 10
            shift += 1
        }
        return mantissa
    }

    mutating func int() throws(Failure) -> Int {
        Int(try int64())
    }

    mutating func bool() throws(Failure) -> Bool {
        skipWhitespace()
        switch peek() {
        case UInt8(ascii: "t"):
            try literal("true")
            return true
        case UInt8(ascii: "f"):
            try literal("false")
            return false
        default:
            throw fail("expected true or false")
        }
    }

    /// An error at the current value, for the message decoders.
    func fail(_ message: String) -> Failure {
        Failure(path: [], message: message)
    }

    // MARK: Helpers

    private mutating func open(_ byte: UInt8, _ message: String) throws(Failure) {
        skipWhitespace()
        guard next() == byte else { throw fail(message) }
        depth += 1
        guard depth <= Self.maxDepth else { throw fail("nested too deeply") }
    }

    /// Any number (for skipping): JSON's grammar, checked loosely.
    private mutating func number() throws(Failure) {
        let start = index
        while let byte = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".")
            || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
        {
            index += 1
        }
        guard index > start else { throw fail("expected a value") }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("unexpected end of input") }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            throw fail("expected a value")
        }
        index += count
    }

    private mutating func escape(into out: inout [UInt8]) throws(Failure) {
        guard let byte = next() else { throw fail("unterminated string") }
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(byte)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800..<0xDC00).contains(scalar) {
                guard next() == UInt8(ascii: "\\"), next() == UInt8(ascii: "u") else { throw fail("unpaired surrogate in a string") }
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate in a string") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw fail("unpaired surrogate in a string") }
            out.append(contentsOf: Array(String(Character(unicode)).utf8))
        default:
            throw fail("invalid escape in a string")
        }
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = next() else { throw fail("unterminated string") }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw fail("invalid \\u escape in a string")
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// A string's bytes that are not all ASCII, validated as UTF-8. (ASCII bytes are valid UTF-8:
    /// `string()` decodes them without this check, which cost a tenth of decoding a push.)
    private func utf8(_ text: UnsafeBufferPointer<UInt8>) throws(Failure) -> String {
        guard let text = String(validating: text, as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
        return text
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): index += 1
            default: return
            }
        }
    }

    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private mutating func next() -> UInt8? {
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }
}

extension JSONReader {
    /// An object's key, matched against field names with `switch` (`case "replica":`). Like the
    /// reader it comes from, it is valid only inside the `field` closure it is handed to. It holds
    /// no reference (a key that needed decoding is kept by the reader), so reading keys costs no
    /// reference counting.
    package struct Key {
        /// The key's UTF-8 bytes: in the document, or kept by the reader when decoded.
        private let bytes: UnsafeBufferPointer<UInt8>

        fileprivate init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        /// The key as text (for error paths).
        package var text: String {
            String(decoding: bytes, as: UTF8.self)
        }

        /// Whether the key is `name`.
        package static func ~= (name: StaticString, key: Key) -> Bool {
            key.hasBytes(UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        }

        fileprivate func hasSameText(as other: Key) -> Bool {
            hasBytes(other.bytes)
        }

        /// Compared byte by byte: keys are a few bytes long, shorter than a call to `memcmp` pays for.
        private func hasBytes(_ other: UnsafeBufferPointer<UInt8>) -> Bool {
            guard bytes.count == other.count else { return false }
            for offset in 0..<bytes.count where bytes[offset] != other[offset] { return false }
            return true
        }
    }
}

/// Decoded keys' bytes, freed when the last reader holding them goes.
private final class DecodedKeys {
    private var kept: [UnsafeMutableBufferPointer<UInt8>] = []

    /// A copy of `key`'s UTF-8 bytes that lives as long as this object.
    func keep(_ key: String) -> UnsafeBufferPointer<UInt8> {
        let utf8 = Array(key.utf8)
        let copy = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(utf8.count, 1))
        _ = copy.initialize(from: utf8)
        kept.append(copy)
        return UnsafeBufferPointer(start: copy.baseAddress, count: utf8.count)
    }

    deinit {
        for buffer in kept { buffer.deallocate() }
    }
}
