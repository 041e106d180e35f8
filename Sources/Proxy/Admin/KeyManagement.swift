import Foundation
import HTTPTypes
import NIOCore
import Store
import Telemetry

/// `/key/*`: virtual keys, LiteLLM's request and response field names. Master key only. A raw key
/// is shown once, in the answer to `/key/generate`; afterwards keys are named by their `token`
/// (SHA-256) or display name.
public struct KeyManagement: Sendable {
    let store: any GatewayStore
    let authenticator: Authenticator

    public init(store: any GatewayStore, authenticator: Authenticator) {
        self.store = store
        self.authenticator = authenticator
    }

    public func generate(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await answer(headers) { () async throws(GatewayError) -> JSONValue in
            let (raw, key) = try await create(try AdminInput.object(body))
            var info = Self.info(key)
            info["key"] = .string(raw)
            return .object(info)
        }
    }

    /// Makes a key from `/key/generate` fields (also what `spanway keys create` sends); returns
    /// the raw key, which exists nowhere else afterwards.
    public func create(_ object: JSONObject) async throws(GatewayError) -> (raw: String, key: VirtualKey) {
        let now = authenticator.clock.nowSeconds()
        let changes = try VirtualKey.adminFields.changes(object, passing: ["key"], now: now)
        let raw = try Self.rawKey(object, "key")
        try await requireTeam(object)
        var key = VirtualKey(token: KeyDigest(key: raw).hex, keyName: VirtualKey.displayName(of: raw), createdAt: now)
        changes.apply(to: &key)
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
            try AdminInput.onlyKnown(object.keys, ["key", "grace_period", "new_key"])
            var old = try await existing(Self.token(of: try AdminInput.requiredString(object, "key")))
            let now = authenticator.clock.nowSeconds()
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
            let replaced = old.token
            try await AdminInput.store {
                try await store.insert(new)
                if let grace {
                    old.expiresAt = min(old.expiresAt ?? .infinity, now + grace)
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
            let principal = try await authenticator.authenticate(headers)
            let param = AdminInput.query(uri)["key"]
            let key: VirtualKey
            if let own = principal.key {
                guard param.map(Self.token(of:)) ?? own.token == own.token else {
                    throw .permissionDenied("A virtual key may read only its own info.", param: "key")
                }
                key = own
            } else {
                // Not a virtual key: the admin API's rules (closed when no master key is set).
                _ = try await authenticator.authenticateAdmin(headers)
                guard let param else { throw .invalidRequest("'key' is required.", param: "key") }
                key = try await existing(Self.token(of: param))
            }
            let value: JSONValue = .object(["key": .string(key.token), "info": .object(Self.info(key))])
            return GatewayReply(status: 200, headers: [("content-type", "application/json")], body: .bytes(value.encoded()))
        } catch {
            return GatewayReply(error)
        }
    }

    public func list(_ uri: String, headers: HTTPFields) async -> GatewayReply {
        await answer(headers) { () async throws(GatewayError) -> JSONValue in
            let query = AdminInput.query(uri)
            let page = try AdminInput.positive(query["page"], "page", default: 1)
            let size = try AdminInput.positive(query["size"], "size", default: 10)
            guard size <= 1000 else { throw .invalidRequest("'size' must be at most 1000.", param: "size") }
            let result = try await AdminInput.store {
                try await store.keys(teamID: query["team_id"], userID: query["user_id"], limit: size, offset: (page - 1) * size)
            }
            let full = query["return_full_object"] == "true"
            return .object([
                "keys": .array(result.keys.map { full ? .object(Self.info($0)) : .string($0.token) }),
                "total_count": .int(result.total), "current_page": .int(page),
                "total_pages": .int((result.total + size - 1) / size),
            ])
        }
    }

    public func update(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await answer(headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            let name = try AdminInput.requiredString(object, "key")
            let changes = try VirtualKey.adminFields.changes(object, passing: ["key"], now: authenticator.clock.nowSeconds())
            try await requireTeam(object)
            var key = try await existing(Self.token(of: name))
            changes.apply(to: &key)
            try await AdminInput.store { try await store.update(key) }
            authenticator.budgetGauges.changed(key)
            return .object(Self.info(key))
        }
    }

    public func delete(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await answer(headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, ["keys"])
            let tokens = try AdminInput.stringList(object, "keys").map(Self.token(of:))
            let deleted = try await AdminInput.store { try await store.delete(VirtualKey.self, ids: tokens) }
            authenticator.budgetGauges.deleted(kind: VirtualKey.kind, ids: tokens)
            guard deleted > 0 else { throw .notFound("None of these keys exists.") }
            return .object(["deleted_keys": .array(tokens.map(JSONValue.string))])
        }
    }

    // MARK: - Helpers

    private func answer(_ headers: HTTPFields, _ work: () async throws(GatewayError) -> JSONValue) async -> GatewayReply {
        await AdminInput.answer(authenticator, headers, work)
    }

    /// A key can only join a team that exists.
    private func requireTeam(_ object: JSONObject) async throws(GatewayError) {
        guard let id = object["team_id"]?.stringValue else { return }
        guard try await AdminInput.store({ try await store.fetch(Team.self, id: id) }) != nil else {
            throw .invalidRequest("Unknown team '\(id)'.", param: "team_id", code: "team_not_found")
        }
    }

    private func existing(_ token: String) async throws(GatewayError) -> VirtualKey {
        guard let key = try await AdminInput.store({ try await store.fetch(VirtualKey.self, id: token) }) else {
            throw .notFound("No such key.")
        }
        return key
    }

    /// A raw key (`sk-…`) is hashed; anything else is taken to be a token already.
    public static func token(of name: String) -> String {
        name.hasPrefix("sk-") ? KeyDigest(key: name).hex : name
    }

    /// The raw key a request names in `field`, or a new one when it names none.
    static func rawKey(_ object: JSONObject, _ field: String) throws(GatewayError) -> String {
        guard let custom = object[field] else { return newKey() }
        guard let text = custom.stringValue, text.hasPrefix("sk-"), text.count >= 20 else {
            throw .invalidRequest("'\(field)' must be a string starting with 'sk-', at least 20 characters.", param: field)
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
            .stored(
                "aliases", \.aliases, AdminValue.nameMap,
                show: { .object(JSONObject($0.sorted { $0.key < $1.key }.map { (key: $0.key, value: .string($0.value)) })) }),
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
            .shown("created_at") { AdminValue.date($0.createdAt) },
        ] + AdminField.limitFields())
}
