import GRDB

/// One answered request in the ledger. Small on purpose: ids, tokens and cost, no copies of
/// prices or prompts.
public struct SpendRow: Sendable, Equatable, Codable, SnakeCaseColumns, PersistableRecord {
    public static let databaseTableName = "spend_logs"

    public var requestID: String
    public var traceID: String
    /// Milliseconds since the epoch.
    public var startTime: Int64
    public var endTime: Int64
    public var keyHash: String?
    public var keyAlias: String?
    public var teamID: String?
    public var userID: String?
    public var orgID: String?
    public var operation: String
    public var model: String?
    public var modelGroup: String?
    public var deploymentID: String?
    public var provider: String?
    public var inputTokens: Int
    public var outputTokens: Int
    public var cacheReadTokens: Int
    public var cacheCreationTokens: Int
    public var reasoningTokens: Int
    public var spend: Double
    public var statusCode: Int
    public var errorType: String?
    /// The tokens were estimated by the gateway (an interrupted stream), not reported by the provider.
    public var usageEstimated = false
    /// The evaluation run (`spanway eval`) and dataset item the request was sent for.
    public var evalRunID: String?
    public var evalItemID: String?

    public init(
        requestID: String, traceID: String, startTime: Int64, endTime: Int64, keyHash: String? = nil,
        keyAlias: String? = nil, teamID: String? = nil, userID: String? = nil, orgID: String? = nil,
        operation: String, model: String? = nil, modelGroup: String? = nil, deploymentID: String? = nil,
        provider: String? = nil, inputTokens: Int = 0, outputTokens: Int = 0, cacheReadTokens: Int = 0,
        cacheCreationTokens: Int = 0, reasoningTokens: Int = 0, spend: Double = 0, statusCode: Int,
        errorType: String? = nil
    ) {
        self.requestID = requestID
        self.traceID = traceID
        self.startTime = startTime
        self.endTime = endTime
        self.keyHash = keyHash
        self.keyAlias = keyAlias
        self.teamID = teamID
        self.userID = userID
        self.orgID = orgID
        self.operation = operation
        self.model = model
        self.modelGroup = modelGroup
        self.deploymentID = deploymentID
        self.provider = provider
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cacheReadTokens = cacheReadTokens
        self.cacheCreationTokens = cacheCreationTokens
        self.reasoningTokens = reasoningTokens
        self.spend = spend
        self.statusCode = statusCode
        self.errorType = errorType
    }
}

extension SpendRow {
    /// The key, team, user and organisation the row's spend is added to (those it names).
    var budgetOwners: [(owner: BudgetOwner, id: String)] {
        [(BudgetOwner.key, keyHash), (.team, teamID), (.user, userID), (.organization, orgID)].compactMap { owner, id in
            id.map { (owner, $0) }
        }
    }
}
