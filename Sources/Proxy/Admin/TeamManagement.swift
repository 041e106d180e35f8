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
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let team = try await entity.existing(try EntityAdmin<Team>.id(in: uri))
            let keys = try await AdminInput.store {
                try await store.keys(teamID: team.teamID, userID: nil, limit: 1000, offset: 0)
            }
            return .object([
                "team_id": .string(team.teamID), "team_info": .object(team.json),
                "keys": .array(keys.keys.map { .string($0.token) }),
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
            try await AdminInput.store { try await store.update(team) }
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
            try await AdminInput.store { try await store.update(team) }
            return .object(team.json)
        }
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
            .shown("created_at") { AdminValue.date($0.createdAt) },
        ]
            + AdminField.limitFields { text in
                // Team callbacks carry credentials: answers show them masked, as `GET /team/{id}/callback` does.
                .object(TeamManagement.masked(AdminValue.parsedObject(text).objectValue ?? [:]))
            })

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
