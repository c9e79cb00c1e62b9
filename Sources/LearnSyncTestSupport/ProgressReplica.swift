package import LearnSyncMerge
package import LearnSyncModels

/// An in-memory replica of the progress CRDT: a grow-only set of events plus alias edges, with
/// progress kept materialized per (learner, course) and updated incrementally.
///
/// Merging replicas is set union; inserting an event twice is a no-op. This is the reference
/// the device store and the server follow, and what the property tests exercise.
package struct ProgressReplica: Sendable {
    package let catalog: Catalog
    package private(set) var events: [EventID: ProgressEvent] = [:]
    package private(set) var aliases = AliasSet()
    private var progress: [LearnerID: [CourseID: CourseProgress]] = [:]

    package init(catalog: Catalog) {
        self.catalog = catalog
    }

    /// Adds an event. Returns false if it was already there.
    /// - Throws: ``ModelError`` when the catalog does not know the event's course or items.
    @discardableResult
    package mutating func insert(_ event: ProgressEvent) throws(ModelError) -> Bool {
        try catalog.validate(event)
        guard events.updateValue(event, forKey: event.id) == nil else { return false }
        apply(event, root: aliases.root(of: event.learner))
        return true
    }

    /// Attaches a guest to an account; the account's progress now includes the guest's events.
    @discardableResult
    package mutating func attach(guest: LearnerID, to account: LearnerID) throws(ModelError) -> Bool {
        guard try aliases.insert(guest: guest, account: account) else { return false }
        progress[guest] = nil
        var rebuilt = [CourseID: CourseProgress]()
        let members = events.values.filter { aliases.root(of: $0.learner) == account }
        for course in catalog.courses {
            let ofCourse = members.filter { $0.course == course.id }
            if !ofCourse.isEmpty { rebuilt[course.id] = CourseProgress.rebuild(course: course.id, catalog: catalog, from: ofCourse) }
        }
        progress[account] = rebuilt.isEmpty ? nil : rebuilt
        return true
    }

    /// Set union with another replica: every event and alias of `other` is added here.
    package mutating func merge(_ other: ProgressReplica) throws(ModelError) {
        for edge in other.aliases.edges { try attach(guest: edge.guest, to: edge.account) }
        for event in other.events.values { try insert(event) }
    }

    /// The progress of `learner` (resolved through aliases) in `course`.
    package func progress(of learner: LearnerID, in course: CourseID) -> CourseProgress {
        progress[aliases.root(of: learner)]?[course] ?? CourseProgress(course: course)
    }

    /// Every (learner, course) progress, for comparing replicas.
    package var allProgress: [LearnerID: [CourseID: CourseProgress]] { progress }

    private mutating func apply(_ event: ProgressEvent, root: LearnerID) {
        guard catalog.contains(event.course) else { return }
        var current = progress[root]?[event.course] ?? CourseProgress(course: event.course)
        if current.apply(event, catalog: catalog) == .rebuild {
            current = CourseProgress.rebuild(
                course: event.course, catalog: catalog,
                from: events.values.filter { $0.course == event.course && aliases.root(of: $0.learner) == root })
        }
        progress[root, default: [:]][event.course] = current
    }
}
