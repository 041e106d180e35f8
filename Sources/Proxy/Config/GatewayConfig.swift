import Sinks
import Store
import Telemetry

/// The gateway's configuration, read from LiteLLM's `config.yaml` format.
public struct GatewayConfig: Sendable {
    public var deployments: [DeploymentConfig]
    public var masterKey: String?
    /// `general_settings.database_url`: the store, as `DATABASE_URL` names it; the environment
    /// variable wins when both are set. Secret (it may carry a password): never logged.
    public var databaseURL: String?
    /// `environment_variables`: set for the process before the rest is read (provider keys, sink
    /// credentials, `os.environ/NAME` references). Secrets: never logged.
    public var environmentVariables: [String: String] = [:]
    /// `litellm_settings.callbacks` (with `success_callback` and `failure_callback`), LiteLLM's names.
    public var callbacks: [String]
    /// The same names by the list that named them (`callbacks`, `success_callback`, `failure_callback`).
    public var callbackLists: [String: [String]] = [:]
    /// `router_settings.num_retries`: further attempts after a retryable upstream failure.
    public var numRetries: Int
    /// `router_settings.fallbacks`, `context_window_fallbacks`, `content_policy_fallbacks`,
    /// `default_fallbacks` (also read from `litellm_settings`, where LiteLLM accepts them too).
    public var fallbacks = Fallbacks()
    /// `router_settings.model_group_alias`: another name for a model group.
    public var modelGroupAliases: [String: String] = [:]
    /// `router_settings.enable_pre_call_checks`: skip deployments whose context window is too small.
    public var enablePreCallChecks = false
    /// `router_settings.retry_policy`: retries per kind of failure.
    public var retryPolicy = RetryPolicy()
    /// Timeouts (`router_settings.timeout`, `litellm_settings.request_timeout`, …), tag filtering
    /// and `retry_after`.
    public var routerBehaviour = RouterBehaviour()
    /// `router_settings.routing_strategy`.
    public var routingStrategy = RoutingStrategy.simpleShuffle
    /// `router_settings.allowed_fails` and `cooldown_time`.
    public var cooldowns = Cooldowns.Settings()
    /// `general_settings.max_request_size_mb`, in bytes.
    public var maxRequestBodyBytes: Int
    /// `general_settings.disable_spend_logs`: keep no ledger rows (keys and budgets still work,
    /// but spend is then not recorded, so budgets never fill).
    public var disableSpendLogs: Bool = false
    /// `spanway_settings.ledger_fsync`: `none` (the spend journal survives a crash of the process)
    /// or `interval` (also flushed to the disk once per ingested batch, for power loss).
    public var ledgerFsync = SpendJournal.Sync.none
    /// `spanway_settings.spend_logs_retention` (`30d`), in seconds: raw spend rows older than this
    /// are deleted, the daily rollups kept; nil keeps every row.
    public var spendLogsRetention: Double?
    /// How many Responses answers are kept, and for how long (`spanway_settings.responses_ttl`,
    /// `responses_max_stored`).
    public var responses = ResponseStore.Limits()
    /// `spanway_settings.pricing_file`: a price table in LiteLLM's format replacing the shipped one.
    public var pricingFile: String?
    /// Where `cl100k_base.tiktoken` and `o200k_base.tiktoken` are looked for:
    /// `spanway_settings.tokenizer_dir`, `SPANWAY_TOKENIZER_DIR`, then tiktoken's cache
    /// (`TIKTOKEN_CACHE_DIR`); without a verified file, token counts are estimates.
    public var tokenizerDirectories: [String] = []
    /// `spanway_settings.require_price`: refuse requests whose deployment has no known price
    /// (instead of answering them at a cost of 0).
    public var requirePrice = false
    /// `general_settings.require_auth_for_metrics_endpoint`: `/metrics` needs the master key
    /// (or `metricsToken`). Off by default, unlike LiteLLM, so existing scrapers keep working.
    public var requireAuthForMetrics = false
    /// `SPANWAY_METRICS_TOKEN`: a bearer token accepted for `/metrics` only; setting it closes
    /// `/metrics` to everyone else. A secret: never logged.
    public var metricsToken: String?
    /// Warnings found while loading (unknown keys and the like); errors make loading fail instead.
    public var warnings: [ConfigIssue]
    /// `spanway_settings.reasoning_content`: reasoning text goes back as `reasoning_content` for
    /// every client, not only those that send `x-spanway-reasoning-content: true`.
    public var reasoningContent = false
    /// `litellm_settings.max_budget`: USD over every request, whoever calls; nil: no such budget.
    public var proxyMaxBudget: Double?
    /// `litellm_settings.budget_duration`, in seconds: the proxy budget's period; nil: all time.
    public var proxyBudgetDuration: Double?
    /// `litellm_settings.budget_exceeded_status_code`: the status of a budget refusal.
    public var budgetExceededStatus = 422
    /// `litellm_settings.max_end_user_budget_id`: the budget tier of end users that link to none.
    public var maxEndUserBudgetID: String?
    /// `litellm_settings.drop_params`: the default for deployments that do not set their own.
    public var dropParams = false
    /// The callback sinks: LiteLLM's named callbacks, `default_team_settings` and `spanway_settings.sinks`.
    public var sinks: [SinkConfig] = []
    /// `spanway_settings.capture_content`: prompts and answers go to the sinks (redacted); a team may override.
    public var captureContent = false
    /// `litellm_settings.turn_off_message_logging`: no prompt or answer reaches any sink, whatever
    /// `capture_content` a team or sink asks for.
    public var turnOffMessageLogging = false
    /// `litellm_settings.json_logs` (or `JSON_LOGS=true`): log lines are JSON objects on stdout.
    public var jsonLogs = false
    /// `spanway_settings.redact_emails`: captured content has email addresses replaced too.
    public var redactEmails = false
    /// `default_team_settings` by team id: opt-outs and content capture (the team sinks are in `sinks`).
    public var teamTraceSettings: [String: TeamTraceSettings] = [:]
    /// The alert webhook (`general_settings.alerting` with `SLACK_WEBHOOK_URL`, or `spanway_settings.alerts`).
    public var alerts: AlertSettings?
    /// Connection cap and client timeouts (`spanway_settings.max_connections`, `…_timeout`).
    public var serverLimits = ServerLimits()
    /// `spanway_settings.allowed_egress`: CIDRs and host names that team destinations set through
    /// the admin API may use although they are loopback, private, link-local or metadata.
    public var allowedEgress: [EgressPolicy.Rule] = []
    /// `general_settings.health_check_interval` and `background_health_checks`: how long a `/health`
    /// result is reused, and whether it is refreshed on that interval without being asked.
    public var healthChecks = HealthCheckSettings()
    /// `spanway_settings.prometheus_names`: `/metrics` also under LiteLLM's names when it has `litellm`.
    public var prometheusNames: Set<PrometheusNames> = [.spanway]
    /// Redis shared by every replica, when configured; nil keeps all state in this process.
    public var sharedState: SharedStateSettings?

    public init(
        deployments: [DeploymentConfig] = [], masterKey: String? = nil, callbacks: [String] = [],
        numRetries: Int = 0, maxRequestBodyBytes: Int = 32 * 1024 * 1024, pricingFile: String? = nil,
        warnings: [ConfigIssue] = []
    ) {
        self.deployments = deployments
        self.masterKey = masterKey
        self.callbacks = callbacks
        self.numRetries = numRetries
        self.maxRequestBodyBytes = maxRequestBodyBytes
        self.pricingFile = pricingFile
        self.warnings = warnings
    }

    /// Model group names in config order, each once.
    public var modelGroups: [String] {
        var seen = Set<String>()
        return deployments.map(\.modelName).filter { seen.insert($0).inserted }
    }
}

/// One `model_list` entry: a deployment of a model group on one provider.
public struct DeploymentConfig: Sendable, Equatable {
    /// The group name clients ask for (`model_name`).
    public var modelName: String
    /// The provider prefix of `litellm_params.model` (`openai`, `mock`).
    public var provider: String
    /// The model name the provider knows (`litellm_params.model` without the prefix).
    public var model: String
    /// `model_info.id`, or a stable hash of the entry when absent.
    public var id: String
    public var apiBase: String?
    public var apiKey: String?
    public var apiVersion: String?
    public var timeout: Duration?
    /// `stream_timeout`: the time a streaming request may take to start, in place of `timeout`.
    public var streamTimeout: Duration?
    public var rpm: Int?
    public var tpm: Int?
    public var inputCostPerToken: Double?
    public var outputCostPerToken: Double?
    /// `drop_params` (per deployment, else `litellm_settings.drop_params`): OpenAI parameters the
    /// provider cannot take are dropped instead of refused.
    public var dropParams = false
    /// `weight`: this deployment's share under `simple-shuffle` (else its rpm, else tpm).
    public var weight: Double?
    /// `tags`: requests that carry tags go only to deployments sharing one (or tagged `default`).
    public var tags: [String] = []
    /// `order`: lower orders are preferred; higher ones are used only when lower ones cool down or fail.
    public var order: Int?
    /// Provider-specific `litellm_params` (`aws_region_name`, `vertex_project`, …; see
    /// `ProviderParams.names`), already resolved from `os.environ/…`. Values may be secrets.
    public var providerParams: [String: String] = [:]
    /// Every other `litellm_params` key (`temperature`, `max_tokens`, `extra_headers`, …): sent
    /// to the provider on each call, under the client's own values.
    public var defaultParams = JSONObject()
    /// The model's output limit: `model_info.max_output_tokens`, else the price table's (providers
    /// that require one per request send it).
    public var maxOutputTokens: Int?
    /// `model_info.max_input_tokens`: the context window, over the price table's (pre-call checks).
    public var maxInputTokens: Int?
    /// `model_info.base_model`: the price-table name priced and sized for this deployment (an Azure
    /// deployment's own name is not in the table).
    public var baseModel: String?
    /// `model_info.mode` (`chat`, `embedding`, …): the kind of call `/health` makes; else the price
    /// table's mode.
    public var mode: String?
    /// `spanway_settings.require_price`, copied to each deployment: a request this deployment
    /// cannot price is refused before it is sent.
    public var requirePrice = false
    /// `model_info.access_groups`: a key, team, user or organisation whose `models` names one of
    /// these may use this deployment's model group (LiteLLM's model access groups).
    public var accessGroups: [String] = []

    public init(
        modelName: String, provider: String, model: String, id: String, apiBase: String? = nil,
        apiKey: String? = nil, apiVersion: String? = nil, timeout: Duration? = nil, rpm: Int? = nil,
        tpm: Int? = nil, inputCostPerToken: Double? = nil, outputCostPerToken: Double? = nil
    ) {
        self.modelName = modelName
        self.provider = provider
        self.model = model
        self.id = id
        self.apiBase = apiBase
        self.apiKey = apiKey
        self.apiVersion = apiVersion
        self.timeout = timeout
        self.rpm = rpm
        self.tpm = tpm
        self.inputCostPerToken = inputCostPerToken
        self.outputCostPerToken = outputCostPerToken
    }
}

extension DeploymentConfig: CustomStringConvertible, CustomDebugStringConvertible {
    /// Never shows the key, nor `api_base` (which may carry credentials): configs end up in logs.
    public var description: String {
        "\(modelName) → \(provider)/\(model) [\(id)]\(apiKey == nil ? "" : " (key set)")"
    }

    public var debugDescription: String { description }
}

/// The provider-specific `litellm_params` the gateway reads (LiteLLM's names).
public enum ProviderParams {
    public static let names: Set<String> = [
        "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_region_name",
        "vertex_project", "vertex_location", "vertex_credentials",
    ]
    /// Those that are credentials: never logged, and scrubbed from upstream error messages.
    public static let secrets: Set<String> = ["aws_secret_access_key", "aws_session_token", "vertex_credentials"]
}

extension DeploymentConfig {
    /// Every credential of the deployment, for scrubbing text that leaves the gateway.
    public var secrets: [String] {
        [apiKey].compactMap { $0 } + ProviderParams.secrets.compactMap { providerParams[$0] }
            + (defaultParams["extra_headers"]?.objectValue?.members.compactMap { $0.value.stringValue } ?? [])
    }
}
