/// A store whose daily rollups can be set outright, for totals that come from elsewhere (a
/// LiteLLM database's daily spend tables): setting the same totals twice leaves the same rows,
/// where `recordSpend` would add them again.
public protocol DailySpendReplacing: Sendable {
    /// Inserts each total, or overwrites the row with its day, key, team, model group and
    /// provider; all in one transaction.
    func replaceDailySpend(_ totals: [DailySpendTotal]) async throws
}
