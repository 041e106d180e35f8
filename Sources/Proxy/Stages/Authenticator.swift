import Foundation
import HTTPTypes
import Store
import Telemetry

/// Who is calling, once authenticated.
public struct Principal: Sendable {
    public var caller: Caller
    public var isMaster: Bool
}

/// Stage 1: the bearer key (or `x-api-key`) to a principal. Only the master key exists in this
/// version; virtual keys will be looked up by digest in the store.
public struct Authenticator: Sendable {
    let masterDigest: KeyDigest?

    public init(masterKey: String?) {
        masterDigest = masterKey.flatMap { $0.isEmpty ? nil : KeyDigest(key: $0) }
    }

    public var isOpen: Bool { masterDigest == nil }

    public func authenticate(_ headers: HTTPFields) throws(GatewayError) -> Principal {
        let presented = Self.presentedKey(headers)
        let digest = presented.map(KeyDigest.init(key:))
        guard let masterDigest else {
            // No master key configured: the gateway is open (a warning was logged at start-up).
            return Principal(caller: Caller(keyHash: digest?.hex), isMaster: true)
        }
        guard let digest else {
            throw .authentication(
                "No API key provided. Send 'Authorization: Bearer <key>' or an 'x-api-key' header.")
        }
        guard digest.matches(masterDigest) else {
            throw .authentication("Invalid API key.")
        }
        return Principal(caller: Caller(keyHash: digest.hex), isMaster: true)
    }

    static func presentedKey(_ headers: HTTPFields) -> String? {
        if let authorization = headers[.authorization] {
            let trimmed = authorization.trimmingCharacters(in: .whitespaces)
            if trimmed.lowercased().hasPrefix("bearer ") {
                let key = trimmed.dropFirst(7).trimmingCharacters(in: .whitespaces)
                return key.isEmpty ? nil : key
            }
        }
        if let name = HTTPField.Name("x-api-key"), let key = headers[name], !key.isEmpty {
            return key
        }
        return nil
    }
}
