import Yams

extension ConfigLoader {
    static let loggingKeys: Set<String> = ["json_logs", "turn_off_message_logging"]

    /// `litellm_settings.json_logs` (also `JSON_LOGS`) and `turn_off_message_logging`, which
    /// overrules every `capture_content`: LiteLLM's callbacks then see no messages at all.
    func readLogging(
        _ litellm: [String: Node], spanway: [String: Node], into config: inout GatewayConfig, _ reader: inout YAMLReader
    ) {
        if let node = litellm["json_logs"] {
            config.jsonLogs = reader.bool(node, at: "litellm_settings.json_logs") ?? false
        }
        if let value = environment["JSON_LOGS"], ["true", "1", "yes"].contains(value.lowercased()) {
            config.jsonLogs = true
        }
        guard let node = litellm["turn_off_message_logging"],
            reader.bool(node, at: "litellm_settings.turn_off_message_logging") == true
        else { return }
        config.turnOffMessageLogging = true
        if config.captureContent {
            reader.warning(
                "spanway_settings.capture_content",
                "ignored: litellm_settings.turn_off_message_logging keeps every prompt and answer out of the sinks")
        }
        config.captureContent = false
    }
}
