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
    // What analytics reads. Optional: rows written before these columns existed (and journal
    // lines written by an older version) have none of them, and "unknown" must not read as 0.
    /// Upstream calls made (retries and fallbacks included); 0 when the request never reached one.
    public var attempts: Int?
    /// How many fallback groups deep the last attempt was; 0 when the requested group served it.
    public var fallbackDepth: Int?
    /// The whole request as the gateway saw it, first byte in to last byte out.
    public var latencyMs: Double?
    /// Time spent waiting on upstreams, over every attempt.
    public var upstreamLatencyMs: Double?
    /// Time the gateway itself added: `latencyMs` minus `upstreamLatencyMs`.
    public var overheadMs: Double?
    /// From the start of the answering upstream call to its first streamed chunk; nil when not streamed.
    public var timeToFirstTokenMs: Double?
    /// The request's tags; a JSON text array in the database.
    public var tags: [String]?
    /// The end user the client named (OpenAI's `user` field).
    public var endUser: String?

    public init(
        requestID: String, traceID: String, startTime: Int64, endTime: Int64, keyHash: String? = nil,
        keyAlias: String? = nil, teamID: String? = nil, userID: String? = nil, orgID: String? = nil,
        operation: String, model: String? = nil, modelGroup: String? = nil, deploymentID: String? = nil,
        provider: String? = nil, inputTokens: Int = 0, outputTokens: Int = 0, cacheReadTokens: Int = 0,
        cacheCreationTokens: Int = 0, reasoningTokens: Int = 0, spend: Double = 0, statusCode: Int,
        errorType: String? = nil, attempts: Int? = nil, fallbackDepth: Int? = nil, latencyMs: Double? = nil,
        upstreamLatencyMs: Double? = nil, overheadMs: Double? = nil, timeToFirstTokenMs: Double? = nil,
        tags: [String]? = nil, endUser: String? = nil
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
        self.attempts = attempts
        self.fallbackDepth = fallbackDepth
        self.latencyMs = latencyMs
        self.upstreamLatencyMs = upstreamLatencyMs
        self.overheadMs = overheadMs
        self.timeToFirstTokenMs = timeToFirstTokenMs
        self.tags = tags
        self.endUser = endUser
    }
}

extension SpendRow {
    /// The key, team, user, organisation and end user the row's spend is added to (those it names).
    var budgetOwners: [(owner: BudgetOwner, id: String)] {
        [(BudgetOwner.key, keyHash), (.team, teamID), (.user, userID), (.organization, orgID), (.endUser, endUser)]
            .compactMap { owner, id in id.map { (owner, $0) } }
    }
}
