import Store
import Telemetry

extension LiteLLMImporter {
    /// `LiteLLM_TeamTable`, its members from `members_with_roles` (roles as given) and from the
    /// places LiteLLM also records membership: the `admins` and `members` lists,
    /// `LiteLLM_TeamMembership` rows and users' `teams` (as plain members).
    mutating func importTeams() async throws {
        let table = LiteLLMTables.teams
        let joined = try await membershipsByTeam()
        let aliases = try await modelAliasesByID()
        for object in try await rows(table) {
            var row = LiteLLMRow(table: table, object: object)
            guard let id = row.string("team_id") else {
                skip("teams", table, missing: "team_id")
                continue
            }
            teamIDs.insert(id)
            let existing = try await store.fetch(Team.self, id: id)
            var team = existing ?? Team(teamID: id, createdAt: now)
            team.teamAlias = row.string("team_alias")
            team.organizationID = row.string("organization_id")
            team.limits = row.limits()
            team.metadata = row.jsonText("metadata")
            team.blocked = row.bool("blocked") ?? false
            team.createdAt = row.timestamp("created_at") ?? team.createdAt
            team.members = members(&row, also: joined[id] ?? [])
            team.modelAliases = row.int("model_id").flatMap { aliases[$0] } ?? [:]
            let kept = row.keeping(Self.keptTeamColumns, in: team.litellmFields)
            team.litellmFields = kept.fields
            finish(row, kept: kept.kept)
            try await save(team, existing: existing, kind: "teams")
        }
    }

    /// The team columns the admin API keeps in `litellm_fields` and shows back.
    static let keptTeamColumns = [
        "soft_budget", "model_max_budget", "tpd_limit", "team_member_permissions", "default_team_member_models", "admins",
        "members", "policies",
    ]

    private mutating func members(_ row: inout LiteLLMRow, also joined: Set<String>) -> [Team.Member] {
        var members: [Team.Member] = []
        var seen = Set<String>()
        for item in row.array("members_with_roles") ?? [] {
            guard let user = item["user_id"]?.stringValue, !user.isEmpty else {
                // LiteLLM allows a member named by email only; Spanway's members are user ids.
                report.dropped(row.table, ["members_with_roles (member without user_id)"])
                continue
            }
            guard seen.insert(user).inserted else { continue }
            members.append(Team.Member(userID: user, role: item["role"]?.stringValue == "admin" ? "admin" : "user"))
        }
        for (users, role) in [(row.strings("admins"), "admin"), (row.strings("members"), "user"), (joined.sorted(), "user")] {
            for user in users where seen.insert(user).inserted {
                members.append(Team.Member(userID: user, role: role))
            }
        }
        return members
    }

    /// Team ids to the users `LiteLLM_TeamMembership` and users' `teams` lists put in them; the
    /// memberships' own budgets and spend are reported, not carried.
    private mutating func membershipsByTeam() async throws -> [String: Set<String>] {
        var joined: [String: Set<String>] = [:]
        for object in try await rows(LiteLLMTables.teamMemberships) {
            var row = LiteLLMRow(table: LiteLLMTables.teamMemberships, object: object)
            if let user = row.string("user_id"), let team = row.string("team_id") { joined[team, default: []].insert(user) }
            finish(row)
        }
        for object in try await rows(LiteLLMTables.users) {
            guard let user = object["user_id"]?.stringValue else { continue }
            for team in object["teams"]?.arrayValue?.compactMap(\.stringValue) ?? [] { joined[team, default: []].insert(user) }
            if let team = object["team_id"]?.stringValue { joined[team, default: []].insert(user) }
        }
        return joined
    }

    /// `LiteLLM_ModelTable` (a team's model aliases, linked by the team's `model_id`).
    private mutating func modelAliasesByID() async throws -> [Int: [String: String]] {
        var aliases: [Int: [String: String]] = [:]
        for object in try await rows("LiteLLM_ModelTable") {
            var row = LiteLLMRow(table: "LiteLLM_ModelTable", object: object)
            if let id = row.int("id") { aliases[id] = row.stringMap("aliases") }
        }
        return aliases
    }
}
