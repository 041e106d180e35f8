/// A store whose daily rollups can be set from totals that come from elsewhere (a LiteLLM
/// database's daily spend tables): setting the same totals twice leaves the same rows, where
/// `recordSpend` would add them again.
public protocol DailySpendReplacing: Sendable {
    /// Inserts each total; where a row with its day, key, team, model group and provider exists,
    /// each figure becomes the larger of the row's and the total's, so what Spanway itself
    /// counted in that slot is never lowered. All in one transaction.
    func replaceDailySpend(_ totals: [DailySpendTotal]) async throws
}
