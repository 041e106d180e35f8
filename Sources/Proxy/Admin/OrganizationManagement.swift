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
            var json = Self.withMembers(organization, teams: teams)
            json["litellm_budget_table"] = try await BudgetLinks.table(organization.budgetID, store)
            return .object(json)
        }
    }

    /// `GET /organization/list[?org_id=&org_alias=]`: LiteLLM's `LiteLLM_OrganizationTableWithMembers` items.
    public func list(_ uri: String, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let query = AdminInput.query(uri)
            let teams = try await AdminInput.store { try await store.teams() }
            let tiers = try await AdminInput.store { try await store.all(Budget.self) }
            return .array(
                try await AdminInput.store { try await store.organizations() }
                    .filter { organization in
                        query["org_id"].map { organization.organizationID == $0 } ?? true
                            && query["org_alias"].map { organization.organizationAlias.localizedCaseInsensitiveContains($0) }
                                ?? true
                    }
                    .map { .object(BudgetLinks.tabled(Self.withMembers($0, teams: teams), $0.budgetID, tiers: tiers)) })
        }
    }

    /// The organisation with its teams (as objects) and `members`: Spanway keeps no organisation
    /// memberships, so the list is empty.
    static func withMembers(_ organization: Organization, teams: [Team]) -> JSONObject {
        var json = organization.json
        json["teams"] = .array(teams.filter { $0.organizationID == organization.organizationID }.map { .object($0.json) })
        json["members"] = .array([])
        return json
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
            .text("budget_id", \.budgetID),
        ] + AdminField.limitFields(spendSettable: true) + AdminField.kept(litellmOnlyFields, in: \.litellmFields))

    /// LiteLLM's organisation fields (litellm 1.108.7 `NewOrganizationRequest`, its budget fields,
    /// `LiteLLM_OrganizationTableUpdate`) Spanway keeps and shows back but does not act on.
    static let litellmOnlyFields: [(name: String, kind: AdminValue.Kind, empty: JSONValue)] = [
        ("soft_budget", .number, .null), ("model_max_budget", .object, .null), ("tpd_limit", .count, .null),
        ("model_rpm_limit", .object, .null), ("model_tpm_limit", .object, .null), ("object_permission", .object, .null),
    ]

    init(id: String, createdAt: Double) {
        self.init(organizationID: id, organizationAlias: "", createdAt: createdAt)
    }
}
