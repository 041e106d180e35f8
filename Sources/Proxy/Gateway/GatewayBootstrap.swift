import AsyncHTTPClient
import Logging
import PostgresStore
import Redis
import Sinks
import Store
import Telemetry

/// Builds a running gateway from a config: prices, deployments, and the sinks the config and
/// the `OTEL_*` environment ask for.
public struct GatewayBootstrap: Sendable {
    public static let version = "0.1.0"

    public var config: GatewayConfig
    public var environment: [String: String]
    public var httpClient: HTTPClient
    public var mockUpstream: MockUpstream
    /// The store for keys and spend; opened from `DATABASE_URL` when not given.
    public var store: (any GatewayStore)?
    /// Where the spend journal lives; when nil and the store is opened from `DATABASE_URL`, beside
    /// the SQLite file (`<file>.spend-journal`). Without one, every answer waits for its row's
    /// store transaction.
    public var journalDirectory: String?
    public var pipelineConfiguration: PipelineConfiguration
    public var logger: Logger
    /// The time the gateway's decisions read (limits, cooldowns, budgets, key expiry).
    public var clock: any GatewayClock

    /// The upstream client a gateway should own: a refused connection fails at once (the router,
    /// not the pool, decides what to try next), and the per-host pool is sized for a gateway,
    /// not AsyncHTTPClient's default of 8 connections.
    public static func makeHTTPClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .seconds(5)
        // A deployment's `timeout` bounds the wait for the response head; this bounds a stall
        // between bytes after it (a stream that stops mid-answer), so nothing hangs forever.
        configuration.timeout.read = .seconds(600)
        configuration.connectionPool.retryConnectionEstablishment = false
        // LLM answers take seconds and streams minutes: a gateway holds thousands of them open to
        // one provider at once, and a request waiting for a pooled connection past the connect
        // timeout fails. (The process raises its descriptor limit at start.)
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 8192
        configuration.connectionPool.idleTimeout = .seconds(60)
        configuration.decompression = .disabled
        // Following a redirect would re-send provider and sink credentials (`api-key`,
        // `x-api-key`, `x-goog-api-key`, sink headers) to wherever the answer points. A 3xx is
        // an upstream error or a failed delivery instead.
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public init(
        config: GatewayConfig, environment: [String: String], httpClient: HTTPClient,
        mockUpstream: MockUpstream = MockUpstream(), store: (any GatewayStore)? = nil, journalDirectory: String? = nil,
        pipelineConfiguration: PipelineConfiguration? = nil, logger: Logger, clock: any GatewayClock = SystemClock()
    ) {
        self.clock = clock
        self.store = store
        self.journalDirectory = journalDirectory
        self.config = config
        self.environment = environment
        self.httpClient = httpClient
        self.mockUpstream = mockUpstream
        self.pipelineConfiguration = pipelineConfiguration ?? Self.pipelineConfiguration(environment)
        self.logger = logger
    }

    public enum BootstrapError: Error, CustomStringConvertible {
        case priceTable(String)
        case store(String)
        case sink(String)
        case sharedState(String)
        public var description: String {
            switch self {
            case .priceTable(let reason), .store(let reason), .sink(let reason), .sharedState(let reason): reason
            }
        }
    }

    /// `DATABASE_URL`: unset means SQLite at `./spanway.db`; `sqlite:PATH` names the file;
    /// `postgres://` or `postgresql://` names a PostgreSQL database (opened by the async `openStore`).
    /// Messages never repeat the URL, which may carry a password.
    public static func databasePath(environment: [String: String]) throws(BootstrapError) -> String {
        let url = environment["DATABASE_URL"] ?? ""
        if url.isEmpty { return "spanway.db" }
        if url.hasPrefix("sqlite:") {
            // `sqlite:PATH`, or URL-style `sqlite://PATH` (so `sqlite:///abs/file.db` is absolute).
            var rest = url.dropFirst("sqlite:".count)
            if rest.hasPrefix("//") { rest = rest.dropFirst(2) }
            return String(rest)
        }
        if isPostgres(url) {
            throw .store("DATABASE_URL names PostgreSQL, which opens asynchronously: call openStore() before makeGateway().")
        }
        throw .store("DATABASE_URL must be sqlite:PATH, postgres://… (or unset for ./spanway.db).")
    }

    static func isPostgres(_ url: String) -> Bool {
        url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")
    }

    /// The environment with `DATABASE_URL` set from `general_settings.database_url` when the
    /// environment has none: the environment wins, so one config file can be pointed at another
    /// database per deployment without editing it.
    public static func storeEnvironment(_ environment: [String: String], config: GatewayConfig) -> [String: String] {
        var environment = environment
        if environment["DATABASE_URL"] ?? "" == "", let url = config.databaseURL, !url.isEmpty {
            environment["DATABASE_URL"] = url
        }
        return environment
    }

    /// The store `DATABASE_URL` names: SQLite, or PostgreSQL (migrated, its client running until
    /// the process ends).
    public static func openStore(
        environment: [String: String], logger: Logger = Logger(label: "spanway.store")
    ) async throws(BootstrapError) -> any GatewayStore {
        let url = environment["DATABASE_URL"] ?? ""
        guard isPostgres(url) else { return try openSQLiteStore(environment: environment) }
        do {
            return try await PostgresStore.connect(url: url, logger: logger)
        } catch let error as PostgresStoreError {
            // Its messages name user@host:port/database, never the password.
            throw .store("cannot open the PostgreSQL database: \(error)")
        } catch {
            throw .store("cannot open the PostgreSQL database")
        }
    }

    static func openSQLiteStore(environment: [String: String]) throws(BootstrapError) -> any GatewayStore {
        let path = try databasePath(environment: environment)
        do {
            return try SQLiteStore(path: path)
        } catch {
            throw .store("cannot open the SQLite database at \(path): \(error)")
        }
    }

    /// Opens the store `DATABASE_URL` (or `general_settings.database_url`) names, unless one was
    /// given; PostgreSQL needs this before `makeGateway()`. Unless `journalDirectory` is set, the
    /// spend journal sits beside a SQLite file, and is per replica for PostgreSQL:
    /// `./spanway.spend-journal`.
    public mutating func openStore() async throws(BootstrapError) {
        guard store == nil else { return }
        let environment = Self.storeEnvironment(environment, config: config)
        store = try await Self.openStore(environment: environment, logger: logger)
        if journalDirectory == nil {
            let url = environment["DATABASE_URL"] ?? ""
            journalDirectory =
                Self.isPostgres(url)
                ? "spanway.spend-journal" : try Self.databasePath(environment: environment) + ".spend-journal"
        }
    }

    public func makeGateway() throws(BootstrapError) -> Gateway {
        let priceBook = try loadPriceBook()
        let network = HTTPTransport(client: httpClient)
        let mock = MockTransport(upstream: mockUpstream)
        // Config entries and models added through the admin API are made ready the same way.
        let deploymentFactory = DeploymentFactory(
            config: config, environment: environment, priceBook: priceBook, network: network, mock: mock, logger: logger)
        let deployments = config.deployments.compactMap(deploymentFactory.make)

        let prometheus = PrometheusSink(
            litellm: config.prometheusNames.contains(.litellm)
                ? LiteLLMMetrics(
                    deployments: deployments.map(LiteLLMMetrics.Deployment.init)) : nil)
        let fallbacks = config.fallbacks
        prometheus.declare(
            modelGroups: config.modelGroups, fallbacks: fallbacks.general, contextWindow: fallbacks.contextWindow,
            contentPolicy: fallbacks.contentPolicy, defaults: fallbacks.defaults)
        let pipeline = Pipeline(observers: [prometheus], configuration: pipelineConfiguration)
        let wantsOTLP = config.callbacks.contains { SinkConfig.Kind(callbackName: $0) == .otel }
        let otlp = OTLPConfiguration.fromEnvironment(environment, enabled: wantsOTLP, serviceVersion: Self.version)
        if let otlp {
            pipeline.add(OTLPExporter(configuration: otlp, client: httpClient, serviceVersion: Self.version, logger: logger))
            logger.info("exporting traces over OTLP/HTTP", metadata: ["gzip": "\(otlp.gzip)"])
        }
        let factory = SinkFactory(
            client: httpClient, serviceVersion: Self.version,
            resource: otlp?.resource ?? OTLPConfiguration.resource(environment, serviceVersion: Self.version), logger: logger)
        for sink in config.sinks {
            do {
                if !pipeline.add(try factory.exporter(for: sink), route: sink.route, sampledOnly: sink.kind.followsSampling) {
                    throw BootstrapError.sink("two sinks are named '\(sink.name)'")
                }
                logger.info("sending telemetry", metadata: ["sink": "\(sink.name)", "type": "\(sink.kind.rawValue)"])
            } catch let error as SinkFactory.Failure {
                throw BootstrapError.sink(error.description)
            } catch {
                throw BootstrapError.sink("\(error)")
            }
        }
        let (sampler, samplerProblem) = Sampler.fromEnvironment(environment)
        if let samplerProblem { logger.warning("\(samplerProblem)") }
        if config.masterKey == nil {
            logger.warning(
                "NO MASTER KEY IS CONFIGURED: the gateway accepts every request without authentication. Set general_settings.master_key or SPANWAY_MASTER_KEY."
            )
        }
        let store: any GatewayStore
        var journalDirectory = self.journalDirectory
        if let given = self.store {
            store = given
        } else {
            let environment = Self.storeEnvironment(environment, config: config)
            store = try Self.openSQLiteStore(environment: environment)
            if journalDirectory == nil { journalDirectory = try Self.databasePath(environment: environment) + ".spend-journal" }
        }
        var journal: SpendJournal?
        if let journalDirectory, !config.disableSpendLogs {
            do {
                journal = try SpendJournal(directory: journalDirectory, sync: config.ledgerFsync)
            } catch {
                throw .store(error.description)
            }
        }
        var redis: RedisClient?
        if let settings = config.sharedState {
            do throws(RedisError) {
                redis = RedisClient(configuration: try RedisConfiguration(url: settings.url), logger: logger)
            } catch {
                throw .sharedState("router_settings Redis: \(error.message)")
            }
        }
        return Gateway(
            config: config, deployments: deployments, pipeline: pipeline, prometheus: prometheus,
            store: store, journal: journal, logger: logger, priceBook: priceBook, sampler: sampler, sinkFactory: factory,
            redis: redis, clock: clock, deploymentFactory: deploymentFactory)
    }

    /// Traces only, to the OTLP endpoint the standard variables name; nil without one. For a
    /// client of a gateway elsewhere (`spanway eval --url`) that sends its own spans.
    public static func tracePipeline(environment: [String: String], httpClient: HTTPClient, logger: Logger) -> Pipeline? {
        guard let otlp = OTLPConfiguration.fromEnvironment(environment, enabled: false, serviceVersion: version) else {
            return nil
        }
        let pipeline = Pipeline(configuration: pipelineConfiguration(environment))
        pipeline.add(OTLPExporter(configuration: otlp, client: httpClient, serviceVersion: version, logger: logger))
        return pipeline
    }

    func loadPriceBook() throws(BootstrapError) -> PriceBook {
        if let path = config.pricingFile {
            do {
                return try PriceBook(contentsOfFile: path)
            } catch {
                throw .priceTable(error.description)
            }
        }
        guard let bundled = PriceBook.bundled else {
            logger.warning("the shipped price table was not found beside the binary; costs are 0 unless configured")
            return PriceBook()
        }
        return bundled
    }

    /// `OTEL_BSP_*` batch settings; the schedule delay defaults to 1 s (the SDK's 5 s is long for a gateway).
    static func pipelineConfiguration(_ env: [String: String]) -> PipelineConfiguration {
        var configuration = PipelineConfiguration()
        if let size = env["OTEL_BSP_MAX_QUEUE_SIZE"].flatMap(Int.init), size > 0 { configuration.queueCapacity = size }
        if let batch = env["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"].flatMap(Int.init), batch > 0 {
            configuration.maxBatchSize = batch
        }
        if let delay = env["OTEL_BSP_SCHEDULE_DELAY"].flatMap(Int.init), delay >= 0 {
            configuration.scheduleDelay = .milliseconds(delay)
        }
        return configuration
    }
}
