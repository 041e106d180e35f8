import Store
import Telemetry

extension LiteLLMImporter {
    /// `LiteLLM_VerificationToken`. LiteLLM's `token` is `sha256(raw key).hexdigest()` over the
    /// whole key, `sk-` included (litellm 1.108.7, `proxy/_types.py` `hash_token`), which is what
    /// Spanway's `KeyDigest` computes: the key is the same record, and the raw key still works.
    mutating func importKeys() async throws {
        let table = LiteLLMTables.keys
        for object in try await rows(table) {
            var row = LiteLLMRow(table: table, object: object)
            guard let token = row.string("token") else {
                skip("keys", table, missing: "token")
                continue
            }
            guard Self.isDigest(token) else {
                // Not a SHA-256 hex digest, so no presented key can ever hash to it.
                report.record("keys") { $0.skipped += 1 }
                report.dropped(table, ["token (not a SHA-256 hex digest; the key was skipped)"])
                continue
            }
            let existing = try await store.fetch(VirtualKey.self, id: token)
            var key = existing ?? VirtualKey(token: token, keyName: "sk-...", createdAt: now)
            key.keyName = row.string("key_name") ?? "sk-..."
            key.keyAlias = row.string("key_alias")
            key.teamID = row.string("team_id")
            key.userID = row.string("user_id")
            key.organizationID = row.string("organization_id")
            key.aliases = row.stringMap("aliases")
            key.limits = row.limits()
            let metadata = row.object("metadata") ?? JSONObject()
            key.metadata = JSONValue.object(metadata).encodedString()
            // LiteLLM keeps a key's tags in its metadata.
            key.tags = metadata["tags"]?.arrayValue?.compactMap(\.stringValue) ?? []
            key.expiresAt = row.timestamp("expires")
            key.blocked = row.bool("blocked") ?? false
            key.createdAt = row.timestamp("created_at") ?? key.createdAt
            key.updatedAt = row.timestamp("updated_at")
            key.allowedRoutes = row.strings("allowed_routes")
            // LiteLLM makes a key's tier to hold its `soft_budget`; the tier's limits bind the key
            // through the link, and Spanway's alerts read the key's own soft budget.
            key.budgetID = row.string("budget_id")
            key.softBudget = key.budgetID.flatMap { budgets[$0]?["soft_budget"]?.doubleValue }
            if let budgetID = key.budgetID, budgets[budgetID] == nil {
                report.dangling(table, "budget_id")
            }
            // Imported as they are (LiteLLM's UI keys name a `litellm-dashboard` team that is no row).
            if let team = key.teamID, !teamIDs.contains(team) { report.dangling(table, "team_id") }
            if let user = key.userID, !userIDs.contains(user) { report.dangling(table, "user_id") }
            let kept = row.keeping(Self.keptKeyColumns, in: key.litellmFields)
            key.litellmFields = kept.fields
            finish(row, kept: kept.kept)
            try await save(key, existing: existing, kind: "keys")
        }
    }

    /// The key columns the admin API keeps in `litellm_fields` and shows back.
    static let keptKeyColumns = [
        "key_type", "project_id", "agent_id", "auto_rotate", "rotation_interval", "config", "permissions",
        "model_max_budget", "budget_fallbacks", "budget_limits", "tpd_limit", "policies", "access_group_ids",
        "allowed_cache_controls", "router_settings", "created_by", "updated_by",
    ]

    static func isDigest(_ token: String) -> Bool {
        token.utf8.count == 64 && token.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
