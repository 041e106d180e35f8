import Foundation
import HTTPTypes
import NIOCore
import Store
import Telemetry

/// `/organization/*` with LiteLLM's field names. Master key only. An organisation's limits bind
/// every key of its teams.
public struct OrganizationManagement: EntityEndpoints, Sendable {
    let entity: EntityAdmin<Organization>

    init(store: any GatewayStore, authenticator: Authenticator) {
        entity = EntityAdmin(store: store, authenticator: authenticator)
    }

    public func info(_ uri: String, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let organization = try await entity.existing(try EntityAdmin<Organization>.id(in: uri))
            let teams = try await AdminInput.store { try await store.teams() }
                .filter { $0.organizationID == organization.organizationID }
            var json = organization.json
            json["teams"] = .array(teams.map { .string($0.teamID) })
            return .object(json)
        }
    }

    public func list(headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            .array(try await AdminInput.store { try await store.organizations() }.map { .object($0.json) })
        }
    }
}

extension Organization: AdminEntity {
    static let requiredOnCreate = ["organization_alias"]

    static let adminFields = AdminFields<Organization>(
        [
            .shown("organization_id") { .string($0.organizationID) },
            .stored(
                "organization_alias", \.organizationAlias,
                { value, field throws(GatewayError) in try AdminInput.requiredString([field: value], field) },
                show: JSONValue.string),
            .shown("created_at") { AdminValue.date($0.createdAt) },
        ] + AdminField.limitFields())

    init(id: String, createdAt: Double) {
        self.init(organizationID: id, organizationAlias: "", createdAt: createdAt)
    }
}
