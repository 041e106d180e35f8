extension GatewayStore {
    /// Each user's spend on a team's requests, from the ledger (what LiteLLM keeps as a team
    /// membership's spend). Stores answer with one aggregate query; this reads the rows, for
    /// stores that have no such query (test doubles, wrappers).
    public func teamMemberSpend(teamID: String) async throws -> [String: Double] {
        let rows = try await spendLogs(SpendQuery(teamID: teamID, limit: Int(Int32.max)))
        return rows.reduce(into: [:]) { totals, row in
            if let user = row.userID { totals[user, default: 0] += row.spend }
        }
    }
}
