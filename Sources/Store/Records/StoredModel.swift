/// A deployment added through the admin API (`/model/new`), kept in the store so that it survives
/// restarts and reaches every replica, as LiteLLM keeps `LiteLLM_ProxyModelTable` rows with
/// `store_model_in_db`. The two JSON objects are the request's `litellm_params` and `model_info`
/// as the gateway validated them, with literal credentials sealed (never in the clear).
public struct StoredModel: Sendable, Equatable {
    /// `model_info.id`: the deployment id, unique across config and stored models.
    public var modelID: String
    /// The model group clients ask for.
    public var modelName: String
    /// `litellm_params` as a JSON object; credentials sealed or `os.environ/NAME` references.
    public var litellmParams: String
    /// `model_info` as a JSON object (`id` included).
    public var modelInfo: String
    public var createdAt: Double
    public var updatedAt: Double

    public init(
        modelID: String, modelName: String, litellmParams: String, modelInfo: String, createdAt: Double,
        updatedAt: Double
    ) {
        self.modelID = modelID
        self.modelName = modelName
        self.litellmParams = litellmParams
        self.modelInfo = modelInfo
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
