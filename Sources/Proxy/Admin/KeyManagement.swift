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

    public func generate(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await answer(headers) { () async throws(GatewayError) -> JSONValue in
            let object = try Self.object(body)
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
                throw Self.storeError
            }
            var info = Self.info(key)
            info["key"] = .string(raw)
            return .object(info)
        }
    }

    public func info(_ uri: String, headers: HTTPFields) async -> GatewayReply {
        await answer(headers) { () async throws(GatewayError) -> JSONValue in
            guard let param = Self.query(uri)["key"] else { throw .invalidRequest("'key' is required.", param: "key") }
            let key = try await existing(Self.token(of: param))
            return .object(["key": .string(key.token), "info": .object(Self.info(key))])
        }
    }

    public func list(_ uri: String, headers: HTTPFields) async -> GatewayReply {
        await answer(headers) { () async throws(GatewayError) -> JSONValue in
            let query = Self.query(uri)
            let page = try Self.positive(query["page"], "page", default: 1)
            let size = try Self.positive(query["size"], "size", default: 10)
            guard size <= 1000 else { throw .invalidRequest("'size' must be at most 1000.", param: "size") }
            let result: (keys: [VirtualKey], total: Int)
            do {
                result = try await store.keys(teamID: query["team_id"], limit: size, offset: (page - 1) * size)
            } catch {
                throw Self.storeError
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
            let object = try Self.object(body)
            guard let name = object["key"]?.stringValue else {
                throw .invalidRequest("'key' is required and must be a string.", param: "key")
            }
            let fields = try KeyFields(object, extra: ["key"])
            var key = try await existing(Self.token(of: name))
            fields.apply(to: &key, now: Date().timeIntervalSince1970)
            do {
                try await store.updateKey(key)
            } catch {
                throw Self.storeError
            }
            return .object(Self.info(key))
        }
    }

    public func delete(_ body: ByteBuffer, headers: HTTPFields) async -> GatewayReply {
        await answer(headers) { () async throws(GatewayError) -> JSONValue in
            let object = try Self.object(body)
            for field in object.keys where field != "keys" {
                throw .invalidRequest("Unknown field '\(field)'.", param: field)
            }
            guard let names = object["keys"]?.arrayValue?.compactMap(\.stringValue), !names.isEmpty,
                names.count == object["keys"]?.arrayValue?.count
            else {
                throw .invalidRequest("'keys' must be a non-empty array of keys or tokens.", param: "keys")
            }
            let tokens = names.map(Self.token(of:))
            let deleted: Int
            do {
                deleted = try await store.deleteKeys(tokens: tokens)
            } catch {
                throw Self.storeError
            }
            guard deleted > 0 else { throw .notFound("None of these keys exists.") }
            return .object(["deleted_keys": .array(tokens.map(JSONValue.string))])
        }
    }

    // MARK: - Helpers

    private func answer(_ headers: HTTPFields, _ work: () async throws(GatewayError) -> JSONValue) async -> GatewayReply {
        do {
            _ = try await authenticator.authenticateAdmin(headers)
            let value = try await work()
            return GatewayReply(status: 200, headers: [("content-type", "application/json")], body: .bytes(value.encoded()))
        } catch {
            return Gateway.reply(error, headers: [])
        }
    }

    private func existing(_ token: String) async throws(GatewayError) -> VirtualKey {
        let key: VirtualKey?
        do {
            key = try await store.key(token: token)
        } catch {
            throw Self.storeError
        }
        guard let key else { throw .notFound("No such key.") }
        return key
    }

    static let storeError = GatewayError(
        status: 503, type: "api_error", message: "The key store is unavailable.", errorType: "store_unavailable")

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

    static func object(_ body: ByteBuffer) throws(GatewayError) -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONParser.parse(body.readableBytesView)
        } catch {
            throw .invalidRequest("Request body is not valid JSON: \(error.description).", code: "invalid_json")
        }
        guard let object = value.objectValue else {
            throw .invalidRequest("Request body must be a JSON object, found \(value.typeName).")
        }
        return object
    }

    static func query(_ uri: String) -> [String: String] {
        guard let components = URLComponents(string: uri) else { return [:] }
        var result: [String: String] = [:]
        for item in components.queryItems ?? [] { result[item.name] = item.value ?? "" }
        return result
    }

    static func positive(_ text: String?, _ name: String, default value: Int) throws(GatewayError) -> Int {
        guard let text else { return value }
        guard let number = Int(text), number >= 1 else {
            throw .invalidRequest("'\(name)' must be a whole number of at least 1.", param: name)
        }
        return number
    }

    static func info(_ key: VirtualKey) -> JSONObject {
        func date(_ seconds: Double?) -> JSONValue {
            seconds.map { .string(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: $0))) } ?? .null
        }
        let metadata = (try? JSONParser.parse(key.metadata)) ?? .object([:])
        return [
            "token": .string(key.token), "key_name": .string(key.keyName),
            "key_alias": key.keyAlias.map(JSONValue.string) ?? .null,
            "team_id": key.teamID.map(JSONValue.string) ?? .null, "user_id": key.userID.map(JSONValue.string) ?? .null,
            "models": .array(key.models.map(JSONValue.string)),
            "aliases": .object(JSONObject(key.aliases.sorted { $0.key < $1.key }.map { (key: $0.key, value: .string($0.value)) })),
            "max_budget": key.maxBudget.map(JSONValue.double) ?? .null,
            "budget_duration": key.budgetDuration.map(JSONValue.string) ?? .null,
            "budget_reset_at": date(key.budgetResetAt), "spend": .double(key.spend),
            "tpm_limit": key.tpmLimit.map(JSONValue.int) ?? .null, "rpm_limit": key.rpmLimit.map(JSONValue.int) ?? .null,
            "max_parallel_requests": key.maxParallelRequests.map(JSONValue.int) ?? .null, "metadata": metadata,
            "expires": date(key.expiresAt), "blocked": .bool(key.blocked), "created_at": date(key.createdAt),
        ]
    }
}
