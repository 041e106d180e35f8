import Store
import Telemetry

extension LiteLLMImporter {
    /// LiteLLM's daily tables into Spanway's rollups (day, key, team, model group, provider).
    /// `LiteLLM_DailyTeamSpend` holds the requests made with a team, `LiteLLM_DailyUserSpend`
    /// every request (its user may be NULL); so a day's team rows go to their team, and what the
    /// user rows have beyond them, for the same key, model and provider, to no team.
    mutating func importDailySpend() async throws {
        var totals: [Slot: DailySpendTotal] = [:]
        var teamShare: [Slot: DailySpendTotal] = [:]
        for (table, teamed) in [(LiteLLMTables.dailyTeamSpend, true), (LiteLLMTables.dailyUserSpend, false)] {
            for object in try await rows(table) {
                var row = LiteLLMRow(table: table, object: object)
                guard let day = row.string("date"), let key = row.string("api_key") else { continue }
                let team = teamed ? row.string("team_id") ?? "" : ""
                if teamed && team.isEmpty { continue }
                // LiteLLM's `model_group` is the name the client asked for: Spanway's model group.
                let group = row.string("model_group") ?? row.string("model") ?? ""
                let provider = row.string("custom_llm_provider") ?? ""
                let figures = DailySpendTotal(
                    day: day, keyHash: key, teamID: team, modelGroup: group, provider: provider,
                    requests: row.int("api_requests") ?? 0, inputTokens: row.int("prompt_tokens") ?? 0,
                    outputTokens: row.int("completion_tokens") ?? 0, spend: row.double("spend") ?? 0)
                row.consume("id", "user_id", "model", "endpoint", "mcp_namespaced_tool_name", "created_at", "updated_at")
                report.dropped(table, row.unreadValues)
                let untethered = Slot(day: day, keyHash: key, modelGroup: group, provider: provider)
                if teamed {
                    Self.add(
                        figures, at: Slot(day: day, keyHash: key, teamID: team, modelGroup: group, provider: provider),
                        to: &totals)
                    Self.add(figures, at: untethered, to: &teamShare)
                } else {
                    Self.add(figures, at: untethered, to: &totals)
                }
            }
        }
        // The user rows counted the team rows' requests too.
        for (slot, share) in teamShare {
            guard var rest = totals[slot] else { continue }
            rest.requests = max(0, rest.requests - share.requests)
            rest.inputTokens = max(0, rest.inputTokens - share.inputTokens)
            rest.outputTokens = max(0, rest.outputTokens - share.outputTokens)
            rest.spend = max(0, rest.spend - share.spend)
            // Float sums differ in their last bits: what is left of a fully teamed slot is nothing.
            if rest.requests == 0 && rest.spend < 1e-9 && rest.inputTokens == 0 && rest.outputTokens == 0 {
                totals[slot] = nil
            } else {
                totals[slot] = rest
            }
        }
        let rows = totals.values.sorted {
            ($0.day, $0.keyHash, $0.teamID, $0.modelGroup, $0.provider) < (
                $1.day, $1.keyHash, $1.teamID, $1.modelGroup, $1.provider
            )
        }
        for table in LiteLLMTables.otherDailySpend where tables.contains(table) {
            let skipped = try await source.count(of: table)
            if skipped > 0 {
                report.note(
                    "\(table): \(skipped) row\(skipped == 1 ? "" : "s") not imported (Spanway's rollups are by key, team, model group and provider)"
                )
            }
        }
        guard let rollups = store as? any DailySpendReplacing else {
            if !rows.isEmpty { report.note("daily spend: \(rows.count) rollup rows not written (this store cannot set them)") }
            return
        }
        try await rollups.replaceDailySpend(rows)
        report.note(
            "daily spend: \(rows.count) rollup rows set (not added to, never lowered) from LiteLLM's daily user and team tables")
    }

    /// Adds `figures` to the total at `slot`, whose team it takes.
    static func add(_ figures: DailySpendTotal, at slot: Slot, to totals: inout [Slot: DailySpendTotal]) {
        var total =
            totals[slot]
            ?? DailySpendTotal(
                day: slot.day, keyHash: slot.keyHash, teamID: slot.teamID, modelGroup: slot.modelGroup, provider: slot.provider)
        total.requests += figures.requests
        total.inputTokens += figures.inputTokens
        total.outputTokens += figures.outputTokens
        total.spend += figures.spend
        totals[slot] = total
    }

    /// Where a daily figure lands.
    struct Slot: Hashable {
        var day: String
        var keyHash: String
        var teamID = ""
        var modelGroup: String
        var provider: String
    }
}
