import Foundation
import Yams

/// Shared state in Redis: LiteLLM's `router_settings` keys and environment variables, plus
/// Spanway's `redis_failure_mode` and `redis_lease_seconds`.
extension ConfigLoader {
    static let redisKeys: Set<String> = [
        "redis_host", "redis_port", "redis_password", "redis_url", "redis_failure_mode", "redis_lease_seconds",
    ]

    /// The URL wins over host and port, settings over variables: a config names its Redis
    /// explicitly, the environment is the fallback (as in LiteLLM).
    func readSharedState(router: [String: Node], into config: inout GatewayConfig, _ reader: inout YAMLReader) {
        func setting(_ key: String) -> String? {
            guard let node = router[key], Self.isOn(node) else { return nil }
            return reader.string(node, at: "router_settings.\(key)").flatMap { $0.isEmpty ? nil : $0 }
        }
        func variable(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }

        let url: String
        if let given = setting("redis_url") ?? (setting("redis_host") == nil ? variable("REDIS_URL") : nil) {
            url = given
        } else if let host = setting("redis_host") ?? variable("REDIS_HOST") {
            let port = setting("redis_port") ?? variable("REDIS_PORT") ?? "6379"
            guard let number = Int(port), (1...65_535).contains(number) else {
                reader.error("router_settings.redis_port", "must be a port number (1-65535), found '\(port)'")
                return
            }
            let password = setting("redis_password") ?? variable("REDIS_PASSWORD")
            let auth = password.map { ":" + Self.percentEncoded($0) + "@" } ?? ""
            url = "redis://\(auth)\(host.contains(":") ? "[\(host)]" : host):\(number)"
        } else {
            for key in ["redis_failure_mode", "redis_lease_seconds"] {
                if let node = router[key], Self.isOn(node) {
                    reader.warning("router_settings.\(key)", "ignored: no Redis is configured")
                }
            }
            return
        }
        var settings = SharedStateSettings(url: url)
        if let mode = setting("redis_failure_mode") {
            guard let chosen = SharedStateSettings.FailureMode(rawValue: mode) else {
                let known = SharedStateSettings.FailureMode.allCases.map(\.rawValue).joined(separator: ", ")
                reader.error("router_settings.redis_failure_mode", "unknown mode '\(mode)' (known: \(known))")
                return
            }
            settings.failureMode = chosen
        }
        if let node = router["redis_lease_seconds"], Self.isOn(node),
            let seconds = reader.double(node, at: "router_settings.redis_lease_seconds")
        {
            // At least a second: renewals go out every third of it.
            guard seconds >= 1, seconds <= 86_400 else {
                reader.error("router_settings.redis_lease_seconds", "must be between 1 and 86400 seconds, found \(seconds)")
                return
            }
            settings.lease = .milliseconds(Int64(seconds * 1000))
        }
        config.sharedState = settings
    }

    private static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}
