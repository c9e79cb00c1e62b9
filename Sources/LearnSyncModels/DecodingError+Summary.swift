import Foundation

/// A decoding failure as a person reads it: the field's path and what was wrong with it.
extension DecodingError {
    /// `lessons[2].id: missing`, `quizzes[0].questions[1].answer: expected a string`; the path is
    /// empty for the document itself (`not JSON: ...`).
    package var summary: String {
        switch self {
        case .keyNotFound(let key, let context):
            return "\(Self.path(context.codingPath + [key])): missing"
        case .typeMismatch(let type, let context):
            return "\(Self.path(context.codingPath)): expected \(Self.name(of: type))"
        case .valueNotFound(let type, let context):
            return "\(Self.path(context.codingPath)): expected \(Self.name(of: type)), found null"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                // The JSON reader's own failure, or a rule of the whole document.
                return context.underlyingError.map { "not valid JSON: \($0.localizedDescription)" } ?? context.debugDescription
            }
            return "\(Self.path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(self)"
        }
    }

    /// `lessons[2].id`, from a coding path.
    private static func path(_ keys: [any CodingKey]) -> String {
        var text = ""
        for key in keys {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += (text.isEmpty ? "" : ".") + key.stringValue
            }
        }
        return text.isEmpty ? "the document" : text
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is UInt8.Type: "a whole number"
        case is Bool.Type: "true or false"
        case is Double.Type: "a number"
        default: String(describing: type).hasPrefix("Array") ? "a list" : (String(describing: type).hasPrefix("Dictionary") ? "an object" : "\(type)")
        }
    }
}
