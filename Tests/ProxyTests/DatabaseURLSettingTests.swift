import AsyncHTTPClient
import Foundation
import Logging
import Testing

@testable import Proxy

/// `general_settings.database_url` (LiteLLM's place for the PostgreSQL URL) names the store like
/// `DATABASE_URL`; the environment variable wins when both are set.
@Suite struct DatabaseURLSettingTests {
    let yaml = """
        model_list: []
        general_settings: {database_url: os.environ/PG_URL}
        """

    @Test func theSettingIsReadWithoutWarningsAndNeverEchoed() throws {
        let loader = ConfigLoader(environment: ["PG_URL": "postgresql://u:pw-secret@db:5432/litellm"], knownProviders: [])
        let (config, issues) = loader.check(yaml: yaml)
        #expect(config?.databaseURL == "postgresql://u:pw-secret@db:5432/litellm")
        #expect(!issues.contains { $0.path.contains("database_url") }, "\(issues)")
        #expect(!issues.contains { $0.message.contains("pw-secret") })
    }

    @Test func theEnvironmentWinsOverTheSetting() throws {
        let config = try ConfigLoader(environment: ["PG_URL": "postgres://u@config/db"], knownProviders: []).load(yaml: yaml)
        let fromConfig = GatewayBootstrap.storeEnvironment(["OTHER": "1"], config: config)
        #expect(fromConfig == ["OTHER": "1", "DATABASE_URL": "postgres://u@config/db"])
        let fromEnvironment = GatewayBootstrap.storeEnvironment(["DATABASE_URL": "sqlite:/tmp/x.db"], config: config)
        #expect(fromEnvironment == ["DATABASE_URL": "sqlite:/tmp/x.db"])
        // An empty variable counts as unset, as everywhere else DATABASE_URL is read.
        #expect(
            GatewayBootstrap.storeEnvironment(["DATABASE_URL": ""], config: config)["DATABASE_URL"] == "postgres://u@config/db")
    }

    /// `spanway serve` opens the store before the gateway: a SQLite store keeps its spend journal
    /// beside its file, so answers wait for one `write()` rather than a database transaction.
    @Test func aSQLiteStoreOpenedForServeKeepsItsJournalBesideIt() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString).db").path
        let config = try ConfigLoader(environment: [:], knownProviders: []).load(yaml: "model_list: []\n")
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        var bootstrap = GatewayBootstrap(
            config: config, environment: ["DATABASE_URL": "sqlite:\(path)"], httpClient: client, logger: Logger(label: "test"))
        try await bootstrap.openStore()
        #expect(bootstrap.journalDirectory == path + ".spend-journal")
        try await client.shutdown()
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Without a running server the PostgreSQL URL still opens nothing else: a clear error that
    /// names the server but not the password.
    @Test(.timeLimit(.minutes(1)))
    func anUnreachablePostgreSQLServerIsAClearErrorWithoutThePassword() async throws {
        do {
            _ = try await GatewayBootstrap.openStore(
                environment: ["DATABASE_URL": "postgresql://ada:pw-secret@127.0.0.1:1/spend?sslmode=disable"])
            Issue.record("opened a store on port 1")
        } catch {
            #expect(error.description.contains("ada@127.0.0.1:1/spend"), "\(error)")
            #expect(!error.description.contains("pw-secret"))
        }
    }
}
