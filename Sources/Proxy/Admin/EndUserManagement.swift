import Foundation
import HTTPTypes
import NIOCore
import Store
import Telemetry

/// `/end_user/*` and `/customer/*` (the same handlers, as in LiteLLM 1.108.7's
/// `proxy/management_endpoints/customer_endpoints.py`): end users with LiteLLM's fields
/// (`NewCustomerRequest`, `UpdateCustomerRequest`, `CustomerResponse`). Master key only. As in
/// LiteLLM, an end user's budget lives in a budget tier: budget fields on `/end_user/new` make a
/// new tier linked to it, and on `/end_user/update` change its tier (or make one).
public struct EndUserManagement: Sendable {
    let store: any GatewayStore
    let authenticator: Authenticator
    let budgets: BudgetManagement

    init(store: any GatewayStore, authenticator: Authenticator) {
        self.store = store
        self.authenticator = authenticator
        budgets = BudgetManagement(store: store, authenticator: authenticator)
    }

    /// `BudgetNewRequest`'s fields but `budget_id`: on an end user they describe its tier.
    static let tierFields: Set<String> = BudgetManagement.adminFields.settable

    public func create(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, Self.adminFields.settable.union(Self.tierFields).union(["user_id"]))
            let id = try AdminInput.requiredString(object, "user_id")
            let budgetFields = object.members.filter { Self.tierFields.contains($0.key) && !$0.value.isNull }
            if object["budget_id"].map({ !$0.isNull }) == true, object["max_budget"].map({ !$0.isNull }) == true {
                // A pydantic validator in LiteLLM, so FastAPI's 422.
                throw GatewayError(
                    .invalidRequest, "Set either 'max_budget' or 'budget_id', not both.", param: "max_budget", status: 422)
            }
            try await BudgetLinks.requireTier(object, store)
            try requireServed(object)
            let now = authenticator.clock.nowSeconds()
            var endUser = EndUser(userID: id, createdAt: now)
            try Self.adminFields.changes(
                JSONObject(object.members.filter { !Self.tierFields.contains($0.key) }), passing: ["user_id"], now: now
            )
            .apply(to: &endUser)
            guard try await AdminInput.store({ try await store.fetch(EndUser.self, id: id) }) == nil else {
                throw .invalidRequest(
                    "Customer already exists, passed user_id=\(id). Please pass a new user_id.", param: "user_id")
            }
            if !budgetFields.isEmpty {
                let tier = try BudgetManagement.tier(
                    id: UUID().uuidString.lowercased(), from: JSONObject(budgetFields), now: now)
                endUser.budgetID = try await budgets.insert(tier).budgetID
            }
            try await AdminInput.store { try await store.insert(endUser) }
            return .object(try await json(endUser))
        }
    }

    /// `GET /end_user/info?end_user_id=`.
    public func info(_ uri: String, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            guard let id = AdminInput.query(uri)["end_user_id"], !id.isEmpty else {
                throw .invalidRequest("'end_user_id' is required.", param: "end_user_id")
            }
            return .object(try await json(try await existing(id, param: "end_user_id")))
        }
    }

    public func update(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, Self.adminFields.settable.union(["user_id", "max_budget"]))
            var endUser = try await existing(try AdminInput.requiredString(object, "user_id"), param: "user_id")
            try await BudgetLinks.requireTier(object, store)
            try requireServed(object)
            let now = authenticator.clock.nowSeconds()
            // LiteLLM leaves a field alone when it is null (`_should_update_field`).
            let changes = JSONObject(object.members.filter { !$0.value.isNull && $0.key != "max_budget" })
            try Self.adminFields.changes(changes, passing: ["user_id"], now: now).apply(to: &endUser)
            if let value = object["max_budget"], !value.isNull {
                // The budget goes to the end user's tier, as LiteLLM's update does: its own tier
                // changes (and so every end user sharing it), or a new one is made.
                if let id = endUser.budgetID,
                    var tier = try await AdminInput.store({ try await store.fetch(Budget.self, id: id) })
                {
                    try BudgetManagement.apply(["max_budget": value], to: &tier, now: now)
                    try await AdminInput.store { try await store.update(tier) }
                } else {
                    let tier = try BudgetManagement.tier(
                        id: UUID().uuidString.lowercased(), from: ["max_budget": value], now: now)
                    endUser.budgetID = try await budgets.insert(tier).budgetID
                }
            }
            try await AdminInput.store { try await store.update(endUser) }
            return .object(try await json(endUser))
        }
    }

    /// `{"user_ids": [...]}`: every one must exist (404 naming the missing), as in LiteLLM.
    public func delete(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, ["user_ids"])
            let ids = try AdminInput.stringList(object, "user_ids")
            var missing: [String] = []
            for id in ids where try await AdminInput.store({ try await store.fetch(EndUser.self, id: id) }) == nil {
                missing.append(id)
            }
            guard missing.isEmpty else {
                throw GatewayError(
                    .notFound, "End User Id(s)=\(missing.joined(separator: ", ")) do not exist in db", param: "user_ids")
            }
            let deleted = try await AdminInput.store { try await store.delete(EndUser.self, ids: ids) }
            return .object([
                "deleted_customers": .int(deleted),
                "message": .string("Successfully deleted customers with ids: \(Self.pythonList(ids))"),
            ])
        }
    }

    public func list(_ uri: String, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            var items: [JSONValue] = []
            for endUser in try await AdminInput.store({ try await store.all(EndUser.self) }) {
                items.append(.object(try await json(endUser)))
            }
            return .array(items)
        }
    }

    /// `/customer/block`: marks each end user blocked, making the rows of those not seen yet,
    /// as LiteLLM's upsert does; answers `{"blocked_users": [rows]}`.
    public func block(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            let ids = try Self.userIDs(body)
            var rows: [JSONValue] = []
            for id in ids {
                rows.append(.object(try await json(try await setBlocked(id, true))))
            }
            return .object(["blocked_users": .array(rows)])
        }
    }

    /// `/customer/unblock`: lets these end users make requests again; answers LiteLLM's
    /// `UnblockUsersResponse`, the ids that remain blocked.
    public func unblock(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers) { () async throws(GatewayError) -> JSONValue in
            for id in try Self.userIDs(body) {
                if try await AdminInput.store({ try await store.fetch(EndUser.self, id: id) }) != nil {
                    _ = try await setBlocked(id, false)
                }
            }
            let blocked = try await AdminInput.store { try await store.all(EndUser.self) }.filter(\.blocked)
            return .object(["blocked_users": .array(blocked.map { .string($0.userID) })])
        }
    }

    private func setBlocked(_ id: String, _ blocked: Bool) async throws(GatewayError) -> EndUser {
        if var endUser = try await AdminInput.store({ try await store.fetch(EndUser.self, id: id) }) {
            endUser.blocked = blocked
            try await AdminInput.store { try await store.update(endUser) }
            return endUser
        }
        var endUser = EndUser(userID: id, createdAt: authenticator.clock.nowSeconds())
        endUser.blocked = blocked
        try await AdminInput.store { try await store.insert(endUser) }
        return endUser
    }

    private static func userIDs(_ body: ByteBuffer) throws(GatewayError) -> [String] {
        let object = try AdminInput.object(body)
        try AdminInput.onlyKnown(object.keys, ["user_ids"])
        return try AdminInput.stringList(object, "user_ids")
    }

    func existing(_ id: String, param: String) async throws(GatewayError) -> EndUser {
        guard let endUser = try await AdminInput.store({ try await store.fetch(EndUser.self, id: id) }) else {
            throw GatewayError(.notFound, "End User Id=\(id) does not exist in db", param: param)
        }
        return endUser
    }

    /// LiteLLM refuses a `default_model` the proxy does not serve (422).
    private func requireServed(_ object: JSONObject) throws(GatewayError) {
        guard let model = object["default_model"]?.stringValue, let served = authenticator.deployments?.snapshot.names
        else { return }
        guard served.contains(model) else {
            throw GatewayError(
                .invalidRequest,
                "Default Model not on proxy. Configure via `/model/new` or config.yaml. Default_model=\(model)",
                param: "default_model", status: 422)
        }
    }

    /// `CustomerResponse`: the row with its tier as `litellm_budget_table`.
    func json(_ endUser: EndUser) async throws(GatewayError) -> JSONObject {
        var json = Self.adminFields.render(endUser)
        json["litellm_budget_table"] = try await BudgetLinks.table(endUser.budgetID, store)
        return json
    }

    /// How Python prints a list of strings (`['a', 'b']`), as LiteLLM's delete message does.
    static func pythonList(_ items: [String]) -> String {
        "[" + items.map { "'\($0)'" }.joined(separator: ", ") + "]"
    }

    /// `LiteLLM_EndUserTable`'s fields, in its order.
    static let adminFields = AdminFields<EndUser>(
        [
            .shown("user_id") { .string($0.userID) },
            .text("alias", \.alias),
            .shown("spend") { .double($0.limits.spend) },
            .stored(
                "allowed_model_region", \.allowedModelRegion,
                { value, field throws(GatewayError) in
                    guard let region = try AdminValue.text(value, field) else { return nil }
                    guard ["eu", "us"].contains(region) else {
                        throw .invalidRequest("'\(field)' must be 'eu' or 'us'.", param: field)
                    }
                    return region
                }, show: AdminValue.show),
            .text("default_model", \.defaultModel),
            .text("budget_id", \.budgetID),
            .stored("models", \.limits.models, AdminValue.names, show: { .array($0.map(JSONValue.string)) }),
            .flag("blocked", \.blocked),
            // LiteLLM keeps these elsewhere (object permissions, request metadata); Spanway keeps
            // them in the end user's metadata and shows them back.
            AdminField(
                "object_permission",
                parse: { value, _ throws(GatewayError) in
                    let checked = try AdminValue.Kind.object.check(value, "object_permission")
                    return { $0.metadata = AdminValue.setting("object_permission", checked, in: $0.metadata) }
                },
                render: { AdminValue.parsedObject($0.metadata)["object_permission"] ?? .null }),
            AdminField(
                "metadata",
                parse: { value, _ throws(GatewayError) in
                    let checked = try AdminValue.Kind.object.check(value, "metadata")
                    return { $0.metadata = AdminValue.setting("metadata", checked, in: $0.metadata) }
                }, render: nil),
        ])
}
