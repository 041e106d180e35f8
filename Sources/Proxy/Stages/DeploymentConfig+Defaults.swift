import Telemetry

extension DeploymentConfig {
    /// LiteLLM merges the client's parameters over the deployment's `litellm_params`: a default
    /// reaches the provider only where the client sent no value of its own. `extra_headers` are
    /// headers, not body fields (`defaultHeaders`).
    func applyingDefaults(to body: JSONObject) -> JSONObject {
        var merged = body
        for (key, value) in defaultParams.members where key != "extra_headers" && body[key] == nil {
            merged[key] = value
        }
        return merged
    }

    /// `extra_headers` from `litellm_params`: set on every upstream request of the deployment.
    var defaultHeaders: [(String, String)] {
        (defaultParams["extra_headers"]?.objectValue?.members ?? []).compactMap { member in
            member.value.stringValue.map { (member.key, $0) }
        }
    }

    /// Sets `defaultHeaders` on `request` (an API-management key, an OpenAI project): every call
    /// to the deployment carries them, model calls, probes, counts and deletes alike.
    func addingDefaultHeaders(to request: inout UpstreamRequest) {
        for (name, value) in defaultHeaders { request.headers.replaceOrAdd(name: name, value: value) }
    }
}
