import Foundation
import HTTPTypes
import NIOCore
import Store
import Telemetry

/// `/organization/*` with LiteLLM's field names. Master key only. An organisation's limits bind
/// every key of its teams.
public struct OrganizationManagement: Sendable {
    let store: any GatewayStore
    let authenticator: Authenticator
    let entity: EntityAdmin<Organization>

    init(store: any GatewayStore, authenticator: Authenticator) {
        self.store = store
        self.authenticator = authenticator
        self.entity = EntityAdmin(
            authenticator: authenticator, fetch: { try await store.organization(id: $0) },
            insert: { try await store.insertOrganization($0) },
            save: { try await store.updateOrganization($0) },
            remove: { try await store.deleteOrganizations(ids: $0) })
    }

    public func create(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await entity.create(body, headers: headers)
    }

    public func update(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await entity.update(body, headers: headers) { .object($0.json) }
    }

    public func delete(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await entity.delete(body, headers: headers)
    }

    public func info(_ uri: String, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let organization = try await entity.existing(try EntityAdmin<Organization>.id(in: uri))
            let teams = try await AdminInput.store { try await store.teams() }
                .filter { $0.organizationID == organization.organizationID }
            return .object(organization.json.merging(["teams": .array(teams.map { .string($0.teamID) })]))
        }
    }

    public func list(headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            .array(try await AdminInput.store { try await store.organizations() }.map { .object($0.json) })
        }
    }
}

extension Organization: AdminEntity {
    static var settable: Set<String> { limitFields.union(["organization_alias"]) }

    static func make(id: String, fields: JSONObject, now: Double) throws(GatewayError) -> Organization {
        var organization = Organization(
            organizationID: id, organizationAlias: try AdminInput.requiredString(fields, "organization_alias"), createdAt: now)
        try organization.apply(fields, now: now)
        return organization
    }

    mutating func apply(_ fields: JSONObject, now: Double) throws(GatewayError) {
        for (field, value) in fields.members where Self.settable.contains(field) {
            if field == "organization_alias" {
                organizationAlias = try AdminInput.requiredString(fields, field)
                continue
            }
            try KeyFields.check(field, value)
            _ = applyLimitField(field, value, now: now)
        }
    }

    var json: JSONObject {
        let own: JSONObject = [
            "organization_id": .string(organizationID), "organization_alias": .string(organizationAlias),
            "created_at": AdminInput.date(createdAt),
        ]
        return own.merging(limitJSON)
    }
}
