import GRDB
import LearnSyncModels

extension DeviceStore {
    /// Removes what the device holds of learners the server erased, named by the events it
    /// refused `erased-learner`: a guest erased with its account, whose events this device
    /// pulled while signed in to another account of the learner. The erasure is the learner's
    /// wish, not a conflict: their events, the edges naming them and their progress go, as they
    /// went from the server. The device's own learner is never removed here (an erased caller
    /// is refused as a whole request, and wipes the device). Returns whether anything went.
    static func removeErased(_ refused: [EventID], own learner: LearnerID, _ db: Database) throws -> Bool {
        var learners = Set<String>()
        for id in refused {
            guard let owner = try String.fetchOne(
                db.cachedStatement(sql: "SELECT learner FROM event WHERE replica = ? AND seq = ?"),
                arguments: [id.replica.rawValue, id.seq]), owner != learner.rawValue
            else { continue }
            learners.insert(owner)
        }
        let ofLearner = "SELECT replica, seq FROM event WHERE learner = ?"
        for erased in learners {
            for sql in [
                "DELETE FROM outbox WHERE (replica, seq) IN (\(ofLearner))",
                "DELETE FROM refusal WHERE (replica, seq) IN (\(ofLearner))",
                "DELETE FROM movedEvent WHERE (toReplica, toSeq) IN (\(ofLearner))",
                "DELETE FROM event WHERE learner = ?",
                "DELETE FROM alias WHERE guest = ?",
                "DELETE FROM progress WHERE learner = ?",
            ] {
                try db.execute(sql: sql, arguments: [erased])
            }
        }
        return !learners.isEmpty
    }
}
