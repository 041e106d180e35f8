import Foundation
import HTTPTypes
import NIOCore
import Store
import Telemetry

/// `/team/*` with LiteLLM's field names. Master key only. A team's limits bind all its keys.
public struct TeamManagement: Sendable {
    let store: any GatewayStore
    let authenticator: Authenticator

    static let settable = Team.limitFields.union(["team_alias", "organization_id", "blocked", "members_with_roles"])

    public func create(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, Self.settable.union(["team_id"]))
            let id = object["team_id"] == nil ? UUID().uuidString.lowercased() : try AdminInput.requiredString(object, "team_id")
            let now = Date().timeIntervalSince1970
            var team = Team(teamID: id, createdAt: now)
            try Self.apply(object, to: &team, now: now)
            try await requireOrganization(team)
            guard try await AdminInput.store({ try await store.team(id: id) }) == nil else {
                throw .invalidRequest("A team with team_id '\(id)' already exists.", param: "team_id", code: "team_exists")
            }
            try await AdminInput.store { try await store.insertTeam(team) }
            return .object(Self.json(team))
        }
    }

    public func info(_ uri: String, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            guard let id = AdminInput.query(uri)["team_id"] else {
                throw .invalidRequest("'team_id' is required.", param: "team_id")
            }
            let team = try await existing(id)
            let keys = try await AdminInput.store { try await store.keys(teamID: id, userID: nil, limit: 1000, offset: 0) }
            return .object([
                "team_id": .string(id), "team_info": .object(Self.json(team)),
                "keys": .array(keys.keys.map { .string($0.token) }),
            ])
        }
    }

    public func update(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, Self.settable.union(["team_id"]))
            var team = try await existing(try AdminInput.requiredString(object, "team_id"))
            try Self.apply(object, to: &team, now: Date().timeIntervalSince1970)
            try await requireOrganization(team)
            try await AdminInput.store { try await store.updateTeam(team) }
            return .object(["team_id": .string(team.teamID), "data": .object(Self.json(team))])
        }
    }

    public func delete(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, ["team_ids"])
            let ids = try AdminInput.stringList(object, "team_ids")
            guard try await AdminInput.store({ try await store.deleteTeams(ids: ids) }) > 0 else {
                throw .notFound("None of these teams exists.")
            }
            return .object(["deleted_teams": .array(ids.map(JSONValue.string))])
        }
    }

    public func list(headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            .array(try await AdminInput.store { try await store.teams() }.map { .object(Self.json($0)) })
        }
    }

    public func addMember(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, ["team_id", "member"])
            var team = try await existing(try AdminInput.requiredString(object, "team_id"))
            guard let member = object["member"] else { throw .invalidRequest("'member' is required.", param: "member") }
            for added in try Self.members(member.arrayValue ?? [member], field: "member") {
                guard !team.members.contains(where: { $0.userID == added.userID }) else {
                    throw .invalidRequest("User '\(added.userID)' is already a member of this team.", param: "member")
                }
                team.members.append(added)
            }
            try await AdminInput.store { try await store.updateTeam(team) }
            return .object(Self.json(team))
        }
    }

    public func deleteMember(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, ["team_id", "user_id"])
            var team = try await existing(try AdminInput.requiredString(object, "team_id"))
            let user = try AdminInput.requiredString(object, "user_id")
            guard team.members.contains(where: { $0.userID == user }) else {
                throw .notFound("User '\(user)' is not a member of this team.")
            }
            team.members.removeAll { $0.userID == user }
            try await AdminInput.store { try await store.updateTeam(team) }
            return .object(Self.json(team))
        }
    }

    /// A team can only belong to an organization that exists.
    private func requireOrganization(_ team: Team) async throws(GatewayError) {
        guard let id = team.organizationID else { return }
        guard try await AdminInput.store({ try await store.organization(id: id) }) != nil else {
            throw .invalidRequest("Unknown organization '\(id)'.", param: "organization_id", code: "organization_not_found")
        }
    }

    private func existing(_ id: String) async throws(GatewayError) -> Team {
        guard let team = try await AdminInput.store({ try await store.team(id: id) }) else {
            throw .notFound("No team with team_id '\(id)'.")
        }
        return team
    }

    /// Checks each field like the key endpoints do, then applies it; `null` clears.
    static func apply(_ object: JSONObject, to team: inout Team, now: Double) throws(GatewayError) {
        for (field, value) in object.members where settable.contains(field) {
            if field == "members_with_roles" {
                team.members = try members(value.arrayValue ?? [], field: field)
                continue
            }
            try KeyFields.check(field, value)
            guard !team.applyLimitField(field, value, now: now) else { continue }
            switch field {
            case "team_alias": team.teamAlias = value.stringValue
            case "organization_id": team.organizationID = value.stringValue
            case "blocked": team.blocked = value.boolValue ?? false
            default: break
            }
        }
    }

    /// `{"user_id": …, "role": "admin" | "user"}` items.
    static func members(_ items: [JSONValue], field: String) throws(GatewayError) -> [Team.Member] {
        var members: [Team.Member] = []
        for item in items {
            guard let user = item["user_id"]?.stringValue, !user.isEmpty else {
                throw .invalidRequest("Each of '\(field)' needs a 'user_id' string.", param: field)
            }
            let role = item["role"]?.stringValue ?? "user"
            guard ["admin", "user"].contains(role) else {
                throw .invalidRequest("A member's 'role' must be 'admin' or 'user'.", param: field)
            }
            members.append(Team.Member(userID: user, role: role))
        }
        return members
    }

    static func json(_ team: Team) -> JSONObject {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        let own: JSONObject = [
            "team_id": .string(team.teamID), "team_alias": text(team.teamAlias), "organization_id": text(team.organizationID),
            "blocked": .bool(team.blocked),
            "members_with_roles": .array(team.members.map { .object(["user_id": .string($0.userID), "role": .string($0.role)]) }),
            "created_at": AdminInput.date(team.createdAt),
        ]
        return own.merging(team.limitJSON)
    }
}
