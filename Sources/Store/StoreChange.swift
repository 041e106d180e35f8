/// A write to keys, teams, users or organisations that other replicas' caches must hear of.
public enum StoreChange: Sendable, Equatable {
    /// One record was inserted, updated or had its budget reset.
    case record(BudgetOwner, id: String)
    /// Records were deleted. Deletes cascade (a team takes its keys), so any record may be stale.
    case all
    /// A model was added, changed or deleted through the admin API (`/model/new`).
    case models
}
