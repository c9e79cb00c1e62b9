/// The error the models raise when a value is not valid: an empty or malformed identifier, an
/// unknown course item, a number out of range.
///
/// Messages name the field and the rule, never the learner's data.
public struct ModelError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of rule was broken. New codes may be added without breaking users.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidIdentifier, outOfRange, unknownCourse, unknownItem, unknownVersion, invalidCatalog, invalidEvent
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// An identifier is empty, too long or uses characters outside `[A-Za-z0-9._-]`.
        public static let invalidIdentifier = Code(.invalidIdentifier)
        /// A number is outside its documented range.
        public static let outOfRange = Code(.outOfRange)
        /// The event names a course the catalog does not have.
        public static let unknownCourse = Code(.unknownCourse)
        /// The event names a lesson, quiz, scenario or option the course does not have.
        public static let unknownItem = Code(.unknownItem)
        /// A quiz attempt names a course version the catalog does not have.
        public static let unknownVersion = Code(.unknownVersion)
        /// The course catalog itself is inconsistent.
        public static let invalidCatalog = Code(.invalidCatalog)
        /// The event is not valid for another reason (for example a wrong number of quiz answers).
        public static let invalidEvent = Code(.invalidEvent)

        public var description: String { base.rawValue }
    }

    /// The broken rule.
    public var code: Code
    /// A human sentence naming the field and the rule.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
