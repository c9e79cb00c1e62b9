package import GRDB
package import LearnSyncModels

extension EventColumns {
    /// The event columns (``EventColumns/names``) of a row, from column `first` on.
    package init(_ row: Row, from first: Int) {
        func at(_ column: Column) -> Int { first + Int(column.rawValue) }
        self.init(
            replica: row[at(.replica)], seq: row[at(.seq)], learner: row[at(.learner)], hlc: row[at(.hlc)], course: row[at(.course)],
            type: row[at(.type)], item: row[at(.item)], answers: row[at(.answers)], seen: row[at(.seen)], choice: row[at(.choice)],
            seconds: row[at(.seconds)], position: row[at(.position)], version: row[at(.version)])
    }
}
