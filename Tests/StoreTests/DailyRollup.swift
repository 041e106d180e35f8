/// One daily rollup row, read back the same way from either store.
struct DailyRollup: Equatable, Sendable {
    var day: String
    var keyHash: String
    var teamID: String
    var modelGroup: String
    var provider: String
    var requests: Int
    var inputTokens: Int
    var outputTokens: Int
    var spend: Double
}
