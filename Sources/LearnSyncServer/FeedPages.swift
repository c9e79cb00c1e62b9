import LearnSyncMerge
import LearnSyncModels

/// Reads a token's feed page by page, each page in a snapshot of its own, so that no read holds
/// more than a page of events: grading a whole feed and exporting it stay flat in memory however
/// long the learner's log is.
struct FeedPages {
    static let pageSize = 5000
    let store: any ServerStore
    let tokenHash: String
    let now: Int64

    /// Hands `body` each page of events after `cursor` and up to `end` (and no further than the
    /// feed's end when the first page was read), in feed order.
    /// - Returns: the feed's root and end as the first page read them, without events; nil when
    ///   the token does not authenticate (any page: a token revoked meanwhile stops the read).
    func forEach(after cursor: Int64 = 0, through end: Int64 = .max, _ body: ([ProgressEvent]) async throws -> Void) async throws -> LearnerFeed? {
        var position = cursor
        var head: LearnerFeed?
        while true {
            guard let page = try await store.learnerEvents(
                tokenHash: tokenHash, now: now, after: position, through: min(end, head?.feedEnd ?? end), limit: Self.pageSize)
            else { return nil }
            if head == nil { head = LearnerFeed(learner: page.learner, events: [], last: cursor, feedEnd: page.feedEnd) }
            if !page.events.isEmpty { try await body(page.events) }
            guard page.events.count == Self.pageSize else { return head }
            position = page.last
        }
    }

    /// The feed up to its end graded in two passes over its pages: the resets first (they decide
    /// which other events count), then every other event once. Memory holds the progress and a
    /// page, never the log.
    /// - Parameter each: also handed each page of the second pass (an export writes them).
    /// - Returns: nil when the token does not authenticate.
    func grade(
        catalog: Catalog, through end: Int64 = .max, each: ([ProgressEvent]) async throws -> Void = { _ in }
    ) async throws -> (feed: LearnerFeed, courses: [CourseID: CourseProgress])? {
        var resets = [CourseID: [ProgressEvent]]()
        guard let feed = try await forEach(through: end, { page in
            for event in page where event.isReset { resets[event.course, default: []].append(event) }
        }) else { return nil }
        var builders = resets.mapValues { ProgressBuilder(course: $0[0].course, catalog: catalog, resets: $0) }
        guard try await forEach(through: feed.feedEnd, { page in
            for event in page where !event.isReset {
                builders[event.course, default: ProgressBuilder(course: event.course, catalog: catalog, resets: [])].add(event)
            }
            try await each(page)
        }) != nil else { return nil }
        return (feed, builders.mapValues { $0.finish() })
    }
}
