import Foundation
import HTTPTypes
import NIOCore
import Telemetry

/// What every admin endpoint shares: master-key authentication, OpenAI-shaped errors, and
/// checked parsing of JSON bodies and query strings.
enum AdminInput {
    /// Runs `work` for the master key and renders its JSON, or the error.
    static func answer(
        _ authenticator: Authenticator, _ headers: HTTPFields, _ work: () async throws(GatewayError) -> JSONValue
    ) async -> GatewayReply {
        do {
            _ = try await authenticator.authenticateAdmin(headers)
            let value = try await work()
            return GatewayReply(status: 200, headers: [("content-type", "application/json")], body: .bytes(value.encoded()))
        } catch {
            return GatewayReply(error)
        }
    }

    /// Runs a store call, turning its failure into a 503 that names no internals.
    static func store<T>(_ call: () async throws -> T) async throws(GatewayError) -> T {
        do {
            return try await call()
        } catch {
            throw .storeUnavailable()
        }
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

    static func onlyKnown(_ names: some Sequence<String>, _ known: Set<String>, what: String = "field") throws(GatewayError) {
        for name in names.sorted() where !known.contains(name) {
            throw .invalidRequest("Unknown \(what) '\(name)'.", param: name)
        }
    }

    static func requiredString(_ object: JSONObject, _ field: String) throws(GatewayError) -> String {
        guard let value = object[field]?.stringValue, !value.isEmpty else {
            throw .invalidRequest("'\(field)' is required and must be a string.", param: field)
        }
        return value
    }

    /// A non-empty array of strings.
    static func stringList(_ object: JSONObject, _ field: String) throws(GatewayError) -> [String] {
        guard let items = object[field]?.arrayValue, !items.isEmpty else {
            throw .invalidRequest("'\(field)' must be a non-empty array of strings.", param: field)
        }
        let strings = items.compactMap(\.stringValue)
        guard strings.count == items.count else {
            throw .invalidRequest("'\(field)' must be a non-empty array of strings.", param: field)
        }
        return strings
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
}
