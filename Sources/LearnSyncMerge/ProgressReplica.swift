public import LearnSyncModels

/// An in-memory replica of the progress CRDT: a grow-only set of events plus alias edges, with
/// progress kept materialized per (learner, course) and updated incrementally.
///
/// Merging replicas is set union; inserting an event twice is a no-op. This is the reference
/// the device store and the server follow, and what the property tests exercise.
public struct ProgressReplica: Sendable {
    public let catalog: Catalog
    public private(set) var events: [EventID: ProgressEvent] = [:]
    public private(set) var aliases = AliasSet()
    private var progress: [LearnerID: [CourseID: CourseProgress]] = [:]

    public init(catalog: Catalog) {
        self.catalog = catalog
    }

    /// Adds an event. Returns false if it was already there.
    /// - Throws: ``ModelError`` when the catalog does not know the event's course or items.
    @discardableResult
    public mutating func insert(_ event: ProgressEvent) throws(ModelError) -> Bool {
        try catalog.validate(event)
        guard events.updateValue(event, forKey: event.id) == nil else { return false }
        apply(event, root: aliases.root(of: event.learner))
        return true
    }

    /// Attaches a guest to an account; the account's progress now includes the guest's events.
    @discardableResult
    public mutating func attach(guest: LearnerID, to account: LearnerID) throws(ModelError) -> Bool {
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
    public mutating func merge(_ other: ProgressReplica) throws(ModelError) {
        for edge in other.aliases.edges { try attach(guest: edge.guest, to: edge.account) }
        for event in other.events.values { try insert(event) }
    }

    /// The progress of `learner` (resolved through aliases) in `course`.
    public func progress(of learner: LearnerID, in course: CourseID) -> CourseProgress {
        progress[aliases.root(of: learner)]?[course] ?? CourseProgress(course: course)
    }

    /// Every (learner, course) progress, for comparing replicas.
    public var allProgress: [LearnerID: [CourseID: CourseProgress]] { progress }

    private mutating func apply(_ event: ProgressEvent, root: LearnerID) {
        guard catalog[event.course] != nil else { return }
        var current = progress[root]?[event.course] ?? CourseProgress(course: event.course)
        if current.apply(event, catalog: catalog) == .rebuild {
            current = CourseProgress.rebuild(
                course: event.course, catalog: catalog,
                from: events.values.filter { $0.course == event.course && aliases.root(of: $0.learner) == root })
        }
        progress[root, default: [:]][event.course] = current
    }
}
