import Yams

extension ConfigLoader {
    /// `model_info` keys read into the deployment (besides `id`).
    static let modelInfoKeys: Set<String> = [
        "base_model", "mode", "max_input_tokens", "max_output_tokens", "access_groups",
    ]

    /// LiteLLM's `model_info.mode` values; another is kept (it may be newer than this list) but warned
    /// about, since `/health` then cannot check the deployment.
    static let knownModes: Set<String> = [
        "chat", "completion", "embedding", "image_generation", "image_edit", "audio_transcription", "audio_speech",
        "rerank", "moderation", "batch", "responses", "realtime", "video_generation", "ocr", "search",
    ]

    /// `general_settings.health_check_interval` (seconds) and `background_health_checks`.
    func readHealthChecks(_ general: [String: Node], into settings: inout HealthCheckSettings, _ reader: inout YAMLReader) {
        if let node = general["background_health_checks"] {
            settings.background = reader.bool(node, at: "general_settings.background_health_checks") ?? false
        }
        if let node = general["health_check_interval"],
            let seconds = reader.double(node, at: "general_settings.health_check_interval")
        {
            if seconds >= 1 && seconds <= 86_400 {
                settings.interval = seconds
            } else {
                reader.error("general_settings.health_check_interval", "must be between 1 and 86400 seconds")
            }
        }
    }

    /// `base_model`, `mode`, `max_input_tokens` and `max_output_tokens` of one `model_info`.
    func readModelInfo(
        _ info: [String: Node], at path: String, into deployment: inout DeploymentConfig, _ reader: inout YAMLReader
    ) {
        deployment.baseModel = info["base_model"].flatMap { reader.string($0, at: "\(path).base_model") }
        deployment.accessGroups = info["access_groups"].flatMap { reader.stringList($0, at: "\(path).access_groups") } ?? []
        if let mode = info["mode"].flatMap({ reader.string($0, at: "\(path).mode") }) {
            deployment.mode = mode
            if !Self.knownModes.contains(mode) {
                reader.warning("\(path).mode", "unknown mode '\(mode)'; /health will skip this deployment")
            }
        }
        for (key, field) in [
            ("max_input_tokens", \DeploymentConfig.maxInputTokens), ("max_output_tokens", \DeploymentConfig.maxOutputTokens),
        ] {
            guard let node = info[key], let tokens = reader.int(node, at: "\(path).\(key)") else { continue }
            if tokens > 0 { deployment[keyPath: field] = tokens } else { reader.error("\(path).\(key)", "must be positive") }
        }
    }
}
