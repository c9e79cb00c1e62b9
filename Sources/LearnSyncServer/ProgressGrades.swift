import LearnSyncMerge
import LearnSyncModels
import LearnSyncProtocol

/// The server's grading of each token's learner, kept between calls of `GET /v1/progress` so that
/// a call folds only the events stored since the previous one: one read of the feed's end and the
/// courses' reports when nothing changed, the new events otherwise, never the whole log again.
///
/// A token's learner never changes (attaching a guest revokes the guest's tokens), and a feed
/// only grows: positions are taken in commit order, so a read after position `p` sees every event
/// stored after the read that ended at `p`. The whole feed is read again when the catalog changed,
/// a new event is a reset (it decides what earlier events count), or the feed ends before the
/// kept position (the database was restored from a backup). Each process keeps its own, at most
/// ``capacity`` learners.
final class ProgressGrades: Sendable {
    struct Graded: Sendable {
        var learner: LearnerID
        var fingerprint: String
        var feedEnd: Int64
        var courses: [CourseID: CourseProgress]
    }

    static let capacity = 4096
    private let entries = Locked<[String: Graded]>([:])

    /// The grading kept for `tokenHash` under the catalog `fingerprint`, if any.
    func kept(for tokenHash: String, fingerprint: String) -> Graded? {
        entries.withLock { $0[tokenHash] }.flatMap { $0.fingerprint == fingerprint ? $0 : nil }
    }

    /// Keeps `graded` for `tokenHash`; past ``capacity`` a quarter of the others are forgotten.
    func keep(_ graded: Graded, for tokenHash: String) {
        entries.withLock { entries in
            if entries[tokenHash] == nil, entries.count >= Self.capacity {
                for key in entries.keys.prefix(Self.capacity / 4) { entries[key] = nil }
            }
            entries[tokenHash] = graded
        }
    }

    /// `kept` moved on by `feed` (the events after its `feedEnd`), or nil when the feed must be
    /// graded whole.
    static func advance(_ kept: Graded, by feed: LearnerFeed, catalog: Catalog) -> Graded? {
        guard feed.learner == kept.learner, feed.feedEnd >= kept.feedEnd, !feed.events.contains(where: \.isReset) else { return nil }
        var graded = kept
        for event in feed.events {
            graded.courses[event.course, default: CourseProgress(course: event.course)].apply(event, catalog: catalog)
        }
        graded.feedEnd = feed.feedEnd
        return graded
    }

    /// A whole feed graded, page by page (``FeedPages/grade(catalog:through:each:)``); nil when
    /// the token does not authenticate.
    static func grade(_ pages: FeedPages, catalog: Catalog, fingerprint: String) async throws -> Graded? {
        guard let (feed, courses) = try await pages.grade(catalog: catalog) else { return nil }
        return Graded(learner: feed.learner, fingerprint: fingerprint, feedEnd: feed.feedEnd, courses: courses)
    }
}
