/// Where and when operational alerts go: one Slack-compatible webhook (`{"text": …}`).
public struct AlertSettings: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// A key's soft budget was crossed (LiteLLM's `budget_alerts`).
        case budget = "budget_alerts"
        /// A deployment went into cooldown or came back (LiteLLM's `cooldown_deployment`).
        case cooldown = "cooldown_deployment"
        /// A sink has failed to deliver for longer than `sinkFailureSeconds`, and when it recovers.
        case sinkFailure = "sink_failure"
    }

    /// May carry a token in its path (Slack's do): never logged.
    public var webhookURL: String
    public var kinds: Set<Kind>
    public var sinkFailureSeconds: Double

    public init(webhookURL: String, kinds: Set<Kind> = Set(Kind.allCases), sinkFailureSeconds: Double = 60) {
        self.webhookURL = webhookURL
        self.kinds = kinds
        self.sinkFailureSeconds = sinkFailureSeconds
    }
}
