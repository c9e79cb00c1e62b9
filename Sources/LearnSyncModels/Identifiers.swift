/// Rules shared by every identifier: 1 to 64 characters from `[A-Za-z0-9._-]`.
package enum IdentifierRules {
    /// The longest identifier accepted anywhere (on the device, on the wire, on the server).
    package static let maxLength = 64

    /// Checks `value` and returns it, or throws ``ModelError/Code/invalidIdentifier``.
    package static func validate(_ value: String, kind: String) throws(ModelError) -> String {
        let broken = value.utf8.withContiguousStorageIfAvailable(violation) ?? Array(value.utf8).withUnsafeBufferPointer(violation)
        if let broken { throw broken.error(kind: kind) }
        return value
    }

    /// How an identifier's UTF-8 bytes break the rules, or nil when they keep them.
    package static func violation(_ utf8: UnsafeBufferPointer<UInt8>) -> Violation? {
        guard !utf8.isEmpty else { return .empty }
        guard utf8.count <= maxLength else { return .tooLong }
        for byte in utf8 where !isAllowed(byte) { return .character }
        return nil
    }

    /// A broken rule (``violation(_:)``).
    package enum Violation: Sendable {
        case empty, tooLong, character

        /// The error for an identifier of `kind` ("course id", ...), naming the rule, never the value.
        package func error(kind: String) -> ModelError {
            switch self {
            case .empty: ModelError(.invalidIdentifier, "\(kind) must not be empty")
            case .tooLong: ModelError(.invalidIdentifier, "\(kind) must be at most \(IdentifierRules.maxLength) characters")
            case .character: ModelError(.invalidIdentifier, "\(kind) may only use letters, digits, '.', '_' and '-'")
            }
        }
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    /// 128 random bits as 26 lowercase base-32 characters (`0-9a-v`).
    package static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        var value = (UInt64.random(in: .min ... .max, using: &generator), UInt64.random(in: .min ... .max, using: &generator))
        let alphabet = Array("0123456789abcdefghijklmnopqrstuv".utf8)
        var out = [UInt8]()
        out.reserveCapacity(26)
        for _ in 0..<26 {
            out.append(alphabet[Int(value.1 & 31)])
            value.1 = (value.1 >> 5) | ((value.0 & 31) << 59)
            value.0 >>= 5
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Declares a validated string identifier type.
public protocol ValidatedIdentifier: RawRepresentable, Hashable, Comparable, Codable, Sendable,
    CustomStringConvertible, ExpressibleByStringLiteral where RawValue == String
{
    /// The name used in error messages ("course id", "learner id", ...).
    static var kind: String { get }
    /// Creates the identifier without checking it; only for values already validated.
    init(unchecked: String)
}

extension ValidatedIdentifier {
    /// Creates an identifier, or throws ``ModelError`` if `value` breaks ``IdentifierRules``.
    public init(validating value: String) throws(ModelError) {
        self.init(unchecked: try IdentifierRules.validate(value, kind: Self.kind))
    }

    /// Creates an identifier, or returns nil if `rawValue` breaks ``IdentifierRules``.
    public init?(rawValue: String) {
        guard let valid = try? IdentifierRules.validate(rawValue, kind: Self.kind) else { return nil }
        self.init(unchecked: valid)
    }

    /// A literal identifier; it must be valid (a programming error otherwise).
    public init(stringLiteral value: String) {
        do { try self.init(validating: value) } catch { preconditionFailure("\(error)") }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        do {
            try self.init(validating: raw)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { rawValue }
}

/// A learner: a guest made on a device (`g-…`) or an account made by a server (`a-…`).
public struct LearnerID: ValidatedIdentifier {
    public static let kind = "learner id"
    public let rawValue: String
    public init(unchecked: String) { rawValue = unchecked }

    /// A new random guest id; it holds no personal data.
    public static func newGuest() -> LearnerID { LearnerID(unchecked: "g-" + IdentifierRules.randomToken()) }
    /// A new random account id.
    public static func newAccount() -> LearnerID { LearnerID(unchecked: "a-" + IdentifierRules.randomToken()) }

    /// Whether this id names a guest (made on a device, not yet or never attached).
    public var isGuest: Bool { rawValue.hasPrefix("g-") }
}

/// One copy of the data: a device's store. Each replica numbers its own events.
public struct ReplicaID: ValidatedIdentifier {
    public static let kind = "replica id"
    public let rawValue: String
    public init(unchecked: String) { rawValue = unchecked }

    /// A new random replica id.
    public static func random() -> ReplicaID { ReplicaID(unchecked: IdentifierRules.randomToken()) }
}

/// A course in the catalog.
public struct CourseID: ValidatedIdentifier {
    public static let kind = "course id"
    public let rawValue: String
    public init(unchecked: String) { rawValue = unchecked }
}

/// A lesson, quiz, question, option or scenario inside a course.
public struct ItemID: ValidatedIdentifier {
    public static let kind = "item id"
    public let rawValue: String
    public init(unchecked: String) { rawValue = unchecked }
}

/// The globally unique id of an event: the replica that made it and that replica's counter.
public struct EventID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The replica that recorded the event.
    public var replica: ReplicaID
    /// The replica's counter, from 1.
    public var seq: Int64

    public init(replica: ReplicaID, seq: Int64) {
        self.replica = replica
        self.seq = seq
    }

    public static func < (lhs: EventID, rhs: EventID) -> Bool {
        (lhs.replica, lhs.seq) < (rhs.replica, rhs.seq)
    }

    public var description: String { "\(replica.rawValue):\(seq)" }
}

extension ItemID: CodingKeyRepresentable {
    public var codingKey: any CodingKey { ItemCodingKey(stringValue: rawValue) }
    public init?<T: CodingKey>(codingKey: T) { self.init(rawValue: codingKey.stringValue) }
}

extension CourseID: CodingKeyRepresentable {
    public var codingKey: any CodingKey { ItemCodingKey(stringValue: rawValue) }
    public init?<T: CodingKey>(codingKey: T) { self.init(rawValue: codingKey.stringValue) }
}

private struct ItemCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
