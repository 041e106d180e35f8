/// The naming schemes `/metrics` can use (`spanway_settings.prometheus_names`). Spanway's own
/// names are always there; `litellm` adds LiteLLM's series beside them (see `LiteLLMMetrics`).
public enum PrometheusNames: String, Sendable, CaseIterable, Hashable {
    case spanway
    case litellm
}
