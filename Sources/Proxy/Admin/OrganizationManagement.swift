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

    static let settable = Organization.limitFields.union(["organization_alias"])

    public func create(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, Self.settable.union(["organization_id"]))
            let id =
                object["organization_id"] == nil
                ? UUID().uuidString.lowercased() : try AdminInput.requiredString(object, "organization_id")
            let now = Date().timeIntervalSince1970
            var organization = Organization(
                organizationID: id, organizationAlias: try AdminInput.requiredString(object, "organization_alias"), createdAt: now)
            try Self.apply(object, to: &organization, now: now)
            guard try await AdminInput.store({ try await store.organization(id: id) }) == nil else {
                throw .invalidRequest("An organization with organization_id '\(id)' already exists.", param: "organization_id")
            }
            try await AdminInput.store { try await store.insertOrganization(organization) }
            return .object(Self.json(organization))
        }
    }

    public func info(_ uri: String, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            guard let id = AdminInput.query(uri)["organization_id"] else {
                throw .invalidRequest("'organization_id' is required.", param: "organization_id")
            }
            let organization = try await existing(id)
            let teams = try await AdminInput.store { try await store.teams() }.filter { $0.organizationID == id }
            return .object(Self.json(organization).merging(["teams": .array(teams.map { .string($0.teamID) })]))
        }
    }

    public func update(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, Self.settable.union(["organization_id"]))
            var organization = try await existing(try AdminInput.requiredString(object, "organization_id"))
            try Self.apply(object, to: &organization, now: Date().timeIntervalSince1970)
            try await AdminInput.store { try await store.updateOrganization(organization) }
            return .object(Self.json(organization))
        }
    }

    public func delete(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, ["organization_ids"])
            let ids = try AdminInput.stringList(object, "organization_ids")
            guard try await AdminInput.store({ try await store.deleteOrganizations(ids: ids) }) > 0 else {
                throw .notFound("None of these organizations exists.")
            }
            return .object(["deleted_organizations": .array(ids.map(JSONValue.string))])
        }
    }

    public func list(headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            .array(try await AdminInput.store { try await store.organizations() }.map { .object(Self.json($0)) })
        }
    }

    private func existing(_ id: String) async throws(GatewayError) -> Organization {
        guard let organization = try await AdminInput.store({ try await store.organization(id: id) }) else {
            throw .notFound("No organization with organization_id '\(id)'.")
        }
        return organization
    }

    static func apply(_ object: JSONObject, to organization: inout Organization, now: Double) throws(GatewayError) {
        for (field, value) in object.members where settable.contains(field) {
            if field == "organization_alias" {
                organization.organizationAlias = try AdminInput.requiredString(object, field)
                continue
            }
            try KeyFields.check(field, value)
            _ = organization.applyLimitField(field, value, now: now)
        }
    }

    static func json(_ organization: Organization) -> JSONObject {
        let own: JSONObject = [
            "organization_id": .string(organization.organizationID),
            "organization_alias": .string(organization.organizationAlias),
            "created_at": AdminInput.date(organization.createdAt),
        ]
        return own.merging(organization.limitJSON)
    }
}
