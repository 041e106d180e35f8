import Yams

extension ConfigLoader {
    /// LiteLLM settings whose absence would change what is charged or who may do what: refused
    /// while switched on, rather than ignored, so nobody runs without a guardrail, a cache or
    /// shared limits they believe they have. Switched off (false, null, empty) they are accepted.
    func refuseUnsupported(_ top: [String: Node], _ reader: inout YAMLReader) {
        let general = top["general_settings"]?.mapping.map(Self.stringKeyed) ?? [:]
        let litellm = top["litellm_settings"]?.mapping.map(Self.stringKeyed) ?? [:]
        let router = top["router_settings"]?.mapping.map(Self.stringKeyed) ?? [:]

        let guardrails =
            "guardrails are not implemented by Spanway, so requests would reach providers unchecked; remove the "
            + "section and run the guardrail in front of Spanway, or keep these models on LiteLLM"
        if let node = top["guardrails"], Self.isOn(node) { reader.error("guardrails", guardrails) }
        if let node = litellm["guardrails"], Self.isOn(node) { reader.error("litellm_settings.guardrails", guardrails) }

        let cacheOn = litellm["cache"].map(Self.isOn) ?? false
        if cacheOn {
            reader.error(
                "litellm_settings.cache",
                "response caching is not implemented by Spanway: repeated requests would reach the provider and be "
                    + "charged; set cache: false to accept that, or keep a cache in front of Spanway")
        } else if let node = litellm["cache_params"], Self.isOn(node) {
            reader.warning("litellm_settings.cache_params", "ignored: cache is not true (and Spanway has no response cache)")
        }
        if let node = router["cache_responses"], Self.isOn(node) {
            reader.error(
                "router_settings.cache_responses",
                "response caching is not implemented by Spanway: repeated requests would be charged; set it to false")
        }

        if let node = general["coordination_redis"], Self.isOn(node) {
            reader.error(
                "general_settings.coordination_redis",
                "a separate coordination Redis is not supported: remove it and set router_settings.redis_host (or "
                    + "redis_url), which every replica then shares for limits and cooldowns")
        }
    }

    private static func stringKeyed(_ mapping: Node.Mapping) -> [String: Node] {
        var result: [String: Node] = [:]
        for (key, value) in mapping {
            if let name = key.scalar?.string { result[name] = value }
        }
        return result
    }

    /// False, null and empty values switch nothing on.
    static func isOn(_ node: Node) -> Bool {
        switch node {
        case .scalar(let scalar):
            let text = scalar.string.lowercased()
            let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted
            return quoted ? !text.isEmpty : !["", "~", "null", "false", "no", "off"].contains(text)
        case .mapping(let mapping): return !mapping.isEmpty
        case .sequence(let sequence): return !sequence.isEmpty
        case .alias: return true
        }
    }
}
