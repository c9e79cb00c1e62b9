/// The SQL both SQLite stores (the device's and the server's) migrate their event tables with.
/// Shipped: never edit it; a later change is a new migration.
package enum EventPayloadMigration {
    /// The payload's columns as the wire names them: `answers` keeps a quiz's answers, a reset's
    /// seen set moves to `seen`; `amount` splits into a time-spent event's `seconds`, a resume
    /// event's `position` and a quiz attempt's course `version`.
    package static let splitSQL = """
        ALTER TABLE event ADD COLUMN seen TEXT;
        ALTER TABLE event ADD COLUMN seconds INTEGER;
        ALTER TABLE event ADD COLUMN position INTEGER;
        ALTER TABLE event ADD COLUMN version INTEGER;
        UPDATE event SET seen = COALESCE(answers, ''), answers = NULL WHERE type = 'course.reset';
        UPDATE event SET seconds = amount WHERE type = 'time.spent';
        UPDATE event SET position = amount WHERE type = 'resume';
        UPDATE event SET version = amount WHERE type = 'quiz.attempt';
        ALTER TABLE event DROP COLUMN amount;
        """
}
