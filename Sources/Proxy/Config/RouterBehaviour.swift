/// The router settings that shape each request's attempts beyond the deployment list (LiteLLM's
/// names and defaults): where an attempt's timeout comes from, whether tags filter deployments,
/// and the least wait before a retry.
public struct RouterBehaviour: Sendable, Equatable {
    /// `litellm_settings.request_timeout`.
    public var requestTimeout: Duration?
    /// `router_settings.timeout`.
    public var timeout: Duration?
    /// `router_settings.stream_timeout`.
    public var streamTimeout: Duration?
    /// `router_settings.enable_tag_filtering`: only then do a request's tags choose deployments.
    public var enableTagFiltering = false
    /// `router_settings.tag_filtering_match_any`: a deployment needs one of the request's tags
    /// (true, the default) or all of them.
    public var tagFilteringMatchAny = true
    /// `router_settings.retry_after`: the least wait before a retry.
    public var retryAfter: Duration?

    /// LiteLLM's timeout when nothing sets one (its `REQUEST_TIMEOUT` default).
    public static let defaultTimeout: Duration = .seconds(6000)
    /// LiteLLM's `num_retries` when neither `router_settings` nor `litellm_settings` sets it.
    public static let defaultNumRetries = 2

    public init() {}
}
