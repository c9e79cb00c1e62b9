/// An xAPI 1.0.3 statement, as ``XAPIExport`` writes them: an agent (the learner as an account
/// on the server's home page), a verb from the ADL vocabulary, an activity, and optionally a
/// result and a context.
public struct XAPIStatement: Codable, Hashable, Sendable {
    /// A name-based UUID: the same event always gets the same statement id.
    public var id: String
    public var actor: Agent
    public var verb: Verb
    public var object: Activity
    public var result: Result?
    public var context: Context?
    /// When it happened: ISO 8601 in UTC with milliseconds.
    public var timestamp: String
    public var version: String

    /// The learner: an account (`name`, the learner id) of a system (`homePage`).
    public struct Agent: Codable, Hashable, Sendable {
        public struct Account: Codable, Hashable, Sendable {
            public var homePage: String
            public var name: String
        }

        public var objectType = "Agent"
        public var account: Account
    }

    /// An ADL verb: its IRI and an English display name.
    public struct Verb: Codable, Hashable, Sendable {
        public var id: String
        public var display: [String: String]
    }

    /// A course, lesson, quiz or scenario.
    public struct Activity: Codable, Hashable, Sendable {
        public struct Definition: Codable, Hashable, Sendable {
            /// The ADL activity type IRI.
            public var type: String
            /// The title, when the catalog knows the item.
            public var name: [String: String]?
        }

        public var objectType = "Activity"
        public var id: String
        public var definition: Definition
    }

    /// The outcome: a quiz score, a choice, a duration.
    public struct Result: Codable, Hashable, Sendable {
        public struct Score: Codable, Hashable, Sendable {
            public var scaled: Double
            public var raw: Int
            public var min: Int
            public var max: Int
        }

        public var score: Score?
        public var success: Bool?
        public var completion: Bool?
        public var response: String?
        /// ISO 8601 duration, like `PT90S`.
        public var duration: String?
        public var extensions: [String: Extension]?
    }

    /// The course as the parent activity, the platform, and LearnSync's own extensions.
    public struct Context: Codable, Hashable, Sendable {
        public struct Activities: Codable, Hashable, Sendable {
            public var parent: [Activity]
        }

        public var contextActivities: Activities
        public var platform: String
        public var extensions: [String: Extension]?
    }

    /// An extension value: a number or a string.
    public enum Extension: Codable, Hashable, Sendable {
        case int(Int)
        case string(String)

        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let value = try? c.decode(Int.self) {
                self = .int(value)
            } else {
                self = .string(try c.decode(String.self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .int(let value): try c.encode(value)
            case .string(let value): try c.encode(value)
            }
        }
    }
}

/// A list of statements in the shape an xAPI Learning Record Store answers (`StatementResult`).
public struct XAPIStatementResult: Codable, WireCodable, Hashable, Sendable {
    public var statements: [XAPIStatement]
    /// Always empty: the export is complete.
    public var more: String

    public init(statements: [XAPIStatement]) {
        self.statements = statements
        more = ""
    }
}
