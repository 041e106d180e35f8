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
        let fields = try KeyFields(object, extra: ["key"])
        let raw: String
        if let custom = object["key"] {
            guard let text = custom.stringValue, text.hasPrefix("sk-"), text.count >= 20 else {
                throw .invalidRequest("'key' must be a string starting with 'sk-', at least 20 characters.", param: "key")
            }
            raw = text
        } else {
            raw = Self.newKey()
        }
        try await requireTeam(object)
        let now = Date().timeIntervalSince1970
        var key = VirtualKey(token: KeyDigest(key: raw).hex, keyName: VirtualKey.displayName(of: raw), createdAt: now)
        fields.apply(to: &key, now: now)
        do {
            try await store.insertKey(key)
        } catch {
            if (try? await store.key(token: key.token)) != nil {
                throw GatewayError(status: 409, type: "invalid_request_error", message: "This key already exists.",
                    param: "key", code: "key_exists")
            }
            throw AdminInput.storeError
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
            let now = Date().timeIntervalSince1970
            var grace: Double?
            if let value = object["grace_period"], !value.isNull {
                guard let text = value.stringValue, let seconds = DurationText.seconds(text) else {
                    throw .invalidRequest("'grace_period' must be a duration like 30m, 24h or 2d.", param: "grace_period")
                }
                grace = seconds
            }
            let raw: String
            if let custom = object["new_key"] {
                guard let text = custom.stringValue, text.hasPrefix("sk-"), text.count >= 20 else {
                    throw .invalidRequest("'new_key' must be a string starting with 'sk-', at least 20 characters.",
                        param: "new_key")
                }
                raw = text
            } else {
                raw = Self.newKey()
            }
            var new = old
            new.token = KeyDigest(key: raw).hex
            new.keyName = VirtualKey.displayName(of: raw)
            new.createdAt = now
            let replaced = old.token
            try await AdminInput.store {
                try await store.insertKey(new)
                if let grace {
                    old.expiresAt = min(old.expiresAt ?? .infinity, now + grace)
                    try await store.updateKey(old)
                } else {
                    _ = try await store.deleteKeys(tokens: [replaced])
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

    public func info(_ uri: String, headers: HTTPFields) async -> GatewayReply {
        await answer(headers) { () async throws(GatewayError) -> JSONValue in
            guard let param = AdminInput.query(uri)["key"] else { throw .invalidRequest("'key' is required.", param: "key") }
            let key = try await existing(Self.token(of: param))
            return .object(["key": .string(key.token), "info": .object(Self.info(key))])
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
            let fields = try KeyFields(object, extra: ["key"])
            try await requireTeam(object)
            var key = try await existing(Self.token(of: name))
            fields.apply(to: &key, now: Date().timeIntervalSince1970)
            try await AdminInput.store { try await store.updateKey(key) }
            authenticator.budgetGauges.changed(key)
            return .object(Self.info(key))
        }
    }

    public func delete(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await answer(headers) { () async throws(GatewayError) -> JSONValue in
            let object = try AdminInput.object(body)
            try AdminInput.onlyKnown(object.keys, ["keys"])
            let tokens = try AdminInput.stringList(object, "keys").map(Self.token(of:))
            let deleted = try await AdminInput.store { try await store.deleteKeys(tokens: tokens) }
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
        guard try await AdminInput.store({ try await store.team(id: id) }) != nil else {
            throw .invalidRequest("Unknown team '\(id)'.", param: "team_id", code: "team_not_found")
        }
    }

    private func existing(_ token: String) async throws(GatewayError) -> VirtualKey {
        guard let key = try await AdminInput.store({ try await store.key(token: token) }) else {
            throw .notFound("No such key.")
        }
        return key
    }

    /// A raw key (`sk-…`) is hashed; anything else is taken to be a token already.
    static func token(of name: String) -> String {
        name.hasPrefix("sk-") ? KeyDigest(key: name).hex : name
    }

    /// `sk-` and 32 characters from a 62-letter alphabet: about 190 bits.
    static func newKey() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return "sk-" + String((0..<32).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

    static func info(_ key: VirtualKey) -> JSONObject {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        let own: JSONObject = [
            "token": .string(key.token), "key_name": .string(key.keyName), "key_alias": text(key.keyAlias),
            "team_id": text(key.teamID), "user_id": text(key.userID),
            "aliases": .object(JSONObject(key.aliases.sorted { $0.key < $1.key }.map { (key: $0.key, value: .string($0.value)) })),
            "soft_budget": key.softBudget.map(JSONValue.double) ?? .null, "expires": AdminInput.date(key.expiresAt), "blocked": .bool(key.blocked), "created_at": AdminInput.date(key.createdAt),
        ]
        return own.merging(key.limitJSON)
    }
}
