import Crypto
import Foundation
import Telemetry

/// Seals the credentials of models added through the admin API before they reach the store, as
/// LiteLLM encrypts `litellm_params` with its salt key: AES-256-GCM under a key derived (HKDF-SHA256)
/// from `SPANWAY_SALT_KEY`, else `LITELLM_SALT_KEY`, else the master key. Changing that secret
/// makes stored credentials unreadable (those models are then skipped, with a warning), so set a
/// salt key before rotating the master key. `os.environ/NAME` references are kept as they are:
/// each replica resolves them from its own environment.
struct ModelSecrets: Sendable {
    /// Marks a sealed value: base64 of nonce, ciphertext and tag follows.
    static let prefix = "spanway-sealed:v1:"
    /// `litellm_params` holding credentials; `extra_headers` values are sealed too.
    static let sealedParams: Set<String> = ProviderParams.secrets.union(["api_key", "aws_access_key_id"])

    private let key: SymmetricKey

    /// Nil when there is no secret to derive the key from (then the admin API is closed anyway).
    init?(environment: [String: String], masterKey: String?) {
        let secret = [environment["SPANWAY_SALT_KEY"], environment["LITELLM_SALT_KEY"], masterKey]
            .compactMap { $0 }.first { !$0.isEmpty }
        guard let secret else { return nil }
        key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Array(secret.utf8)), info: Array("spanway stored model secrets".utf8),
            outputByteCount: 32)
    }

    func seal(_ text: String) -> String {
        // Sealing fails only for a key of the wrong size, which the derivation above rules out.
        guard let combined = try? AES.GCM.seal(Array(text.utf8), using: key).combined else { return "" }
        return Self.prefix + combined.base64EncodedString()
    }

    /// Nil when the value was sealed under another key, or is damaged.
    func open(_ sealed: String) -> String? {
        guard sealed.hasPrefix(Self.prefix), let data = Data(base64Encoded: String(sealed.dropFirst(Self.prefix.count))),
            let box = try? AES.GCM.SealedBox(combined: data), let plain = try? AES.GCM.open(box, using: key)
        else { return nil }
        return String(decoding: plain, as: UTF8.self)
    }

    /// `litellm_params` as stored: every literal credential sealed.
    func sealing(_ params: JSONObject) -> JSONObject {
        transform(params) { text in Self.isReference(text) || text.hasPrefix(Self.prefix) ? text : seal(text) }
    }

    /// `litellm_params` as read back: every sealed credential opened; nil names the first that
    /// cannot be.
    func opening(_ params: JSONObject) -> Result<JSONObject, SealError> {
        var failed: String?
        let opened = transform(params) { text in
            guard text.hasPrefix(Self.prefix) else { return text }
            if let plain = open(text) { return plain }
            failed = failed ?? "sealed"
            return ""
        }
        return failed == nil ? .success(opened) : .failure(SealError())
    }

    struct SealError: Error {}

    /// `litellm_params` as answers show them: no credential, sealed or not (nor one the config
    /// loader ignores, which older rows may hold), and `api_base` without its user, password or
    /// query string, as `/model/info` shows it.
    static func withoutSecrets(_ params: JSONObject) -> JSONObject {
        var shown = params
        for name in sealedParams.union(ConfigLoader.unsupportedCredentialKeys) { shown[name] = nil }
        shown["extra_headers"] = nil
        if let base = params["api_base"]?.stringValue {
            shown["api_base"] = .string(DeploymentConfig.withoutCredentials(base))
        }
        return shown
    }

    static func isReference(_ text: String) -> Bool { text.hasPrefix(YAMLReader.environmentPrefix) }

    private func transform(_ params: JSONObject, _ change: (String) -> String) -> JSONObject {
        var result = params
        for (name, value) in params.members {
            if Self.sealedParams.contains(name), let text = value.stringValue {
                result[name] = .string(change(text))
            } else if name == "extra_headers", let headers = value.objectValue {
                var sealed = headers
                for (header, headerValue) in headers.members {
                    if let text = headerValue.stringValue { sealed[header] = .string(change(text)) }
                }
                result[name] = .object(sealed)
            }
        }
        return result
    }
}
