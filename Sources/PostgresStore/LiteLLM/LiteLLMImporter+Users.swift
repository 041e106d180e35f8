import Store
import Telemetry

extension LiteLLMImporter {
    /// `LiteLLM_UserTable`. Team membership (`teams`, `team_id`) arrives on the teams; a user's
    /// login password is never copied.
    mutating func importUsers() async throws {
        let table = LiteLLMTables.users
        for object in try await rows(table) {
            var row = LiteLLMRow(table: table, object: object)
            guard let id = row.string("user_id") else {
                skip("users", table, missing: "user_id")
                continue
            }
            userIDs.insert(id)
            let existing = try await store.fetch(User.self, id: id)
            var user = existing ?? User(userID: id, createdAt: now)
            user.userAlias = row.string("user_alias")
            user.userEmail = row.string("user_email")
            user.userRole = row.string("user_role") ?? "internal_user"
            user.limits = row.limits()
            user.metadata = row.jsonText("metadata")
            user.createdAt = row.timestamp("created_at") ?? user.createdAt
            row.consume("teams", "team_id")
            let kept = row.keeping(Self.keptUserColumns, in: user.litellmFields)
            user.litellmFields = kept.fields
            finish(row, kept: kept.kept)
            try await save(user, existing: existing, kind: "users")
        }
    }

    /// The user columns the admin API keeps in `litellm_fields` and shows back.
    static let keptUserColumns = ["sso_user_id", "model_max_budget", "allowed_cache_controls", "policies"]
}
