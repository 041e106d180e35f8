import Foundation
import HTTPTypes
import NIOCore
import Store
import Telemetry

/// `/team/*` with LiteLLM's field names. Master key only. A team's limits bind all its keys.
public struct TeamManagement: Sendable {
    let store: any GatewayStore
    let authenticator: Authenticator
    let entity: EntityAdmin<Team>
    /// Where a team's own callbacks may send (`spanway_settings.allowed_egress`).
    let egress: EgressPolicy

    /// `egress` holds `spanway_settings.allowed_egress`; a team's callbacks never read the environment.
    init(
        store: any GatewayStore, authenticator: Authenticator, egress: EgressPolicy = EgressPolicy(allowed: [])
    ) {
        self.store = store
        self.authenticator = authenticator
        self.egress = egress
        self.entity = EntityAdmin(
            authenticator: authenticator, fetch: { try await store.team(id: $0) },
            insert: { try await store.insertTeam($0) },
            save: { try await store.updateTeam($0) },
            remove: { try await store.deleteTeams(ids: $0) },
            // A team can only belong to an organization that exists.
            validate: { team throws(GatewayError) in
                try await TeamManagement.checkTraceSettings(team, egress: egress)
                guard let id = team.organizationID else { return }
                guard try await AdminInput.store({ try await store.organization(id: id) }) != nil else {
                    throw .invalidRequest("Unknown organization '\(id)'.", param: "organization_id", code: "organization_not_found")
                }
            })
    }

    public func create(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await entity.create(body, headers: headers)
    }

    public func update(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await entity.update(body, headers: headers) { .object(["team_id": .string($0.teamID), "data": .object($0.json)]) }
    }

    public func delete(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await entity.delete(body, headers: headers)
    }

    public func info(_ uri: String, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let team = try await entity.existing(try EntityAdmin<Team>.id(in: uri))
            let keys = try await AdminInput.store { try await store.keys(teamID: team.teamID, userID: nil, limit: 1000, offset: 0) }
            return .object([
                "team_id": .string(team.teamID), "team_info": .object(team.json), "keys": .array(keys.keys.map { .string($0.token) }),
            ])
        }
    }

    public func list(headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            .array(try await AdminInput.store { try await store.teams() }.map { .object($0.json) })
        }
    }

    public func addMember(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, ["team_id", "member"])
            var team = try await entity.existing(try AdminInput.requiredString(object, "team_id"))
            guard let member = object["member"] else { throw .invalidRequest("'member' is required.", param: "member") }
            for added in try Team.members(member.arrayValue ?? [member], field: "member") {
                guard !team.members.contains(where: { $0.userID == added.userID }) else {
                    throw .invalidRequest("User '\(added.userID)' is already a member of this team.", param: "member")
                }
                team.members.append(added)
            }
            try await AdminInput.store { try await store.updateTeam(team) }
            return .object(team.json)
        }
    }

    public func deleteMember(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, ["team_id", "user_id"])
            var team = try await entity.existing(try AdminInput.requiredString(object, "team_id"))
            let user = try AdminInput.requiredString(object, "user_id")
            guard team.members.contains(where: { $0.userID == user }) else {
                throw .notFound("User '\(user)' is not a member of this team.")
            }
            team.members.removeAll { $0.userID == user }
            try await AdminInput.store { try await store.updateTeam(team) }
            return .object(team.json)
        }
    }
}

extension Team: AdminEntity {
    static var settable: Set<String> {
        limitFields.union(["team_alias", "organization_id", "blocked", "members_with_roles", "metadata"])
    }

    static func make(id: String, fields: JSONObject, now: Double) throws(GatewayError) -> Team {
        var team = Team(teamID: id, createdAt: now)
        try team.apply(fields, now: now)
        return team
    }

    mutating func apply(_ fields: JSONObject, now: Double) throws(GatewayError) {
        for (field, value) in fields.members where Self.settable.contains(field) {
            if field == "members_with_roles" {
                members = try Self.members(value.arrayValue ?? [], field: field)
                continue
            }
            try KeyFields.check(field, value)
            guard !applyLimitField(field, value, now: now) else { continue }
            switch field {
            case "team_alias": teamAlias = value.stringValue
            case "organization_id": organizationID = value.stringValue
            case "blocked": blocked = value.boolValue ?? false
            // Trace routing (`logging`, `default_sinks`, `capture_content`) lives here; checked on save.
            case "metadata": metadata = value.isNull ? "{}" : value.encodedString()
            default: break
            }
        }
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

    var json: JSONObject {
        let own: JSONObject = [
            "team_id": .string(teamID), "team_alias": teamAlias.map(JSONValue.string) ?? .null,
            "organization_id": organizationID.map(JSONValue.string) ?? .null, "blocked": .bool(blocked),
            "members_with_roles": .array(members.map { .object(["user_id": .string($0.userID), "role": .string($0.role)]) }),
            "created_at": AdminInput.date(createdAt),
            "metadata": .object(TeamManagement.masked(TeamManagement.metadata(of: self))),
        ]
        return own.merging(limitJSON)
    }
}
