/// What the ledger and the admin API ask of persistence. SQLite implements it today; a
/// PostgreSQL store will implement the same protocol.
public protocol GatewayStore: Sendable {
    /// Fails when a record with the same id exists.
    func insert<Record: LimitedRecord>(_ record: Record) async throws
    func fetch<Record: LimitedRecord>(_ type: Record.Type, id: String) async throws -> Record?
    func update<Record: LimitedRecord>(_ record: Record) async throws
    /// Deletes the records with these ids and what belongs to them (a user's or team's keys, an
    /// organisation's teams and their keys); returns how many of the records existed.
    func delete<Record: LimitedRecord>(_ type: Record.Type, ids: [String]) async throws -> Int
    func keys(teamID: String?, userID: String?, limit: Int, offset: Int) async throws -> (keys: [VirtualKey], total: Int)
    func users(limit: Int, offset: Int) async throws -> (users: [User], total: Int)
    func teams() async throws -> [Team]
    func organizations() async throws -> [Organization]
    /// Every record of one kind, oldest first: end users and budget tiers (`/end_user/list`, `/budget/list`).
    func all<Record: LimitedRecord>(_ type: Record.Type) async throws -> [Record]
    /// Writes the rows, adds their spend to their keys, teams, users, organisations and the daily
    /// rollups, in one transaction.
    /// Writing a request id again changes nothing (a retried commit cannot double-charge).
    func recordSpend(_ rows: [SpendRow]) async throws
    func spendLogs(_ query: SpendQuery) async throws -> [SpendRow]
    /// Sets the owner's spend to 0 and its next reset to `next`, if its reset was due by `now`.
    /// An owner without a reset time (one on its budget tier's period) has its period started
    /// instead: its next reset set to `next`, its spend kept; spend is zeroed only once a period
    /// the record itself started has ended.
    /// Returns false when another caller reset it first (so a reset happens once).
    func resetBudget(of owner: BudgetOwner, id: String, dueBy now: Double, next: Double) async throws -> Bool
    /// Totals over `spend_logs` grouped by one dimension, largest spend first.
    func spendReport(by grouping: SpendGrouping, since: Int64?, until: Int64?) async throws -> [SpendTotal]
    /// Each user's spend on the team's requests, summed by the database.
    func teamMemberSpend(teamID: String) async throws -> [String: Double]
    /// Requests, errors, latency percentiles, tokens and cost over a window of `spend_logs`,
    /// grouped; percentiles exact over the window's rows.
    func analytics(_ query: AnalyticsQuery) async throws -> AnalyticsResult
    /// Deletes spend rows that started before `before` (ms since the epoch); keeps the daily
    /// rollups and the budgets. Returns how many rows went.
    func pruneSpendLogs(before: Int64) async throws -> Int
    /// Models added through the admin API, oldest first.
    func storedModels() async throws -> [StoredModel]
    /// Inserts the model, or replaces the one with its id.
    func saveModel(_ model: StoredModel) async throws
    /// Inserts the model unless one with its id exists, in one statement; false when one did (and
    /// was left as it was). What `/model/new` writes, so that no create replaces a model.
    func insertModel(_ model: StoredModel) async throws -> Bool
    /// Deletes the model with this id; false when there was none.
    func deleteModel(id: String) async throws -> Bool
    /// Inserts the Responses API answer, or replaces the one with its id.
    func saveResponse(_ record: StoredResponseRecord) async throws
    /// The answer with this id; nil when there is none or it expired by `now` (unix seconds).
    func storedResponse(id: String, now: Double) async throws -> StoredResponseRecord?
    /// Deletes the answer with this id if `owner` owns it (any owner when nil); false when none was deleted.
    func deleteResponse(id: String, owner: String?) async throws -> Bool
    /// Deletes the answers expired by `now` (unix seconds); returns how many went.
    func deleteExpiredResponses(now: Double) async throws -> Int
}

/// Who a budget belongs to; the raw value is how refusals, metrics and admin paths name it.
public enum BudgetOwner: String, Sendable, CaseIterable {
    case key, team, user, organization
    /// An end user named by a request (`/end_user/*`).
    case endUser = "end_user"
    /// A budget tier (`/budget/*`): it binds the records linked to it and is never charged.
    case budget
}

public enum SpendGrouping: String, Sendable, CaseIterable {
    case team, key, user, model, provider, day
}

public struct SpendTotal: Sendable, Equatable {
    public var group: String
    public var requests: Int
    public var inputTokens: Int
    public var outputTokens: Int
    public var spend: Double

    public init(group: String, requests: Int, inputTokens: Int, outputTokens: Int, spend: Double) {
        self.group = group
        self.requests = requests
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.spend = spend
    }
}

public struct SpendQuery: Sendable, Equatable {
    public var keyHash: String?
    public var teamID: String?
    public var userID: String?
    public var modelGroup: String?
    /// Milliseconds since the epoch, inclusive.
    public var since: Int64?
    /// Milliseconds since the epoch, exclusive.
    public var until: Int64?
    public var limit: Int
    public var offset: Int

    public init(
        keyHash: String? = nil, teamID: String? = nil, userID: String? = nil, modelGroup: String? = nil,
        since: Int64? = nil, until: Int64? = nil, limit: Int = 100, offset: Int = 0
    ) {
        self.keyHash = keyHash
        self.teamID = teamID
        self.userID = userID
        self.modelGroup = modelGroup
        self.since = since
        self.until = until
        self.limit = limit
        self.offset = offset
    }
}
