/// Where a request goes when its model group has failed after its retries (LiteLLM's three
/// kinds): a prompt too long goes to `context_window_fallbacks`, a policy refusal to
/// `content_policy_fallbacks`, anything else that is the provider's fault to `fallbacks`, and
/// groups without their own entry to `default_fallbacks`.
public struct Fallbacks: Sendable, Equatable {
    public var general: [String: [String]] = [:]
    public var contextWindow: [String: [String]] = [:]
    public var contentPolicy: [String: [String]] = [:]
    public var defaults: [String] = []

    public init() {}

    /// What a client may say per request: other groups to fall back to, or none at all.
    public struct Override: Sendable, Equatable {
        public var groups: [String]?
        public var disabled = false
        /// LiteLLM's config form sent per request (`[{"gpt-4": ["gpt-3.5"]}]`): each requested
        /// group's own list, `*` for any group; narrowed to `groups` by `applying(to:requested:)`.
        public var keyed: [String: [String]]?

        /// The request's own fallbacks for `group` (asked for as `requested`). As in LiteLLM, the
        /// entry for the routed group wins, then the requested name's, then `*`; with none, the
        /// request still replaces the configured `fallbacks`, so it falls back nowhere.
        public func applying(to group: String, requested: String) -> Override {
            guard let keyed else { return self }
            var narrowed = self
            narrowed.groups = keyed[group] ?? keyed[requested] ?? keyed["*"] ?? []
            narrowed.keyed = nil
            return narrowed
        }
    }

    /// A request's fallback names resolved to the groups it may use (names it may not use, or
    /// that name no group, are absent).
    public struct Resolved: Sendable {
        public var override: Override
        public var groups: [String: String]
    }

    /// The groups to try next after `group` failed with `error`, in order.
    public func targets(after group: String, failure: Failure, override: Override) -> [String] {
        guard !override.disabled else { return [] }
        switch failure {
        case .upstream(.contextWindowExceeded): return contextWindow[group] ?? []
        case .upstream(.contentPolicy): return contentPolicy[group] ?? []
        // Failures another provider might not have: outages, limits, timeouts, refused credentials,
        // a missing model. A bad request would fail anywhere.
        default: return failure.isProvidersFault ? override.groups ?? general[group] ?? defaults : []
        }
    }

    /// Every group a request for `group` might fall back to, whatever the failure: what the budget
    /// estimate and the access check must cover.
    public func candidates(after group: String, override: Override) -> [String] {
        guard !override.disabled else { return [] }
        return (contextWindow[group] ?? []) + (contentPolicy[group] ?? []) + (override.groups ?? general[group] ?? defaults)
    }

    /// The `reason` label of `spanway_fallbacks_total`: which list was used.
    public static func reason(_ failure: Failure) -> String {
        switch failure {
        case .upstream(.contextWindowExceeded): "context_window"
        case .upstream(.contentPolicy): "content_policy"
        default: "error"
        }
    }
}
