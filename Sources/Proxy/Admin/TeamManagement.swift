import Foundation
import HTTPTypes
import NIOCore
import Store
import Telemetry

/// `/team/*` with LiteLLM's field names. Master key only. A team's limits bind all its keys.
public struct TeamManagement: EntityEndpoints, Sendable {
    let entity: EntityAdmin<Team>
    /// Where a team's own callbacks may send (`spanway_settings.allowed_egress`).
    let egress: EgressPolicy

    /// `egress` holds `spanway_settings.allowed_egress`; a team's callbacks never read the environment.
    init(
        store: any GatewayStore, authenticator: Authenticator, egress: EgressPolicy = EgressPolicy(allowed: [])
    ) {
        self.egress = egress
        self.entity = EntityAdmin(
            store: store, authenticator: authenticator,
            // A team can only belong to an organization that exists.
            validate: { team throws(GatewayError) in
                try await TeamManagement.checkTraceSettings(team, egress: egress)
                guard let id = team.organizationID else { return }
                guard try await AdminInput.store({ try await store.fetch(Organization.self, id: id) }) != nil else {
                    throw .invalidRequest(
                        "Unknown organization '\(id)'.", param: "organization_id", code: "organization_not_found")
                }
            })
    }

    public func info(_ uri: String, headers: HTTPFields) async -> GatewayReply {
        // A team member's key may read its own team.
        let asked = try? EntityAdmin<Team>.id(in: uri)
        return await AdminInput.answer(authenticator, headers, allowingKeyOfTeam: asked) {
            () async throws(GatewayError) -> JSONValue in
            let team = try await entity.existing(try EntityAdmin<Team>.id(in: uri))
            let keys = try await AdminInput.store {
                try await store.keys(teamID: team.teamID, userID: nil, limit: Int(Int32.max), offset: 0)
            }
            // LiteLLM's `TeamInfoResponseObject`; a member's spend is what the spend log holds for
            // them in this team (Spanway keeps no per-member budget rows), summed by the database.
            let spend = try await AdminInput.store { try await store.teamMemberSpend(teamID: team.teamID) }
            let memberships = team.members.map { member -> JSONValue in
                .object([
                    "team_id": .string(team.teamID), "user_id": .string(member.userID),
                    "spend": .double(spend[member.userID] ?? 0), "budget_id": .null, "litellm_budget_table": .null,
                ])
            }
            return .object([
                "team_id": .string(team.teamID), "team_info": .object(team.json),
                "keys": .array(keys.keys.map { .object(KeyManagement.info($0)) }),
                "team_memberships": .array(memberships),
            ])
        }
    }

    public func list(headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            .array(try await AdminInput.store { try await store.teams() }.map { .object($0.json) })
        }
    }

    /// `/team/member_add` (LiteLLM's `TeamMemberAddRequest`). A member named by `user_email`
    /// alone is that user, or, as LiteLLM does, a new user with that email. `max_budget_in_team`,
    /// `budget_duration` and `allowed_models` are accepted without effect: Spanway keeps no
    /// per-member budgets or model lists.
    public func addMember(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(
                object.keys, ["team_id", "member", "max_budget_in_team", "budget_duration", "allowed_models"])
            var team = try await entity.existing(try AdminInput.requiredString(object, "team_id"))
            guard let member = object["member"] else { throw .invalidRequest("'member' is required.", param: "member") }
            var items: [JSONValue] = []
            for item in member.arrayValue ?? [member] {
                guard item["user_id"]?.stringValue == nil, let email = item["user_email"]?.stringValue else {
                    items.append(item)
                    continue
                }
                var named = item.objectValue ?? [:]
                named["user_id"] = .string(try await userID(forEmail: email))
                items.append(.object(named))
            }
            for added in try Team.members(items, field: "member") {
                guard !team.members.contains(where: { $0.userID == added.userID }) else {
                    throw .invalidRequest("User '\(added.userID)' is already a member of this team.", param: "member")
                }
                team.members.append(added)
            }
            try await AdminInput.store { try await store.update(team) }
            return .object(team.json)
        }
    }

    /// `/team/member_delete`: the member named by `user_id` or `user_email`.
    public func deleteMember(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, ["team_id", "user_id", "user_email"])
            var team = try await entity.existing(try AdminInput.requiredString(object, "team_id"))
            let user: String
            if object["user_id"] == nil, let email = object["user_email"]?.stringValue {
                user = try await userID(forEmail: email, creating: false)
            } else {
                user = try AdminInput.requiredString(object, "user_id")
            }
            guard team.members.contains(where: { $0.userID == user }) else {
                throw .notFound("User '\(user)' is not a member of this team.")
            }
            team.members.removeAll { $0.userID == user }
            try await AdminInput.store { try await store.update(team) }
            return .object(team.json)
        }
    }

    /// The id of the user with this email (compared case-blind); with `creating`, a new user's
    /// when there is none.
    private func userID(forEmail email: String, creating: Bool = true) async throws(GatewayError) -> String {
        let users = try await AdminInput.store { try await store.users(limit: Int(Int32.max), offset: 0).users }
        if let user = users.first(where: { $0.userEmail?.lowercased() == email.lowercased() }) { return user.userID }
        guard creating else { throw .notFound("No user with user_email '\(email)'.") }
        var user = User(userID: UUID().uuidString.lowercased(), createdAt: authenticator.clock.nowSeconds())
        user.userEmail = email
        try await AdminInput.store { try await store.insert(user) }
        return user.userID
    }
}

extension Team: AdminEntity {
    static let updateAnswerWrapped = true

    static let adminFields = AdminFields<Team>(
        [
            .shown("team_id") { .string($0.teamID) },
            .text("team_alias", \.teamAlias),
            .text("organization_id", \.organizationID),
            .flag("blocked", \.blocked),
            .stored(
                "members_with_roles", \.members,
                { value, field throws(GatewayError) in try members(value.arrayValue ?? [], field: field) },
                show: { .array($0.map { .object(["user_id": .string($0.userID), "role": .string($0.role)]) }) }),
            .nameMap("model_aliases", \.modelAliases),
            .shown("created_at") { AdminValue.date($0.createdAt) },
        ]
            + AdminField.limitFields { text in
                // Team callbacks carry credentials: answers show them masked, as `GET /team/{id}/callback` does.
                .object(TeamManagement.masked(AdminValue.parsedObject(text).objectValue ?? [:]))
            } + AdminField.kept(litellmOnlyFields, in: \.litellmFields))

    /// LiteLLM's team fields (litellm 1.108.7 `NewTeamRequest`, `UpdateTeamRequest`) Spanway keeps
    /// and shows back, most of them without acting on them; `ModelLimits` reads the per-model
    /// rate limits and `TeamMemberLimits` the members' rate limits and budget.
    static let litellmOnlyFields: [(name: String, kind: AdminValue.Kind, empty: JSONValue)] = [
        ("soft_budget", .number, .null), ("tags", .list, .null), ("model_max_budget", .object, .null),
        ("model_rpm_limit", .object, .null), ("model_tpm_limit", .object, .null), ("tpd_limit", .count, .null),
        ("rpm_limit_type", .choice(["guaranteed_throughput", "best_effort_throughput"]), .null),
        ("tpm_limit_type", .choice(["guaranteed_throughput", "best_effort_throughput"]), .null),
        ("team_member_budget", .number, .null), ("team_member_budget_duration", .text, .null),
        ("team_member_rpm_limit", .count, .null), ("team_member_tpm_limit", .count, .null),
        ("team_member_key_duration", .text, .null), ("team_member_model_max_budget", .object, .null),
        ("team_member_permissions", .list, .null), ("default_team_member_models", .list, .null),
        ("admins", .list, .null), ("members", .list, .null),
        ("guardrails", .list, .null), ("policies", .list, .null), ("prompts", .list, .null),
        ("object_permission", .object, .null), ("allowed_passthrough_routes", .list, .null),
        ("denied_passthrough_routes", .list, .null), ("disable_global_guardrails", .flag, .null),
        ("require_trace_id", .flag, .null), ("secret_manager_settings", .object, .null),
        ("default_estimated_output_tokens", .count, .null), ("default_estimated_output_tokens_per_model", .object, .null),
        ("mcp_rpm_limit", .object, .null), ("allowed_vector_store_indexes", .list, .null),
        ("enforced_batch_output_expires_after", .object, .null), ("enforced_file_expires_after", .object, .null),
        ("router_settings", .object, .null), ("access_group_ids", .list, .null), ("budget_limits", .list, .null),
    ]

    init(id: String, createdAt: Double) {
        self.init(teamID: id, createdAt: createdAt)
    }

    /// `{"user_id": …, "role": "admin" | "user"}` items.
    static func members(_ items: [JSONValue], field: String) throws(GatewayError) -> [Member] {
        var members: [Member] = []
        for item in items {
            guard let user = item["user_id"]?.stringValue, !user.isEmpty else {
                throw .invalidRequest("Each of '\(field)' needs a 'user_id' string.", param: field)
            }
            let role = item["role"]?.stringValue ?? "user"
            guard ["admin", "user"].contains(role) else {
                throw .invalidRequest("A member's 'role' must be 'admin' or 'user'.", param: field)
            }
            members.append(Member(userID: user, role: role))
        }
        return members
    }
}
