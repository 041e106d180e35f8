import Foundation
import HTTPTypes
import NIOCore
import Store
import Telemetry

/// `/user/*` with LiteLLM's field names (litellm 1.108.7, `NewUserRequest`, `UpdateUserRequest`,
/// `NewUserResponse`, `UserInfoResponse`). Master key only. A user's limits bind the user's keys.
public struct UserManagement: EntityEndpoints, Sendable {
    let entity: EntityAdmin<User>
    let keys: KeyManagement

    init(store: any GatewayStore, authenticator: Authenticator) {
        entity = EntityAdmin(store: store, authenticator: authenticator, duplicateStatus: 409)
        keys = KeyManagement(store: store, authenticator: authenticator)
    }

    /// `/user/new`: the user and, unless `auto_create_key` is false, a key of theirs made from the
    /// request's key fields, as LiteLLM does; `team_id` (or else `teams`) makes the user a member.
    /// Answered with the key's fields and the user's (LiteLLM's `NewUserResponse`).
    public func create(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            var object = KeyManagement.clearingBlankIDs(try AdminInput.object(body))
            try AdminInput.onlyKnown(object.keys, User.newUserFields)
            if object["password"].map({ !$0.isNull }) ?? false {
                throw .invalidRequest(
                    "password cannot be set via /user/new. Users set their own password through an invitation link (POST /invitation/new).",
                    param: "password")
            }
            let autoCreateKey = try AdminValue.flag(object["auto_create_key"] ?? true, "auto_create_key")
            var id = UUID().uuidString.lowercased()
            if let value = object["user_id"], !value.isNull { id = try AdminInput.requiredString(object, "user_id") }
            object["user_id"] = .string(id)
            let memberships = try await teams(for: object)
            // The user takes the user fields; the key the key fields and the limits they share.
            let userPart = JSONObject(
                object.members.filter { User.adminFields.settable.contains($0.key) && !User.keyOnly.contains($0.key) })
            let keyPart = JSONObject(object.members.filter { User.keyFields.contains($0.key) })
            let now = authenticator.clock.nowSeconds()
            var user = User(userID: id, createdAt: now)
            try User.adminFields.changes(userPart, now: now).apply(to: &user)
            try await requireNew(user)
            if autoCreateKey {
                // Checked before anything is stored, so a bad key field leaves no user behind.
                _ = try VirtualKey.adminFields.changes(keyPart, now: now)
                try await keys.requireOwners(keyPart)
                if let alias = keyPart["key_alias"]?.stringValue {
                    try await keys.requireUniqueAlias(VirtualKey(token: "", keyName: "", keyAlias: alias, createdAt: now))
                }
            }
            try await AdminInput.store { try await store.insert(user) }
            var answer: JSONObject = [:]
            if autoCreateKey {
                let raw: String
                let key: VirtualKey
                do throws(GatewayError) {
                    (raw, key) = try await keys.create(keyPart)
                } catch {
                    // Its fields were checked above, so only the store can fail here: no user
                    // without the key it was created for.
                    _ = try? await store.delete(User.self, ids: [id])
                    throw error
                }
                answer = KeyManagement.generated(raw, key)
                answer["token"] = nil
                answer["token_id"] = nil
                answer["key"] = .string(raw)
            } else {
                answer["key"] = ""
            }
            authenticator.budgetGauges.changed(user)
            for (team, role) in memberships { try await join(team, user: id, role: role) }
            // The user's fields over the key's (its budget is the user's), but not the key fields
            // a user only keeps for `/user/update`.
            for member in user.json.members where !User.keyOnly.contains(member.key) { answer[member.key] = member.value }
            answer["teams"] = .array(memberships.map { .string($0.team.teamID) })
            return .object(answer)
        }
    }

    /// `/user/update`: the user named by `user_id`, or else by `user_email`.
    public func update(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = KeyManagement.clearingBlankIDs(try AdminInput.object(body))
            try AdminInput.onlyKnown(object.keys, User.adminFields.settable.union(["user_id", "password"]))
            if object["password"].map({ !$0.isNull }) ?? false {
                throw .invalidRequest("Spanway has no UI logins: 'password' cannot be set.", param: "password")
            }
            var user: User
            var passing: Set<String> = ["user_id", "password"]
            if let id = object["user_id"]?.stringValue {
                user = try await entity.existing(id)
            } else if let email = object["user_email"]?.stringValue {
                // Named by the email, the email is the user's name, not a change.
                guard let found = try await byEmail(email) else { throw .notFound("No user with user_email '\(email)'.") }
                user = found
                passing.insert("user_email")
            } else {
                throw .invalidRequest("Either user id or user email must be provided", param: "user_id")
            }
            let now = authenticator.clock.nowSeconds()
            try User.adminFields.changes(object, passing: passing, now: now).apply(to: &user)
            if let email = user.userEmail, let other = try await byEmail(email), other.userID != user.userID {
                throw GatewayError(
                    .conflict, "User with email \(other.userEmail ?? email) already exists", param: "user_email", status: 409,
                    detail: .init(code: "user_exists"))
            }
            try await AdminInput.store { try await store.update(user) }
            authenticator.budgetGauges.changed(user)
            return .object(["user_id": .string(user.userID), "data": .object(user.json)])
        }
    }

    /// `/user/delete`: the users, their keys, and their places in teams.
    public func delete(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        let reply = await entity.delete(body, headers: headers)
        guard reply.status == 200, let ids = try? AdminInput.object(body)["user_ids"]?.arrayValue?.compactMap(\.stringValue)
        else { return reply }
        let gone = Set(ids)
        for var team in (try? await store.teams()) ?? [] where team.members.contains(where: { gone.contains($0.userID) }) {
            team.members.removeAll { gone.contains($0.userID) }
            try? await store.update(team)
        }
        return reply
    }

    /// `GET /user/info`: LiteLLM's `{user_id, user_info, keys, teams}`, keys and teams as objects.
    public func info(_ uri: String, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let user = try await entity.existing(try EntityAdmin<User>.id(in: uri))
            let keys = try await AdminInput.store {
                try await store.keys(teamID: nil, userID: user.userID, limit: Int(Int32.max), offset: 0)
            }
            let teams = try await AdminInput.store { try await store.teams() }
            let memberOf = teams.filter { $0.members.contains { $0.userID == user.userID } }
            var info = user.json
            info["teams"] = .array(memberOf.map { .string($0.teamID) })
            return .object([
                "user_id": .string(user.userID), "user_info": .object(info),
                "keys": .array(
                    keys.keys.map { key in
                        var json = KeyManagement.info(key)
                        json["team_alias"] =
                            key.teamID.map { id in AdminValue.show(teams.first { $0.teamID == id }?.teamAlias) } ?? .null
                        return .object(json)
                    }),
                "teams": .array(memberOf.sorted { ($0.teamAlias ?? "") < ($1.teamAlias ?? "") }.map { .object($0.json) }),
            ])
        }
    }

    public func list(_ uri: String, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let query = AdminInput.query(uri)
            try AdminInput.onlyKnown(query.keys, ["page", "page_size"], what: "query parameter")
            let page = try AdminInput.positive(query["page"], "page", default: 1)
            let size = try AdminInput.positive(query["page_size"], "page_size", default: 25)
            guard size <= 1000 else { throw .invalidRequest("'page_size' must be at most 1000.", param: "page_size") }
            let result = try await AdminInput.store { try await store.users(limit: size, offset: (page - 1) * size) }
            return .object([
                "users": .array(result.users.map { .object($0.json) }), "total": .int(result.total),
                "page": .int(page), "page_size": .int(size), "total_pages": .int((result.total + size - 1) / size),
            ])
        }
    }

    // MARK: - Helpers

    /// LiteLLM answers a taken id or email (compared case-blind) with 409.
    private func requireNew(_ user: User) async throws(GatewayError) {
        if try await AdminInput.store({ try await store.fetch(User.self, id: user.userID) }) != nil {
            throw GatewayError(
                .conflict, "User with id \(user.userID) already exists", param: "user_id", status: 409,
                detail: .init(code: "user_exists"))
        }
        if let email = user.userEmail, let other = try await byEmail(email) {
            throw GatewayError(
                .conflict, "User with email \(other.userEmail ?? email) already exists", param: "user_email", status: 409,
                detail: .init(code: "user_exists"))
        }
    }

    private func byEmail(_ email: String) async throws(GatewayError) -> User? {
        let wanted = email.trimmingCharacters(in: .whitespaces).lowercased()
        let users = try await AdminInput.store { try await store.users(limit: Int(Int32.max), offset: 0).users }
        return users.first { $0.userEmail?.lowercased() == wanted }
    }

    /// The teams a new user joins, with the role in each: `team_id` as a plain member, or else
    /// each of `teams` (ids, or `{team_id, user_role}` objects). Every team must exist.
    private func teams(for object: JSONObject) async throws(GatewayError) -> [(team: Team, role: String)] {
        var wanted: [(id: String, role: String)] = []
        if let id = object["team_id"]?.stringValue {
            wanted = [(id, "user")]
        } else if let value = object["teams"], !value.isNull {
            guard let items = value.arrayValue else { throw AdminValue.mismatch("teams", "an array", value) }
            for item in items {
                if let id = item.stringValue {
                    wanted.append((id, "user"))
                } else if let id = item["team_id"]?.stringValue {
                    let role = item["user_role"]?.stringValue ?? "user"
                    guard ["user", "admin"].contains(role) else {
                        throw .invalidRequest("A team's 'user_role' must be 'user' or 'admin'.", param: "teams")
                    }
                    wanted.append((id, role))
                } else {
                    throw .invalidRequest("Each of 'teams' must be a team id or an object with a 'team_id'.", param: "teams")
                }
            }
        }
        var found: [(team: Team, role: String)] = []
        for (id, role) in wanted {
            guard let team = try await AdminInput.store({ try await store.fetch(Team.self, id: id) }) else {
                throw .invalidRequest(
                    "Unknown team '\(id)'.", param: object["team_id"] == nil ? "teams" : "team_id", code: "team_not_found")
            }
            found.append((team, role))
        }
        return found
    }

    /// Adds the user to the team unless already a member (LiteLLM passes over that case too).
    private func join(_ team: Team, user: String, role: String) async throws(GatewayError) {
        guard var team = try await AdminInput.store({ try await store.fetch(Team.self, id: team.teamID) }),
            !team.members.contains(where: { $0.userID == user })
        else { return }
        team.members.append(Team.Member(userID: user, role: role))
        try await AdminInput.store { try await store.update(team) }
    }
}

extension User: AdminEntity {
    static let updateAnswerWrapped = true
    static let roles: Set<String> = ["proxy_admin", "proxy_admin_viewer", "internal_user", "internal_user_viewer"]

    static let adminFields = AdminFields<User>(
        [
            .shown("user_id") { .string($0.userID) },
            .text("user_alias", \.userAlias),
            .text("user_email", \.userEmail),
            .stored(
                "user_role", \.userRole,
                { value, field throws(GatewayError) in
                    guard let role = value.stringValue, roles.contains(role) else {
                        throw .invalidRequest(
                            "'user_role' must be one of \(roles.sorted().joined(separator: ", ")).", param: field)
                    }
                    return role
                }, show: JSONValue.string),
            .shown("created_at") { AdminValue.date($0.createdAt) },
        ] + AdminField.limitFields(spendSettable: true)
            + AdminField.kept(litellmOnlyFields + keyOnlyFields, in: \.litellmFields))

    /// LiteLLM's user fields Spanway keeps and shows back but does not act on.
    static let litellmOnlyFields: [(name: String, kind: AdminValue.Kind, empty: JSONValue)] = [
        ("sso_user_id", .text, .null), ("organizations", .list, .null), ("send_invite_email", .flag, .null),
        ("model_max_budget", .object, .object([:])),
    ]

    /// `GenerateRequestBase` fields that are a key's, not a user's: `/user/new` gives them to the
    /// user's key; `/user/update` keeps them on the user, without effect.
    static let keyOnlyFields: [(name: String, kind: AdminValue.Kind, empty: JSONValue)] = [
        ("key_alias", .text, .null), ("duration", .text, .null), ("team_id", .text, .null), ("agent_id", .text, .null),
        ("aliases", .object, .null), ("config", .object, .null), ("permissions", .object, .null),
        ("allowed_cache_controls", .list, .null), ("budget_limits", .list, .null), ("budget_fallbacks", .object, .null),
        ("model_rpm_limit", .object, .null), ("model_tpm_limit", .object, .null), ("mcp_rpm_limit", .object, .null),
        ("tag_rpm_limit", .object, .null), ("guardrails", .list, .null), ("policies", .list, .null),
        ("prompts", .list, .null), ("blocked", .flag, .null), ("object_permission", .object, .null),
    ]

    static let keyOnly = Set(keyOnlyFields.map(\.name))

    /// What `/user/new` hands to the user's key: every `GenerateRequestBase` field but the
    /// user's own budget (`max_budget`, `budget_duration`, which LiteLLM sets on the user alone).
    static let keyFields: Set<String> = keyOnly.union([
        "models", "spend", "user_id", "max_parallel_requests", "metadata", "tpm_limit", "rpm_limit", "model_max_budget",
    ])

    /// Every field `/user/new` takes (`NewUserRequest`).
    static let newUserFields: Set<String> = adminFields.settable.union([
        "user_id", "teams", "auto_create_key", "password",
    ])

    init(id: String, createdAt: Double) {
        self.init(userID: id, createdAt: createdAt)
    }
}
