import HTTPTypes
import Store

/// Who may read `GET /metrics`. Open unless `general_settings.require_auth_for_metrics_endpoint`
/// is true or `SPANWAY_METRICS_TOKEN` is set; then the bearer (or `x-api-key`) must be the master
/// key or that token. The token opens `/metrics` only: the authenticator does not know it.
///
/// LiteLLM requires auth by default; Spanway stays open by default so existing scrapers keep
/// working, and the setting and the token close it.
public struct MetricsAccess: Sendable {
    public let required: Bool
    /// Digests of the accepted credentials, compared in constant time; the credentials themselves
    /// are not kept.
    private let accepted: [KeyDigest]

    public init(requireAuth: Bool, masterKey: String?, scraperToken: String?) {
        let token = scraperToken.flatMap { $0.isEmpty ? nil : $0 }
        required = requireAuth || token != nil
        accepted = [masterKey.flatMap { $0.isEmpty ? nil : $0 }, token].compactMap { $0 }.map(KeyDigest.init(key:))
    }

    public init(_ config: GatewayConfig) {
        self.init(
            requireAuth: config.requireAuthForMetrics, masterKey: config.masterKey, scraperToken: config.metricsToken)
    }

    /// Throws 401 unless the scrape may proceed. The message never echoes what was sent.
    public func check(_ headers: HTTPFields) throws(GatewayError) {
        guard required else { return }
        guard let presented = (try? Authenticator.presentedKey(headers)) ?? nil else {
            throw Self.refusal("no credentials were sent; send 'Authorization: Bearer <token>'.")
        }
        let digest = KeyDigest(key: presented)
        // Every candidate is compared, so the time taken does not say which one (if any) matched.
        let matched = accepted.map(digest.matches).contains(true)
        guard matched else { throw Self.refusal("the credentials sent are not accepted for /metrics.") }
    }

    /// LiteLLM's message prefix, OpenAI's error shape.
    static func refusal(_ reason: String) -> GatewayError {
        .authentication("Unauthorized access to metrics endpoint: \(reason)", param: "authorization")
    }
}
