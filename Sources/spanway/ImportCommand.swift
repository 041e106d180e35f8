import ArgumentParser
import Foundation
import PostgresStore
import Proxy
import Store

/// `spanway import litellm --from postgres://…`: a LiteLLM proxy's keys, teams, users,
/// organisations and spend, read into Spanway's store.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import another gateway's database into Spanway's store.",
        subcommands: [LiteLLM.self])

    struct LiteLLM: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "litellm",
            abstract: "Import a LiteLLM proxy database: virtual keys (they keep working), teams, users, organisations, spend.",
            discussion: """
                Reads the LiteLLM database in one read-only snapshot and writes into the store that \
                --database-url, else DATABASE_URL, else the --config file's general_settings.database_url \
                names (./spanway.db when none does). Running it again changes nothing; a record that already \
                exists takes LiteLLM's values. Run it before the gateway starts, or restart the gateway \
                afterwards: a running gateway keeps the records it has cached.
                """)

        @Option(name: .customLong("from"), help: "The LiteLLM proxy's DATABASE_URL (postgres://…; ?schema= is honoured).")
        var source: String
        @Option(help: "The Spanway store to import into (sqlite:PATH or postgres://…).") var databaseURL: String?
        @Option(help: "A Spanway config whose general_settings.database_url names the store.") var config: String?

        func run() async throws {
            var environment = ProcessInfo.processInfo.environment
            if let config {
                environment = GatewayBootstrap.storeEnvironment(
                    environment, config: try loadConfig(config, environment: environment))
            }
            if let databaseURL { environment["DATABASE_URL"] = databaseURL }
            var logger = makeLogger("spanway-import")
            logger.logLevel = max(logger.logLevel, .warning)
            let store: any GatewayStore
            do {
                // The store's failures arrive as errors; its client's own warnings are noise here.
                var quiet = logger
                quiet.logLevel = .error
                store = try await GatewayBootstrap.openStore(environment: environment, logger: quiet)
            } catch {
                printError("error: \(error)")
                throw ExitCode.failure
            }
            let report: LiteLLMImportReport
            do {
                let database = try await LiteLLMDatabase.connect(url: source, logger: logger)
                var importer = LiteLLMImporter(source: database, store: store)
                do {
                    report = try await importer.run()
                } catch {
                    await database.close()
                    throw error
                }
                await database.close()
                print("imported LiteLLM's database \(database.url) into the Spanway store")
            } catch {
                // The importer's errors name the server as user@host:port/database, never the password.
                printError("error: \(error)")
                if let postgres = store as? PostgresStore { await postgres.shutdown() }
                throw ExitCode.failure
            }
            if let postgres = store as? PostgresStore { await postgres.shutdown() }
            print(report.text)
        }
    }
}
