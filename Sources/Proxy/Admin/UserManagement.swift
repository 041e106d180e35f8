import Foundation
import HTTPTypes
import NIOCore
import Store
import Telemetry

/// `/user/*` with LiteLLM's field names. Master key only. A user's limits bind the user's keys.
public struct UserManagement: EntityEndpoints, Sendable {
    let entity: EntityAdmin<User>

    init(store: any GatewayStore, authenticator: Authenticator) {
        entity = EntityAdmin(store: store, authenticator: authenticator, duplicateStatus: 409)
    }

    public func info(_ uri: String, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let user = try await entity.existing(try EntityAdmin<User>.id(in: uri))
            let keys = try await AdminInput.store {
                try await store.keys(teamID: nil, userID: user.userID, limit: 1000, offset: 0)
            }
            return .object([
                "user_id": .string(user.userID), "user_info": .object(user.json),
                "keys": .array(keys.keys.map { .string($0.token) }),
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
        ] + AdminField.limitFields())

    init(id: String, createdAt: Double) {
        self.init(userID: id, createdAt: createdAt)
    }
}
