import Foundation
import HTTPTypes
import NIOCore
import Store
import Telemetry

/// `/budget/*`: budget tiers with LiteLLM 1.108.7's fields (`BudgetNewRequest`, the
/// `LiteLLM_BudgetTable` row), as `proxy/management_endpoints/budget_management_endpoints.py`
/// serves them: `/budget/new`, `/budget/update`, `POST /budget/info` (`{"budgets": [ids]}`),
/// `GET /budget/list` and `/budget/delete` (`{"id": …}`). Master key only. A tier binds the
/// keys, organisations and end users whose `budget_id` names it; it is never charged itself.
public struct BudgetManagement: Sendable {
    let store: any GatewayStore
    let authenticator: Authenticator

    /// LiteLLM's `created_by` and `updated_by` for the master key (`litellm_proxy_admin_name`).
    static let adminName = "default_user_id"

    public func create(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            let id = try Self.optionalID(object) ?? UUID().uuidString.lowercased()
            let tier = try await insert(try Self.tier(id: id, from: object, now: authenticator.clock.nowSeconds()))
            return .object(Self.json(tier))
        }
    }

    /// A new tier from `BudgetNewRequest` fields (also what `/end_user/new`'s budget fields make).
    static func tier(id: String, from object: JSONObject, now: Double) throws(GatewayError) -> Budget {
        try AdminInput.onlyKnown(object.keys, adminFields.settable.union(["budget_id"]))
        var tier = Budget(budgetID: id, createdAt: now)
        try apply(object, to: &tier, now: now)
        return tier
    }

    func insert(_ tier: Budget) async throws(GatewayError) -> Budget {
        guard try await AdminInput.store({ try await store.fetch(Budget.self, id: tier.budgetID) }) == nil else {
            throw .invalidRequest("Budget with id '\(tier.budgetID)' already exists.", param: "budget_id")
        }
        try await AdminInput.store { try await store.insert(tier) }
        return tier
    }

    public func update(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, Self.adminFields.settable.union(["budget_id"]))
            guard let id = try Self.optionalID(object) else {
                throw .invalidRequest("budget_id is required", param: "budget_id")
            }
            var tier = try await existing(id)
            try Self.apply(object, to: &tier, now: authenticator.clock.nowSeconds())
            try await AdminInput.store { try await store.update(tier) }
            return .object(Self.json(tier))
        }
    }

    /// `POST /budget/info` with `{"budgets": [ids]}`: the tiers that exist, as LiteLLM's `find_many`.
    public func info(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, ["budgets"])
            guard let items = object["budgets"]?.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                throw .invalidRequest("'budgets' must be an array of strings.", param: "budgets")
            }
            guard !items.isEmpty else {
                throw .invalidRequest("Specify list of budget id's to query. Passed in=[]", param: "budgets")
            }
            var tiers: [JSONValue] = []
            for id in items.compactMap(\.stringValue) {
                if let tier = try await AdminInput.store({ try await store.fetch(Budget.self, id: id) }) {
                    tiers.append(.object(Self.json(tier)))
                }
            }
            return .array(tiers)
        }
    }

    public func list(_ uri: String, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            .array(try await AdminInput.store { try await store.all(Budget.self) }.map { .object(Self.json($0)) })
        }
    }

    /// `{"id": …}`, answered with the deleted tier. Keys, organisations and end users linked to
    /// it lose the link (their own limits still bind).
    public func delete(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, ["id"])
            let tier = try await existing(try AdminInput.requiredString(object, "id"), param: "id")
            _ = try await AdminInput.store { try await store.delete(Budget.self, ids: [tier.budgetID]) }
            return .object(Self.json(tier))
        }
    }

    func existing(_ id: String, param: String = "budget_id") async throws(GatewayError) -> Budget {
        guard let tier = try await AdminInput.store({ try await store.fetch(Budget.self, id: id) }) else {
            throw GatewayError(.notFound, "Budget with id '\(id)' does not exist.", param: param)
        }
        return tier
    }

    private static func optionalID(_ object: JSONObject) throws(GatewayError) -> String? {
        guard let value = object["budget_id"], !value.isNull else { return nil }
        guard let id = value.stringValue, !id.isEmpty else {
            throw AdminValue.mismatch("budget_id", "a non-empty string", value)
        }
        return id
    }

    /// The fields but `budget_id` and `budget_reset_at`, then `budget_reset_at` last: LiteLLM
    /// starts a new period with a new `budget_duration` unless the caller pins the reset time.
    static func apply(_ object: JSONObject, to tier: inout Budget, now: Double) throws(GatewayError) {
        var fields = object
        fields["budget_id"] = nil
        let resetAt = fields["budget_reset_at"]
        fields["budget_reset_at"] = nil
        try adminFields.changes(fields, now: now).apply(to: &tier)
        if let resetAt { tier.limits.budgetResetAt = try AdminValue.instant(resetAt, "budget_reset_at") }
        tier.updatedAt = now
    }

    /// The `LiteLLM_BudgetTable` row as LiteLLM answers it.
    static func json(_ tier: Budget) -> JSONObject {
        var json = adminFields.render(tier)
        json["created_by"] = .string(adminName)
        json["updated_by"] = .string(adminName)
        return json
    }

    /// `BudgetNewRequest`'s fields, in the row's order.
    static let adminFields = AdminFields<Budget>(
        [
            .shown("budget_id") { .string($0.budgetID) },
            .amount("max_budget", \.limits.maxBudget),
            .amount("soft_budget", \.softBudget),
            .count("max_parallel_requests", \.limits.maxParallelRequests),
            .count("tpm_limit", \.limits.tpmLimit),
            .count("rpm_limit", \.limits.rpmLimit),
            .count("tpd_limit", \.tpdLimit),
            .stored(
                "model_max_budget", \.modelMaxBudget,
                { value, field throws(GatewayError) in value.isNull ? nil : try AdminValue.objectText(value, field) },
                show: { $0.map(AdminValue.parsedObject) ?? .null }),
            // `budget_reset_at` in the same request overrides the start the period sets.
            .budgetDuration,
            AdminField(
                "budget_reset_at", parse: { _, _ in { _ in } }, render: { AdminValue.date($0.limits.budgetResetAt) }),
            .shown("allowed_models") { .array($0.limits.models.map(JSONValue.string)) },
            // Columns of LiteLLM's row that `/budget/*` cannot set (team members' temporary raises).
            .shown("temp_budget_increase") { _ in .null },
            .shown("temp_budget_expiry") { _ in .null },
            .shown("created_at") { AdminValue.date($0.createdAt) },
            .shown("updated_at") { AdminValue.date($0.updatedAt) },
        ])
}

/// `budget_id` on keys, organisations and end users: it must name a tier that exists.
enum BudgetLinks {
    static func requireTier(_ object: JSONObject, _ store: any GatewayStore) async throws(GatewayError) {
        guard let value = object["budget_id"], !value.isNull else { return }
        guard let id = value.stringValue else { throw AdminValue.mismatch("budget_id", "a string", value) }
        guard try await AdminInput.store({ try await store.fetch(Budget.self, id: id) }) != nil else {
            throw .invalidRequest(
                "budget_id '\(id)' does not exist. Create it with /budget/new first.", param: "budget_id",
                code: "budget_not_found")
        }
    }

    /// `json` with `litellm_budget_table` from tiers already read (a list's).
    static func tabled(_ json: JSONObject, _ id: String?, tiers: [Budget]) -> JSONObject {
        var json = json
        json["litellm_budget_table"] = tiers.first { $0.budgetID == id }.map { .object(BudgetManagement.json($0)) } ?? .null
        return json
    }

    /// `litellm_budget_table`: the linked tier as `/budget/info` shows it, or null.
    static func table(_ id: String?, _ store: any GatewayStore) async throws(GatewayError) -> JSONValue {
        guard let id, let tier = try await AdminInput.store({ try await store.fetch(Budget.self, id: id) }) else {
            return .null
        }
        return .object(BudgetManagement.json(tier))
    }
}

extension AdminEntity {
    /// The record as answers show it; an organisation's with its tier as `litellm_budget_table`
    /// (LiteLLM keeps an organisation's limits there).
    func answer(_ store: any GatewayStore) async throws(GatewayError) -> JSONObject {
        var json = self.json
        if let organization = self as? Organization {
            json["litellm_budget_table"] = try await BudgetLinks.table(organization.budgetID, store)
        }
        return json
    }
}
