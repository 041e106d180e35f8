import Foundation
import HTTPTypes
import NIOCore
import Store
import Telemetry

/// `/user/*` with LiteLLM's field names. Master key only. A user's limits bind the user's keys.
public struct UserManagement: Sendable {
    let store: any GatewayStore
    let authenticator: Authenticator

    static let settable = User.limitFields.union(["user_alias", "user_email", "user_role"])
    static let roles: Set<String> = ["proxy_admin", "proxy_admin_viewer", "internal_user", "internal_user_viewer"]

    public func create(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, Self.settable.union(["user_id"]))
            let id = object["user_id"] == nil ? UUID().uuidString.lowercased() : try AdminInput.requiredString(object, "user_id")
            let now = Date().timeIntervalSince1970
            var user = User(userID: id, createdAt: now)
            try Self.apply(object, to: &user, now: now)
            guard try await AdminInput.store({ try await store.user(id: id) }) == nil else {
                throw GatewayError(status: 409, type: "invalid_request_error", message: "A user with user_id '\(id)' already exists.",
                    param: "user_id", code: "user_exists")
            }
            try await AdminInput.store { try await store.insertUser(user) }
            return .object(Self.json(user))
        }
    }

    public func info(_ uri: String, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            guard let id = AdminInput.query(uri)["user_id"] else {
                throw .invalidRequest("'user_id' is required.", param: "user_id")
            }
            let user = try await existing(id)
            let keys = try await AdminInput.store { try await store.keys(teamID: nil, userID: id, limit: 1000, offset: 0) }
            return .object([
                "user_id": .string(id), "user_info": .object(Self.json(user)),
                "keys": .array(keys.keys.map { .string($0.token) }),
            ])
        }
    }

    public func update(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, Self.settable.union(["user_id"]))
            var user = try await existing(try AdminInput.requiredString(object, "user_id"))
            try Self.apply(object, to: &user, now: Date().timeIntervalSince1970)
            try await AdminInput.store { try await store.updateUser(user) }
            return .object(["user_id": .string(user.userID), "data": .object(Self.json(user))])
        }
    }

    public func delete(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, ["user_ids"])
            let ids = try AdminInput.stringList(object, "user_ids")
            guard try await AdminInput.store({ try await store.deleteUsers(ids: ids) }) > 0 else {
                throw .notFound("None of these users exists.")
            }
            return .object(["deleted_users": .array(ids.map(JSONValue.string))])
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
                "users": .array(result.users.map { .object(Self.json($0)) }), "total": .int(result.total),
                "page": .int(page), "page_size": .int(size), "total_pages": .int((result.total + size - 1) / size),
            ])
        }
    }

    private func existing(_ id: String) async throws(GatewayError) -> User {
        guard let user = try await AdminInput.store({ try await store.user(id: id) }) else {
            throw .notFound("No user with user_id '\(id)'.")
        }
        return user
    }

    static func apply(_ object: JSONObject, to user: inout User, now: Double) throws(GatewayError) {
        for (field, value) in object.members where settable.contains(field) {
            if field == "user_role" {
                guard let role = value.stringValue, roles.contains(role) else {
                    throw .invalidRequest("'user_role' must be one of \(roles.sorted().joined(separator: ", ")).", param: field)
                }
                user.userRole = role
                continue
            }
            try KeyFields.check(field, value)
            guard !user.applyLimitField(field, value, now: now) else { continue }
            switch field {
            case "user_alias": user.userAlias = value.stringValue
            case "user_email": user.userEmail = value.stringValue
            default: break
            }
        }
    }

    static func json(_ user: User) -> JSONObject {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        let own: JSONObject = [
            "user_id": .string(user.userID), "user_alias": text(user.userAlias), "user_email": text(user.userEmail),
            "user_role": .string(user.userRole), "created_at": AdminInput.date(user.createdAt),
        ]
        return own.merging(user.limitJSON)
    }
}
