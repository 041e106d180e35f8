import Foundation
import HTTPTypes
import NIOCore
import Store
import Telemetry

/// `/user/*` with LiteLLM's field names. Master key only. A user's limits bind the user's keys.
public struct UserManagement: Sendable {
    let store: any GatewayStore
    let authenticator: Authenticator
    let entity: EntityAdmin<User>

    init(store: any GatewayStore, authenticator: Authenticator) {
        self.store = store
        self.authenticator = authenticator
        self.entity = EntityAdmin(
            authenticator: authenticator, fetch: { try await store.user(id: $0) },
            insert: { try await store.insertUser($0) },
            save: { try await store.updateUser($0) },
            remove: { try await store.deleteUsers(ids: $0) }, duplicateStatus: 409)
    }

    public func create(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await entity.create(body, headers: headers)
    }

    public func update(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await entity.update(body, headers: headers) { .object(["user_id": .string($0.userID), "data": .object($0.json)]) }
    }

    public func delete(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await entity.delete(body, headers: headers)
    }

    public func info(_ uri: String, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let user = try await entity.existing(try EntityAdmin<User>.id(in: uri))
            let keys = try await AdminInput.store { try await store.keys(teamID: nil, userID: user.userID, limit: 1000, offset: 0) }
            return .object([
                "user_id": .string(user.userID), "user_info": .object(user.json), "keys": .array(keys.keys.map { .string($0.token) }),
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
}

extension User: AdminEntity {
    static let roles: Set<String> = ["proxy_admin", "proxy_admin_viewer", "internal_user", "internal_user_viewer"]
    static var settable: Set<String> { limitFields.union(["user_alias", "user_email", "user_role"]) }

    static func make(id: String, fields: JSONObject, now: Double) throws(GatewayError) -> User {
        var user = User(userID: id, createdAt: now)
        try user.apply(fields, now: now)
        return user
    }

    mutating func apply(_ fields: JSONObject, now: Double) throws(GatewayError) {
        for (field, value) in fields.members where Self.settable.contains(field) {
            if field == "user_role" {
                guard let role = value.stringValue, Self.roles.contains(role) else {
                    throw .invalidRequest("'user_role' must be one of \(Self.roles.sorted().joined(separator: ", ")).", param: field)
                }
                userRole = role
                continue
            }
            try KeyFields.check(field, value)
            guard !applyLimitField(field, value, now: now) else { continue }
            switch field {
            case "user_alias": userAlias = value.stringValue
            case "user_email": userEmail = value.stringValue
            default: break
            }
        }
    }

    var json: JSONObject {
        let own: JSONObject = [
            "user_id": .string(userID), "user_alias": userAlias.map(JSONValue.string) ?? .null,
            "user_email": userEmail.map(JSONValue.string) ?? .null, "user_role": .string(userRole),
            "created_at": AdminInput.date(createdAt),
        ]
        return own.merging(limitJSON)
    }
}
