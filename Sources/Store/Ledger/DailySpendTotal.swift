/// One row of the daily rollups (`daily_spend`): a day's requests, tokens and spend for one key,
/// team, model group and provider. Empty strings stand for "none", as in the table's key.
public struct DailySpendTotal: Sendable, Hashable {
    /// `YYYY-MM-DD`, UTC.
    public var day: String
    public var keyHash: String
    public var teamID: String
    public var modelGroup: String
    public var provider: String
    public var requests: Int
    public var inputTokens: Int
    public var outputTokens: Int
    public var spend: Double

    public init(
        day: String, keyHash: String, teamID: String, modelGroup: String, provider: String, requests: Int = 0,
        inputTokens: Int = 0, outputTokens: Int = 0, spend: Double = 0
    ) {
        self.day = day
        self.keyHash = keyHash
        self.teamID = teamID
        self.modelGroup = modelGroup
        self.provider = provider
        self.requests = requests
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.spend = spend
    }
}
