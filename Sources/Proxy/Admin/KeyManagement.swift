import Foundation
import HTTPTypes
import NIOCore
import Store
import Telemetry

/// `/key/*`: virtual keys, LiteLLM's request and response field names (litellm 1.108.7,
/// `GenerateKeyRequest`, `UpdateKeyRequest`, `GenerateKeyResponse`). Master key only. A raw key
/// is shown once, in the answer to `/key/generate`; afterwards keys are named by their `token`
/// (SHA-256) or display name.
public struct KeyManagement: Sendable {
    let store: any GatewayStore
    let authenticator: Authenticator
    /// Where `/key/info` reads a key's spend per budgeted model; nil outside a running gateway.
    var modelBudgets: ModelBudgets? = nil

    public init(store: any GatewayStore, authenticator: Authenticator) {
        self.store = store
        self.authenticator = authenticator
    }

    public func generate(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await answer(headers) { () async throws(GatewayError) -> JSONValue in
            let (raw, key) = try await create(try AdminInput.object(body))
            return .object(Self.generated(raw, key))
        }
    }

    /// LiteLLM's `GenerateKeyResponse`: the key's fields, the raw `key`, and `token_id` (the token).
    static func generated(_ raw: String, _ key: VirtualKey) -> JSONObject {
        var info = Self.info(key)
        info["key"] = .string(raw)
        info["token_id"] = .string(key.token)
        info["litellm_budget_table"] = info["litellm_budget_table"] ?? .null
        return info
    }

    /// Makes a key from `/key/generate` fields (also what `spanway keys create` and `/user/new`
    /// send); returns the raw key, which exists nowhere else afterwards.
    public func create(_ body: JSONObject) async throws(GatewayError) -> (raw: String, key: VirtualKey) {
        let object = Self.clearingBlankIDs(body)
        let now = authenticator.clock.nowSeconds()
        let changes = try VirtualKey.adminFields.changes(object, passing: ["key"], now: now)
        let raw = try Self.rawKey(object, "key")
        try await requireOwners(object)
        var key = VirtualKey(token: KeyDigest(key: raw).hex, keyName: VirtualKey.displayName(of: raw), createdAt: now)
        changes.apply(to: &key)
        key.updatedAt = now
        key.litellmFields = AdminValue.setting("created_by", .string(Authenticator.masterKeyName), in: key.litellmFields)
        key.litellmFields = AdminValue.setting("updated_by", .string(Authenticator.masterKeyName), in: key.litellmFields)
        try await requireUniqueAlias(key)
        do {
            try await store.insert(key)
        } catch {
            if (try? await store.fetch(VirtualKey.self, id: key.token)) != nil {
                throw GatewayError(.conflict, "This key already exists.", param: "key", detail: .init(code: "key_exists"))
            }
            throw .storeUnavailable()
        }
        authenticator.budgetGauges.changed(key)
        return (raw, key)
    }

    /// A new key with the old one's settings (and spend). With `grace_period` the old key keeps
    /// working until then; without, it stops at once.
    public func regenerate(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await answer(headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            if object["new_master_key"].map({ !$0.isNull }) ?? false {
                throw .invalidRequest(
                    "Spanway's master key is set in its configuration; 'new_master_key' cannot rotate it.",
                    param: "new_master_key")
            }
            let now = authenticator.clock.nowSeconds()
            // LiteLLM's `RegenerateKeyRequest` takes the generate fields too: they change the new key.
            let changes = try VirtualKey.adminFields.changes(
                Self.clearingBlankIDs(object), passing: ["key", "grace_period", "new_key", "new_master_key"], now: now)
            try await requireOwners(object)
            var old = try await existing(Self.token(of: try AdminInput.requiredString(object, "key")))
            var grace: Double?
            if let value = object["grace_period"], !value.isNull {
                guard let text = value.stringValue, let seconds = DurationText.seconds(text) else {
                    throw .invalidRequest("'grace_period' must be a duration like 30m, 24h or 2d.", param: "grace_period")
                }
                grace = seconds
            }
            let raw = try Self.rawKey(object, "new_key")
            var new = old
            new.token = KeyDigest(key: raw).hex
            new.keyName = VirtualKey.displayName(of: raw)
            new.createdAt = now
            if AdminValue.parsedObject(old.litellmFields)[Self.replacedBy] != nil {
                new.litellmFields = AdminValue.setting(Self.replacedBy, .null, in: new.litellmFields)
            }
            changes.apply(to: &new)
            new.updatedAt = now
            // The old key leaves the alias to the new one (LiteLLM moves it out of its keys table).
            if new.keyAlias != old.keyAlias { try await requireUniqueAlias(new, besides: [old.token]) }
            let replaced = old.token
            try await AdminInput.store {
                try await store.insert(new)
                if let grace {
                    old.expiresAt = min(old.expiresAt ?? .infinity, now + grace)
                    old.litellmFields = AdminValue.setting(
                        Self.replacedBy, .string(new.token), in: old.litellmFields)
                    try await store.update(old)
                } else {
                    _ = try await store.delete(VirtualKey.self, ids: [replaced])
                }
            }
            authenticator.budgetGauges.changed(new)
            if grace != nil {
                authenticator.budgetGauges.changed(old)
            } else {
                authenticator.budgetGauges.deleted(kind: VirtualKey.kind, ids: [replaced])
            }
            var info = Self.info(new)
            info["key"] = .string(raw)
            info["replaced_token"] = .string(replaced)
            return .object(info)
        }
    }

    /// `GET /key/info[?key=]`: the master key may read any key; a virtual key reads itself (with
    /// no `key` parameter, as LiteLLM's SDK and UI call it, or naming itself) and nothing else.
    public func info(_ uri: String, headers: HTTPFields) async -> GatewayReply {
        do throws(GatewayError) {
            let principal = try await authenticator.authenticate(headers, route: "/key/info")
            let param = AdminInput.query(uri)["key"]
            let key: VirtualKey
            if let own = principal.key {
                guard param.map(Self.token(of:)) ?? own.token == own.token else {
                    throw .permissionDenied("A virtual key may read only its own info.", param: "key")
                }
                // As stored: the principal's copy carries a temporary budget increase in its budget.
                key = try await existing(own.token)
            } else {
                // Not a virtual key: the admin API's rules (closed when no master key is set).
                _ = try await authenticator.authenticateAdmin(headers)
                guard let param else { throw .invalidRequest("'key' is required.", param: "key") }
                key = try await existing(Self.token(of: param))
            }
            var info = Self.info(key)
            if let usage = await modelBudgets?.usage(of: key, now: authenticator.clock.nowSeconds()) {
                info["model_max_budget_usage"] = .object(usage)
            }
            let value: JSONValue = .object(["key": .string(key.token), "info": .object(info)])
            return GatewayReply(status: 200, headers: [("content-type", "application/json")], body: .bytes(value.encoded()))
        } catch {
            return GatewayReply(error)
        }
    }

    /// `GET /key/list` with LiteLLM's filters; `size` at most 100, as LiteLLM allows.
    public func list(_ uri: String, headers: HTTPFields) async -> GatewayReply {
        await answer(headers) { () async throws(GatewayError) -> JSONValue in
            let query = AdminInput.query(uri)
            let page = try AdminInput.positive(query["page"], "page", default: 1)
            let size = try AdminInput.positive(query["size"], "size", default: 10)
            guard size <= 100 else { throw .invalidRequest("'size' must be at most 100.", param: "size") }
            let status = query["status"]
            if let status, !["active", "expired", "revoked", "deleted"].contains(status) {
                throw .invalidRequest("'status' must be one of active, expired, revoked, deleted.", param: "status")
            }
            let filtered = ["key_alias", "organization_id", "key_hash", "status"].contains { query[$0] != nil }
            let keys: [VirtualKey]
            let total: Int
            if filtered {
                let now = authenticator.clock.nowSeconds()
                let matching = try await allKeys(teamID: query["team_id"], userID: query["user_id"]).filter { key in
                    query["key_alias"].map { key.keyAlias == $0 } ?? true
                        && query["organization_id"].map { key.organizationID == $0 } ?? true
                        && query["key_hash"].map { key.token == Self.token(of: $0) } ?? true
                        && status.map { Self.status(of: key, now: now) == $0 } ?? true
                }
                total = matching.count
                keys = Array(matching.dropFirst((page - 1) * size).prefix(size))
            } else {
                (keys, total) = try await AdminInput.store {
                    try await store.keys(
                        teamID: query["team_id"], userID: query["user_id"], limit: size, offset: (page - 1) * size)
                }
            }
            let full = query["return_full_object"] == "true"
            return .object([
                "keys": .array(keys.map { full ? .object(Self.info($0)) : .string($0.token) }),
                "total_count": .int(total), "current_page": .int(page),
                "total_pages": .int((total + size - 1) / size),
            ])
        }
    }

    /// LiteLLM's key statuses: blocked keys are `revoked`; deleted keys are gone here, so none is `deleted`.
    static func status(of key: VirtualKey, now: Double) -> String {
        key.blocked ? "revoked" : key.isExpired(now: now) ? "expired" : "active"
    }

    /// `/key/update`: the key named by `key` (raw or token), or else by `key_alias`; unset fields
    /// stay as they are.
    public func update(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await answer(headers) { () async throws(GatewayError) -> JSONValue in
            var object = Self.clearingBlankIDs(try AdminInput.object(body))
            if object["team_id"] == .string("") { object["team_id"] = nil }
            let named = object["key"].flatMap(\.stringValue)
            guard named != nil || object["key_alias"]?.stringValue != nil else {
                throw .invalidRequest("either key or key_alias must be provided", param: "key")
            }
            guard (object["temp_budget_increase"]?.isNull ?? true) == (object["temp_budget_expiry"]?.isNull ?? true) else {
                throw .invalidRequest(
                    "temp_budget_increase and temp_budget_expiry must be set together", param: "temp_budget_increase")
            }
            let now = authenticator.clock.nowSeconds()
            // Named by its alias, the alias is the key's name, not a change.
            let passing: Set<String> = named == nil ? ["key", "key_alias"] : ["key"]
            let changes = try VirtualKey.adminFields.changes(object, passing: passing, now: now)
            try await requireOwners(object)
            var key: VirtualKey
            if let named {
                key = try await existing(Self.token(of: named))
            } else {
                key = try await byAlias(object["key_alias"]?.stringValue ?? "", now: now)
            }
            let alias = key.keyAlias
            changes.apply(to: &key)
            key.updatedAt = now
            key.litellmFields = AdminValue.setting("updated_by", .string(Authenticator.masterKeyName), in: key.litellmFields)
            // As LiteLLM's `_enforce_unique_key_alias`: an alias is checked when it changes.
            if key.keyAlias != alias { try await requireUniqueAlias(key) }
            try await AdminInput.store { try await store.update(key) }
            authenticator.budgetGauges.changed(key)
            var info = Self.info(key)
            info["key"] = .string(named ?? key.token)
            return .object(info)
        }
    }

    public func delete(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await answer(headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, ["keys", "key_aliases"])
            var tokens: [String] = []
            if object["keys"].map({ !$0.isNull }) ?? false {
                tokens += try AdminInput.stringList(object, "keys").map(Self.token(of:))
            }
            if object["key_aliases"].map({ !$0.isNull }) ?? false {
                let aliases = Set(try AdminInput.stringList(object, "key_aliases"))
                tokens += try await allKeys().filter { $0.keyAlias.map(aliases.contains) ?? false }.map(\.token)
            }
            guard object["keys"] != nil || object["key_aliases"] != nil else {
                throw .invalidRequest("At least one of 'keys' or 'key_aliases' must be provided.", param: "keys")
            }
            let deleted = try await AdminInput.store { try await store.delete(VirtualKey.self, ids: tokens) }
            authenticator.budgetGauges.deleted(kind: VirtualKey.kind, ids: tokens)
            guard deleted > 0 else { throw .notFound("None of these keys exists.") }
            return .object(["deleted_keys": .array(tokens.map(JSONValue.string))])
        }
    }

    /// `/key/block` and `/key/unblock` (`{"key": raw or token}`), answered with the key.
    public func block(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await setBlocked(true, body, headers: headers)
    }

    public func unblock(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await setBlocked(false, body, headers: headers)
    }

    private func setBlocked(_ blocked: Bool, _ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await answer(headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, ["key"])
            var key = try await existing(Self.token(of: try AdminInput.requiredString(object, "key")))
            key.blocked = blocked
            key.updatedAt = authenticator.clock.nowSeconds()
            try await AdminInput.store { try await store.update(key) }
            return .object(Self.info(key))
        }
    }

    // MARK: - Helpers

    private func answer(_ headers: HTTPFields, _ work: () async throws(GatewayError) -> JSONValue) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers, work)
    }

    /// LiteLLM takes an empty `team_id`, `organization_id` or `project_id` as unset.
    static func clearingBlankIDs(_ object: JSONObject) -> JSONObject {
        var object = object
        for field in ["team_id", "organization_id", "project_id"] where object[field] == .string("") {
            object[field] = .null
        }
        return object
    }

    /// A key can only join a team and an organisation that exist.
    func requireOwners(_ object: JSONObject) async throws(GatewayError) {
        try await BudgetLinks.requireTier(object, store)
        if let id = object["team_id"]?.stringValue {
            guard try await AdminInput.store({ try await store.fetch(Team.self, id: id) }) != nil else {
                throw .invalidRequest("Unknown team '\(id)'.", param: "team_id", code: "team_not_found")
            }
        }
        if let id = object["organization_id"]?.stringValue {
            guard try await AdminInput.store({ try await store.fetch(Organization.self, id: id) }) != nil else {
                throw .invalidRequest(
                    "Unknown organization '\(id)'.", param: "organization_id", code: "organization_not_found")
            }
        }
    }

    /// Where a key kept for its grace period after `/key/regenerate` names its replacement, in
    /// `litellmFields` (not shown): LiteLLM's `active_token_id`, of its deprecated-keys table.
    static let replacedBy = "active_token_id"

    /// The keys an alias names: expired keys, and keys replaced by `/key/regenerate` that work
    /// only until their grace period ends, hold no alias (LiteLLM keeps the latter apart, in its
    /// deprecated-keys table).
    private func holders(of alias: String, now: Double) async throws(GatewayError) -> [VirtualKey] {
        try await allKeys().filter {
            $0.keyAlias == alias && !$0.isExpired(now: now)
                && AdminValue.parsedObject($0.litellmFields)[Self.replacedBy]?.stringValue == nil
        }
    }

    /// LiteLLM refuses a second key with the same alias.
    func requireUniqueAlias(_ key: VirtualKey, besides: Set<String> = []) async throws(GatewayError) {
        guard let alias = key.keyAlias else { return }
        if try await holders(of: alias, now: authenticator.clock.nowSeconds()).contains(where: {
            $0.token != key.token && !besides.contains($0.token)
        }) {
            throw .invalidRequest(
                "Key with alias '\(alias)' already exists. Unique key aliases across all keys are required.",
                param: "key_alias")
        }
    }

    private func byAlias(_ alias: String, now: Double) async throws(GatewayError) -> VirtualKey {
        let matching = try await holders(of: alias, now: now)
        guard let key = matching.first else {
            throw .notFound("Key not found. No key with key_alias='\(alias)'.")
        }
        guard matching.count == 1 else {
            throw .invalidRequest(
                "Multiple keys share key_alias='\(alias)', so it cannot be used as an identifier.", param: "key_alias")
        }
        return key
    }

    /// Every key (of a team or user): the store pages by team and user only, so the other
    /// filters read the whole list. Admin calls, not the request path.
    private func allKeys(teamID: String? = nil, userID: String? = nil) async throws(GatewayError) -> [VirtualKey] {
        try await AdminInput.store { try await store.keys(teamID: teamID, userID: userID, limit: Int(Int32.max), offset: 0).keys }
    }

    private func existing(_ token: String) async throws(GatewayError) -> VirtualKey {
        guard let key = try await AdminInput.store({ try await store.fetch(VirtualKey.self, id: token) }) else {
            throw .notFound("Key not found.")
        }
        return key
    }

    /// A raw key (`sk-…`) is hashed; anything else is taken to be a token already.
    public static func token(of name: String) -> String {
        name.hasPrefix("sk-") ? KeyDigest(key: name).hex : name
    }

    /// LiteLLM's shortest custom key.
    static let minimumCustomKeyLength = 16

    /// The raw key a request names in `field`, or a new one when it names none. LiteLLM's rule
    /// and wording: `sk-` and at least 16 characters.
    static func rawKey(_ object: JSONObject, _ field: String) throws(GatewayError) -> String {
        guard let custom = object[field], !custom.isNull else { return newKey() }
        guard let text = custom.stringValue else { throw AdminValue.mismatch(field, "a string", custom) }
        guard text.hasPrefix("sk-") else {
            let masked = text.count > 8 ? "\(text.prefix(4))****\(text.suffix(4))" : "****"
            throw .invalidRequest(
                "Invalid key format. LiteLLM Virtual Key must start with 'sk-'. Received: \(masked)", param: field)
        }
        guard text.count >= minimumCustomKeyLength else {
            throw .invalidRequest(
                "Invalid key format. LiteLLM Virtual Key must be at least \(minimumCustomKeyLength) characters long.",
                param: field)
        }
        return text
    }

    /// `sk-` and 32 characters from a 62-letter alphabet: about 190 bits.
    static func newKey() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return "sk-" + String((0..<32).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

    static func info(_ key: VirtualKey) -> JSONObject {
        VirtualKey.adminFields.render(key)
    }
}

extension VirtualKey {
    /// The fields of `/key/generate` and `/key/update`, and of the answers about keys.
    static let adminFields = AdminFields<VirtualKey>(
        [
            .shown("token") { .string($0.token) },
            .shown("key_name") { .string($0.keyName) },
            .text("key_alias", \.keyAlias),
            .text("team_id", \.teamID),
            .text("user_id", \.userID),
            .text("organization_id", \.organizationID),
            .text("budget_id", \.budgetID),
            .nameMap("aliases", \.aliases),
            .amount("soft_budget", \.softBudget),
            // How long the key lives from now; answers show when it expires instead.
            AdminField(
                "duration",
                parse: { value, now throws(GatewayError) in
                    let lifetime = try AdminValue.duration(value, "duration")
                    return { $0.expiresAt = lifetime.map { now + $0.seconds } }
                }, render: nil),
            .shown("expires") { AdminValue.date($0.expiresAt) },
            .flag("blocked", \.blocked),
            .flag("allow_evaluations", \.allowEvaluations),
            .names("tags", \.tags),
            .names("allowed_routes", \.allowedRoutes),
            .amount("temp_budget_increase", \.tempBudgetIncrease),
            .stored("temp_budget_expiry", \.tempBudgetExpiry, AdminValue.instant, show: AdminValue.date),
            .shown("created_at") { AdminValue.date($0.createdAt) },
            .shown("updated_at") { AdminValue.date($0.updatedAt) },
            .shown("created_by") { AdminValue.parsedObject($0.litellmFields)["created_by"] ?? .null },
            .shown("updated_by") { AdminValue.parsedObject($0.litellmFields)["updated_by"] ?? .null },
        ] + AdminField.limitFields(spendSettable: true) + AdminField.kept(litellmOnlyFields, in: \.litellmFields))

    /// LiteLLM's key fields Spanway keeps and shows back but does not act on, with LiteLLM's defaults.
    static let litellmOnlyFields: [(name: String, kind: AdminValue.Kind, empty: JSONValue)] = [
        ("key_type", .choice(["llm_api", "management", "read_only", "default"]), "default"),
        ("project_id", .text, .null), ("agent_id", .text, .null), ("end_user_budget_id", .text, .null),
        ("auto_rotate", .flag, false), ("rotation_interval", .text, .null),
        ("config", .object, .object([:])), ("permissions", .object, .object([:])),
        ("model_max_budget", .object, .object([:])), ("budget_fallbacks", .object, .null),
        ("budget_limits", .list, .null), ("model_rpm_limit", .object, .null), ("model_tpm_limit", .object, .null),
        ("mcp_rpm_limit", .object, .null), ("tag_rpm_limit", .object, .null), ("tpd_limit", .count, .null),
        ("rpm_limit_type", .choice(["guaranteed_throughput", "best_effort_throughput", "dynamic"]), .null),
        ("tpm_limit_type", .choice(["guaranteed_throughput", "best_effort_throughput", "dynamic"]), .null),
        ("guardrails", .list, .null), ("policies", .list, .null), ("prompts", .list, .null),
        ("disable_global_guardrails", .flag, .null), ("enforced_params", .list, .null),
        ("object_permission", .object, .null), ("access_group_ids", .list, .array([])),
        ("allowed_cache_controls", .list, .array([])), ("allowed_passthrough_routes", .list, .null),
        ("denied_passthrough_routes", .list, .null), ("allowed_vector_store_indexes", .list, .null),
        ("default_estimated_output_tokens", .count, .null), ("default_estimated_output_tokens_per_model", .object, .null),
        ("enable_prompt_caching", .flag, .null), ("throttle_on_budget_exceeded", .flag, .null),
        ("router_settings", .object, .null), ("send_invite_email", .flag, .null),
    ]
}
