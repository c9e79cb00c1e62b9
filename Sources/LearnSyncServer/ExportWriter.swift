package import Foundation
import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol

/// `GET /v1/export`, written as it is read: the learner's record, then its events a page at a time
/// (``FeedPages``), then the progress graded from them. The server's memory holds a page, never
/// the log, however many events the learner has; the answer is the JSON of an ``ExportDocument``
/// or an ``XAPIStatementResult``.
package struct ExportWriter: Sendable {
    package enum Format: Sendable {
        case json
        /// xAPI 1.0.3 statements, with `homePage` as the actor's account system and the base of
        /// activity ids.
        case xapi(homePage: String)
    }

    let record: LearnerRecord
    let pages: FeedPages
    let catalog: Catalog
    let exportedAt: Int64
    let format: Format

    /// Writes the answer's JSON to `sink`, in pieces of about a page of events each.
    /// - Throws: `Problem` `unauthorized` when the token stops authenticating midway (the
    ///   answer is then cut short), or what `sink` throws.
    package func write(_ sink: (Data) async throws -> Void) async throws {
        let encoder = JSONEncoder()
        var first = true
        switch format {
        case .json:
            var head = Data(#"{"protocol":\#(ProtocolVersion.current),"source":"server","exportedAt":\#(exportedAt),"learner":"#.utf8)
            head += try encoder.encode(ExportDocument.Learner(id: record.learner, username: record.username, createdAt: record.createdAt))
            head += Data(#","guests":"#.utf8)
            head += try encoder.encode(record.guests.map { ExportDocument.Learner(id: $0.id, createdAt: $0.createdAt) })
            head += Data(#","sessions":"#.utf8) + (try encoder.encode(record.sessions)) + Data(#","events":["#.utf8)
            try await sink(head)
            let courses = try await graded { page in try await sink(Self.elements(of: try encoder.encode(page), first: &first)) }
            try await sink(Data(#"],"progress":"#.utf8) + (try encoder.encode(CourseReport.reports(courses, catalog: catalog))) + Data("}".utf8))
        case .xapi(let homePage):
            let builder = XAPIExport.Builder(catalog: catalog, homePage: homePage, learner: record.learner)
            try await sink(Data(#"{"statements":["#.utf8))
            let courses = try await graded { page in
                try await sink(Self.elements(of: try encoder.encode(page.map(builder.statement(for:))), first: &first))
            }
            let certificates = builder.certificates(of: CourseReport.reports(courses, catalog: catalog))
            try await sink(Self.elements(of: try encoder.encode(certificates), first: &first) + Data(#"],"more":""}"#.utf8))
        }
    }

    /// The feed up to the record's end graded, handing each page of events to `each` on the way.
    private func graded(_ each: ([ProgressEvent]) async throws -> Void) async throws -> [CourseID: CourseProgress] {
        guard let (_, courses) = try await pages.grade(catalog: catalog, through: record.feedEnd, each: each) else {
            throw Problem(code: .unauthorized, detail: "the token stopped authenticating during the export")
        }
        return courses
    }

    /// The elements of a JSON array's encoding (`[a,b]` → `a,b`), after a comma unless `first`.
    static func elements(of array: Data, first: inout Bool) -> Data {
        let inner = array.dropFirst().dropLast()
        guard !inner.isEmpty else { return Data() }
        defer { first = false }
        return first ? Data(inner) : Data(",".utf8) + inner
    }
}
