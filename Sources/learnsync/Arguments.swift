import ArgumentParser
import LearnSyncModels

// Ids are checked while the command line is parsed, so a bad one gets the usage help and exit
// code 64 before anything is opened.

/// Parses a course id, naming the rule it breaks.
func courseID(_ text: String) throws -> CourseID { try identifier(text) }

/// Parses a lesson, quiz, scenario or option id, naming the rule it breaks.
func itemID(_ text: String) throws -> ItemID { try identifier(text) }

/// Parses comma-separated option ids (`b,b,a`).
func itemIDs(_ text: String) throws -> [ItemID] {
    try text.split(separator: ",", omittingEmptySubsequences: false).map { try identifier(String($0)) }
}

private func identifier<T: ValidatedIdentifier>(_ text: String) throws -> T {
    do {
        return try T(validating: text)
    } catch {
        throw ValidationError(error.message)
    }
}
